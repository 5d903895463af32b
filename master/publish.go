package master

import (
	"errors"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/transport/wire"
)

// wrapPublication is the publisher's transform: a clear publication load
// pushed to publish_pull.ipc becomes what goes out on the publish port. It
// numbers the load (serial, per AES key: the minions' replay guard),
// encrypts it under the current AES key and, with sign_pub_messages, signs
// the ciphertext.
func (m *Master) wrapPublication(msg [][]byte) ([][][]byte, error) {
	if len(msg) != 1 {
		return nil, errors.New("master: a publication load is one frame")
	}
	load, err := wire.UnmarshalMap(msg[0])
	if err != nil {
		return nil, err
	}
	cur := m.aes.current()
	load["serial"] = cur.serial.Add(1)
	payload, err := wire.Marshal(load)
	if err != nil {
		return nil, err
	}
	sealed, err := cur.c.Seal(m.rand, "", payload)
	if err != nil {
		return nil, err
	}
	pub := &wire.Publication{Load: sealed}
	if m.cfg.SignPubMessages {
		if pub.Sig, err = crypto.Sign(m.priv, m.pubSigAlgo, sealed); err != nil {
			return nil, err
		}
		pub.SigAlgo = string(m.pubSigAlgo)
	}
	body, err := pub.Marshal()
	if err != nil {
		return nil, err
	}
	return [][][]byte{{body}}, nil
}

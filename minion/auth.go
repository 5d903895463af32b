package minion

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/brine-project/brine/crypto"
	"github.com/brine-project/brine/transport/wire"
)

// Outcomes of an _auth request other than acceptance.
var (
	ErrPending   = errors.New("minion: the master has our key pending; accept it with brine-key -a")
	ErrRejected  = errors.New("minion: the master rejected our key (rejected or denied on the master)")
	ErrFull      = errors.New("minion: the master is full (max_minions or max_pending_keys)")
	ErrMasterKey = errors.New("minion: the master's public key has changed")
)

// RetryLaterError is the master's answer to an _auth it had no time for
// (its auth requests were queueing): come back After, which does not count
// as a failed try.
type RetryLaterError struct{ After time.Duration }

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("minion: the master is busy authenticating others; retrying in %v", e.After)
}

// creds is what an accepted authentication gives the minion.
type creds struct {
	aes       *crypto.Crypticle // master AES key: publications
	aesKey    string
	serials   *crypto.SerialGuard // publication replay guard, per AES key
	session   *crypto.Crypticle   // session key: our requests and their replies
	masterPub *rsa.PublicKey
}

// authenticate sends one _auth request and checks the answer as Salt's
// minion does: the master key (trusted on first use, then compared), the
// X9.31 signature of the AES key, the echo of our token, the signature of
// the whole reply and its nonce.
func (m *Minion) authenticate(ctx context.Context) (*creds, error) {
	masterPath := filepath.Join(m.cfg.PKIDir, "minion_master.pub")
	stored, err := os.ReadFile(masterPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var storedPub *rsa.PublicKey
	if stored != nil {
		if storedPub, err = crypto.ParsePublicKey(stored); err != nil {
			return nil, fmt.Errorf("minion: %s: %w", masterPath, err)
		}
	}

	nonce := newNonce(m.rand)
	load := wire.Map{
		{Key: "cmd", Value: "_auth"},
		{Key: "id", Value: m.cfg.ID},
		{Key: "nonce", Value: nonce},
		{Key: "enc_algo", Value: string(m.encAlgo)},
		{Key: "sig_algo", Value: string(m.sigAlgo)},
	}
	if storedPub != nil {
		// The token proves the master can read what we encrypt to the key
		// we trust; only sent once we have that key.
		ct, err := crypto.Encrypt(m.rand, storedPub, m.encAlgo, []byte(m.token))
		if err != nil {
			return nil, err
		}
		load = append(load, wire.Field{Key: "token", Value: ct})
	}
	load = append(load, wire.Field{Key: "pub", Value: m.pubPEM})
	req, err := (&wire.Request{Enc: "clear", Load: load, Version: 3}).Marshal()
	if err != nil {
		return nil, err
	}
	raw, err := m.req.RequestTries(ctx, req, m.authTimeout, m.cfg.AuthTries)
	if err != nil {
		return nil, fmt.Errorf("minion: _auth: %w", err)
	}

	signed, err := wire.DecodeSignedReply(raw)
	if err != nil {
		// Unsigned answers: bad algorithm, or an old master.
		if v, err2 := wire.UnmarshalMap(raw); err2 == nil {
			if inner, ok := v["load"].(map[string]any); ok {
				return nil, fmt.Errorf("minion: the master refused authentication: %v", inner["ret"])
			}
		}
		return nil, fmt.Errorf("minion: unreadable _auth reply: %w", err)
	}
	inner, err := wire.UnmarshalMap(signed.Load)
	if err != nil {
		return nil, fmt.Errorf("minion: unreadable _auth reply load: %w", err)
	}
	if got, _ := wire.OptString(inner, "nonce"); got != nonce {
		return nil, errors.New("minion: the _auth reply does not carry our nonce")
	}

	enc, _ := wire.OptString(inner, "enc")
	if enc != "pub" {
		// Not accepted. Before we know the master's key (the first pending
		// reply) there is nothing to check the signature with.
		if storedPub != nil {
			if err := crypto.Verify(storedPub, m.sigAlgo, signed.Load, signed.Sig); err != nil {
				return nil, fmt.Errorf("minion: the _auth reply's signature does not verify: %w", err)
			}
		}
		switch ret := inner["ret"]; ret {
		case true:
			return nil, ErrPending
		case "full":
			return nil, ErrFull
		case "retry":
			after, _ := wire.Int(inner, "retry_after")
			return nil, &RetryLaterError{After: time.Duration(max(1, after)) * time.Second}
		case false:
			return nil, ErrRejected
		default:
			return nil, fmt.Errorf("minion: the master answered _auth with %v", ret)
		}
	}

	pubText, err := wire.String(inner, "pub_key")
	if err != nil {
		return nil, fmt.Errorf("minion: _auth reply: %w", err)
	}
	masterPub, err := crypto.ParsePublicKey([]byte(pubText))
	if err != nil {
		return nil, fmt.Errorf("minion: the master's public key: %w", err)
	}
	if stored != nil && crypto.CleanKey(stored) != crypto.CleanKey([]byte(pubText)) {
		return nil, fmt.Errorf("%w: the key it sent differs from %s; if the master was rebuilt, delete that file and restart the minion", ErrMasterKey, masterPath)
	}
	if err := crypto.Verify(masterPub, m.sigAlgo, signed.Load, signed.Sig); err != nil {
		return nil, fmt.Errorf("minion: the _auth reply's signature does not verify: %w", err)
	}

	aesCT, err := wire.Bytes(inner, "aes")
	if err != nil {
		return nil, fmt.Errorf("minion: _auth reply: %w", err)
	}
	aesKey, err := crypto.Decrypt(m.priv, m.encAlgo, aesCT)
	if err != nil {
		return nil, fmt.Errorf("minion: decrypting the AES key: %w", err)
	}
	sig, err := wire.Bytes(inner, "sig")
	if err != nil {
		return nil, fmt.Errorf("minion: _auth reply: %w", err)
	}
	digest, err := crypto.VerifyX931(masterPub, sig)
	sum := sha256.Sum256(aesKey)
	if err != nil || string(digest) != hex.EncodeToString(sum[:]) {
		return nil, errors.New("minion: the AES key's signature does not verify: the master may be an impostor")
	}
	// auth_mode 2 appends our token to the key.
	key, echoed, mode2 := strings.Cut(string(aesKey), "_|-")
	if mode2 && echoed != m.token {
		return nil, errors.New("minion: the master did not echo our token")
	}
	if storedPub != nil && !mode2 {
		ct, err := wire.Bytes(inner, "token")
		if err != nil {
			return nil, errors.New("minion: the master did not echo our token")
		}
		tok, err := crypto.Decrypt(m.priv, m.encAlgo, ct)
		if err != nil || string(tok) != m.token {
			return nil, errors.New("minion: the master's token echo does not match")
		}
	}
	sessCT, err := wire.Bytes(inner, "session")
	if err != nil {
		return nil, fmt.Errorf("minion: _auth reply: %w", err)
	}
	sessKey, err := crypto.Decrypt(m.priv, m.encAlgo, sessCT)
	if err != nil {
		return nil, fmt.Errorf("minion: decrypting the session key: %w", err)
	}
	// Only now that every check passed may the key be trusted and stored.
	if err := m.verifyMaster(masterPath, stored, pubText, inner); err != nil {
		return nil, err
	}
	c := &creds{masterPub: masterPub, aesKey: key, serials: &crypto.SerialGuard{}}
	if c.aes, err = crypto.NewCrypticle(key); err != nil {
		return nil, fmt.Errorf("minion: the AES key: %w", err)
	}
	if c.session, err = crypto.NewCrypticle(string(sessKey)); err != nil {
		return nil, fmt.Errorf("minion: the session key: %w", err)
	}
	return c, nil
}

// verifyMaster trusts the master's key on first use (writing
// minion_master.pub; the caller has compared it with a stored one); with
// master_finger it must have that fingerprint, and with
// verify_master_pubkey_sign its pub_sig must verify with master_sign.pub.
func (m *Minion) verifyMaster(path string, stored []byte, pubText string, inner map[string]any) error {
	clean := crypto.CleanKey([]byte(pubText))
	if m.cfg.MasterFinger != "" {
		fp, err := crypto.Fingerprint([]byte(clean), m.cfg.HashType)
		if err != nil || fp != m.cfg.MasterFinger {
			return fmt.Errorf("%w: its fingerprint %s is not master_finger %s", ErrMasterKey, fp, m.cfg.MasterFinger)
		}
	}
	if m.cfg.VerifyMasterPubkeySign {
		signPath := filepath.Join(m.cfg.PKIDir, m.cfg.MasterSignKeyName+".pub")
		signPub, err := crypto.ReadPublicKey(signPath)
		if err != nil {
			return fmt.Errorf("minion: verify_master_pubkey_sign: %w", err)
		}
		pubSig, err := wire.String(inner, "pub_sig")
		if err != nil {
			return fmt.Errorf("minion: verify_master_pubkey_sign: the master sent no pub_sig")
		}
		sig, err := decodeBase64(pubSig)
		if err == nil {
			err = crypto.Verify(signPub, m.sigAlgo, []byte(clean), sig)
		}
		if err != nil {
			return fmt.Errorf("minion: the master's pub_sig does not verify with %s: %w", signPath, err)
		}
	}
	if stored == nil {
		m.log.Info("minion: trusting the master's key on first use", "path", path)
		return writeFileAtomic(path, []byte(clean), 0o644)
	}
	return nil
}

package crypto_test

import (
	"crypto/rand"
	"fmt"

	"github.com/brine-project/brine/crypto"
)

// A master replies to a minion's encrypted request under the minion's
// session key, echoing the request's nonce; the minion opens the reply only
// if the nonce is its own.
func ExampleCrypticle_Seal() {
	session, _ := crypto.GenerateCrypticleKey(rand.Reader)
	c, _ := crypto.NewCrypticle(session)
	nonce := "440ad92623684768bd15bee00c3889c6" // the request's load["nonce"]

	blob, _ := c.Seal(rand.Reader, nonce, []byte{0xc0}) // msgpack nil
	payload, err := c.Open(blob, nonce)
	fmt.Printf("% x %v\n", payload, err)

	_, err = c.Open(blob, "00000000000000000000000000000000")
	fmt.Println(err)
	// Output:
	// c0 <nil>
	// crypto: nonce mismatch
}

// A minion's tok is the X9.31 "signature" of "salt" with its key; the
// master opens it with the key it accepted for that minion.
func ExampleVerifyX931() {
	minion, _ := crypto.ReadPrivateKey("testdata/rsa2048.pem")
	tok, _ := crypto.SignX931(rand.Reader, minion, []byte("salt"))

	msg, err := crypto.VerifyX931(&minion.PublicKey, tok)
	fmt.Println(string(msg), err)
	// Output: salt <nil>
}

//go:build ignore

// gen writes testdata/rsa2048.pem, the throwaway key of this package's unit
// tests, fuzz targets and benchmarks: a fixed key keeps test runs fast and
// fuzz corpora meaningful across runs. It refuses to overwrite the key.
// Run from the crypto directory:
//
//	go run testdata/gen.go
//
// The key is not reproducible from a seed: since Go 1.26 crypto/rsa draws
// from its own secure source whatever reader it is given.
package main

import (
	"crypto/rand"
	"log"

	"github.com/brine-project/brine/crypto"
)

func main() {
	k, err := crypto.GenerateKey(rand.Reader, crypto.DefaultKeySize)
	if err != nil {
		log.Fatal(err)
	}
	if err := crypto.WritePrivateKey("testdata/rsa2048.pem", k); err != nil {
		log.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/brine-project/brine/master/pki"
)

// setup writes a master config rooted in a temp dir and a key store with
// keys in each state.
func setup(t *testing.T) (string, *pki.Store) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "etc")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "master"), []byte("root_dir: "+root+"\n"), 0o644)
	store, err := pki.Open(filepath.Join(root, "etc/brine/pki/master"))
	if err != nil {
		t.Fatal(err)
	}
	key := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----"
	for id, st := range map[string]pki.State{"acc-1": pki.Accepted, "pre-1": pki.Pending, "pre-2": pki.Pending, "rej-1": pki.Rejected, "den-1": pki.Denied} {
		if err := store.Put(st, id, key); err != nil {
			t.Fatal(err)
		}
	}
	return dir, store
}

func keyRun(t *testing.T, dir, stdin string, o options) (string, error) {
	t.Helper()
	o.configDir = dir
	if o.out == "" {
		o.out = "txt"
	}
	if o.listStates == nil {
		o.listStates = pki.States
	}
	var out, errOut bytes.Buffer
	err := runKey(context.Background(), o, stdio{in: strings.NewReader(stdin), out: &out, err: &errOut})
	return out.String(), err
}

func TestList(t *testing.T) {
	dir, _ := setup(t)
	out, err := keyRun(t, dir, "", options{act: actList, pattern: "*"})
	want := "Accepted Keys:\nacc-1\nDenied Keys:\nden-1\nUnaccepted Keys:\npre-1\npre-2\nRejected Keys:\nrej-1\n"
	if err != nil || out != want {
		t.Fatalf("-L:\n%s\nwant:\n%s (%v)", out, want, err)
	}
	out, _ = keyRun(t, dir, "", options{act: actList, pattern: "*", out: "json"})
	var doc map[string][]string
	if err := json.Unmarshal([]byte(out), &doc); err != nil || fmt.Sprint(doc["minions_pre"]) != "[pre-1 pre-2]" || fmt.Sprint(doc["minions"]) != "[acc-1]" {
		t.Fatalf("--out json: %s %v", out, err)
	}
	out, _ = keyRun(t, dir, "", options{act: actList, pattern: "*", listStates: []pki.State{pki.Rejected}})
	if out != "Rejected Keys:\nrej-1\n" {
		t.Fatalf("-l rej: %q", out)
	}
	out, _ = keyRun(t, dir, "", options{act: actList, pattern: "*", out: "yaml", listStates: []pki.State{pki.Accepted}})
	if out != "minions:\n  - acc-1\n" {
		t.Fatalf("--out yaml: %q", out)
	}
}

func TestAcceptRejectDelete(t *testing.T) {
	dir, store := setup(t)
	// Declining the prompt changes nothing.
	out, err := keyRun(t, dir, "n\n", options{act: actAccept, pattern: "pre-*"})
	if err != nil || !strings.Contains(out, "The following keys are going to be accepted:") || !strings.Contains(out, "Proceed? [n/Y]") {
		t.Fatalf("prompt: %q %v", out, err)
	}
	if ids, _ := store.List(pki.Pending); len(ids) != 2 {
		t.Fatal("declined, yet keys moved")
	}
	// Enter takes the default, yes, for an accept.
	out, err = keyRun(t, dir, "\n", options{act: actAccept, pattern: "pre-1"})
	if err != nil || !strings.Contains(out, "Key for minion pre-1 accepted.") {
		t.Fatalf("accept: %q %v", out, err)
	}
	if _, err := store.Get(pki.Accepted, "pre-1"); err != nil {
		t.Fatal(err)
	}
	// A rejected key is accepted only with --include-rejected.
	if _, err := keyRun(t, dir, "", options{act: actAccept, pattern: "rej-1", yes: true}); err == nil || !strings.Contains(err.Error(), `does not match any unaccepted keys`) {
		t.Fatalf("accepting a rejected key without --include-rejected: %v", err)
	}
	if _, err := keyRun(t, dir, "", options{act: actAccept, pattern: "rej-1", yes: true, includeRejected: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := keyRun(t, dir, "", options{act: actReject, pattern: "pre-2", yes: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Get(pki.Rejected, "pre-2"); err != nil {
		t.Fatal("pre-2 was not rejected")
	}
	// Deleting asks, defaulting to no, and drops the AES rotation file.
	if out, _ := keyRun(t, dir, "\n", options{act: actDelete, pattern: "*"}); !strings.Contains(out, "Proceed? [N/y]") {
		t.Fatalf("delete prompt: %q", out)
	}
	os.MkdirAll(filepath.Join(filepath.Dir(dir), "var/cache/brine/master"), 0o700) // a master has run
	if out, err := keyRun(t, dir, "y\n", options{act: actDelete, pattern: "acc-1"}); err != nil || !strings.Contains(out, "Key for minion acc-1 deleted.") {
		t.Fatalf("delete: %q %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "var/cache/brine/master/.dfn")); err != nil {
		t.Fatalf("no .dfn for the master to rotate its key: %v", err)
	}
	if _, err := keyRun(t, dir, "", options{act: actDelete, pattern: "nobody", yes: true}); err == nil {
		t.Fatal("deleting a key that does not exist succeeded")
	}
}

func TestFingerAndPrint(t *testing.T) {
	dir, _ := setup(t)
	out, err := keyRun(t, dir, "", options{act: actFinger, pattern: "acc-1", hashType: "sha256"})
	if err != nil || !strings.Contains(out, "Accepted Keys:\nacc-1:  ") {
		t.Fatalf("-f: %q %v", out, err)
	}
	fp, _, _ := strings.Cut(strings.SplitN(out, "acc-1:  ", 2)[1], "\n")
	if len(fp) != 95 || strings.Count(fp, ":") != 31 {
		t.Fatalf("fingerprint %q is not 32 hex pairs", fp)
	}
	out, _ = keyRun(t, dir, "", options{act: actPrint, pattern: "den-1"})
	if !strings.Contains(out, "den-1:  -----BEGIN PUBLIC KEY-----") {
		t.Fatalf("-p: %q", out)
	}
}

func TestGenKeys(t *testing.T) {
	dir := t.TempDir()
	out, err := keyRun(t, "", "", options{act: actGenKeys, genName: "web", genDir: dir, keySize: 2048})
	if err != nil || !strings.Contains(out, "Keys written") {
		t.Fatalf("%q %v", out, err)
	}
	for f, mode := range map[string]os.FileMode{"web.pem": 0o400, "web.pub": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v", f, fi, err)
		}
	}
	if _, err := keyRun(t, "", "", options{act: actGenKeys, genName: "web", genDir: dir, keySize: 2048}); err == nil {
		t.Fatal("--gen-keys overwrote an existing key")
	}
}

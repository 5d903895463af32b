// Package saltvectors locates and reads the captures of a stock Salt
// 3006.16 master and minion kept in ../shared/salt/vectors-3006.16 beside
// the repository: the ground truth that tests check Brine's wire formats
// against. It is for tests only.
package saltvectors

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Captures are the capture directories, in the order they were taken.
var Captures = []string{"a-new-minion", "b-master-restart", "d-publish-no-target", "c-rejected-key"}

// Find returns the vectors directory, if it is where it should be: in
// shared/salt beside the repository.
func Find() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			v := filepath.Join(d, "..", "shared", "salt", "vectors-3006.16")
			_, err := os.Stat(v)
			return v, err == nil
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Dir returns the vectors directory, or skips the test if it is absent (it
// sits outside the repository; CI provides it).
func Dir(t testing.TB) string {
	t.Helper()
	v, ok := Find()
	if !ok {
		t.Skip("Salt vectors not found in ../shared/salt/vectors-3006.16 beside the repository")
	}
	return v
}

// Streams returns every captured TCP byte stream (greeting onwards), for
// fuzz seeds. It returns nil where the vectors are absent.
func Streams() [][]byte {
	dir, ok := Find()
	if !ok {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "streams", "*.bin"))
	var out [][]byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// Greeting is a decoded greeting of one direction of a connection.
type Greeting struct {
	Hex              string `json:"hex"`
	SignaturePadding string `json:"signature_padding"`
	Version          string `json:"version"`
	Mechanism        string `json:"mechanism"`
	AsServer         int    `json:"as_server"`
}

// Command is a ZMTP command seen on a connection.
type Command struct {
	Name     string            `json:"name"`
	FrameHex string            `json:"frame_hex"`
	Props    map[string]string `json:"props"`
}

// Connection is one TCP connection of a capture.
type Connection struct {
	ID       string               `json:"id"`
	Streams  map[string]string    `json:"streams"`  // direction → file
	Greeting map[string]*Greeting `json:"greeting"` // direction → greeting
	Commands map[string][]Command `json:"commands"` // direction → commands
	Messages []int                `json:"messages"`
}

// Message is one ZMTP message of a capture.
type Message struct {
	Index        int      `json:"index"`
	Conn         string   `json:"conn"`
	Dir          string   `json:"dir"`
	Frames       []string `json:"frames"`
	PartsLen     []int    `json:"parts_len"`
	FrameHeaders []string `json:"zmtp_frame_headers_hex"`
	Kind         string   `json:"kind"`
}

// Decoded is the part of decoded.json the tests use.
type Decoded struct {
	Connections []Connection `json:"connections"`
	Messages    []Message    `json:"messages"`
}

// Load reads <dir>/<capture>/decoded.json.
func Load(t testing.TB, dir, capture string) *Decoded {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, capture, "decoded.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d Decoded
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s/decoded.json: %v", capture, err)
	}
	return &d
}

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
	Cmd          string   `json:"cmd"`      // the request's cmd ("_auth", "_return", ...); "" for publications
	ReplyTo      *int     `json:"reply_to"` // for a reply: the index of its request
	PlainFiles   []string `json:"plain_files"`
	Crypto       *Crypto  `json:"crypto"`
	// Checks are the decoder's checks on this message, by name. A value is
	// true/false, or {"ok": bool, "detail": ...}; see Check.
	Checks map[string]json.RawMessage `json:"checks"`
}

// Check returns the outcome of the decoder's check called name, and
// whether the message has such a check.
func (m *Message) Check(name string) (ok, present bool) {
	raw, present := m.Checks[name]
	if !present {
		return false, false
	}
	if json.Unmarshal(raw, &ok) == nil {
		return ok, true
	}
	var v struct {
		OK bool `json:"ok"`
	}
	json.Unmarshal(raw, &v)
	return v.OK, true
}

// Payload returns the msgpack payload of the message: its last ZMTP part
// (part1 after the empty REQ delimiter on the request port, part0 on PUB).
func (m *Message) Payload(t testing.TB, dir, capture string) []byte {
	t.Helper()
	if len(m.Frames) == 0 {
		t.Fatalf("%s #%03d has no frames", capture, m.Index)
	}
	return ReadFile(t, dir, filepath.Join(capture, m.Frames[len(m.Frames)-1]))
}

// Crypto is what the decoder found out about a message's cryptography.
// Key fields name files relative to the vectors directory ("keys/master.pub").
type Crypto struct {
	// Crypticle describes the Crypticle blob of the message: the envelope
	// load of an AES request or a publication, the whole reply to an AES
	// request, the "pillar" of a _pillar reply.
	Crypticle *CrypticleInfo `json:"crypticle"`
	// Sig is a PKCS1v15 signature: the outer sig of an _auth reply (over
	// the load bytes), of a publication (over the ciphertext), or of the
	// data inside a _pillar reply.
	Sig *SigInfo `json:"sig"`
	// InnerSig is the X9.31 sig inside an accepted _auth reply.
	InnerSig *X931Info `json:"inner_sig"`
	// Tok is the X9.31 tok inside an AES request.
	Tok *X931Info `json:"tok"`
	// AES, Session, Token and Key are OAEP-wrapped secrets: the master AES
	// key and session key of an accepted _auth reply, the _auth token (of
	// a request, or echoed in a reply), a _pillar reply's one-off key.
	AES     *OAEPInfo  `json:"aes"`
	Session *OAEPInfo  `json:"session"`
	Token   *OAEPInfo  `json:"token"`
	Key     *OAEPInfo  `json:"key"`
	Nonce   *NonceInfo `json:"nonce"`
	// RootKeyMatches lists the .root_key files equal to a publish's key.
	RootKeyMatches []string `json:"root_key_matches"`
	// PubMatches names the public key file an _auth request's pub is.
	PubMatches string `json:"pub_matches"`
	TS         int64  `json:"ts"`
}

// CrypticleInfo describes one Crypticle blob.
type CrypticleInfo struct {
	Key           string  `json:"key"` // a key file, or prose naming one ("... (== keys/run1.master_aes)")
	HMACValid     bool    `json:"hmac_sha256_valid"`
	IVHex         string  `json:"iv_hex"`
	HMACHex       string  `json:"hmac_hex"`
	CiphertextLen int     `json:"ciphertext_len"`
	PadLen        int     `json:"pkcs7_pad_len"`
	PadOK         bool    `json:"pkcs7_pad_ok"`
	PlainFile     string  `json:"plain_file"` // relative to the capture
	PlainLen      int     `json:"plain_len"`
	NoncePrefix   *string `json:"nonce_prefix"`
}

// SigInfo describes a PKCS1v15 signature.
type SigInfo struct {
	Scheme       string `json:"scheme"`
	Over         string `json:"over"`
	VerifiedWith string `json:"verified_with"`
	Valid        bool   `json:"valid"`
	Recomputed   bool   `json:"recomputed_with_master_pem_identical"`
}

// X931Info describes an X9.31 signature and what it opens to.
type X931Info struct {
	Scheme               string `json:"scheme"`
	VerifiedWith         string `json:"verified_with"`
	Plain                string `json:"plain"`
	EqualsSHA256HexOfAES bool   `json:"equals_sha256_hex_of_aes_string"`
	RecomputedMaster     bool   `json:"recomputed_with_master_pem_identical"`
	RecomputedMinion     bool   `json:"recomputed_with_private_key_identical"`
}

// OAEPInfo describes an OAEP-wrapped secret.
type OAEPInfo struct {
	Scheme        string `json:"scheme"`
	DecryptedWith string `json:"decrypted_with"`
	Plain         string `json:"plain"`
	// Is says what an "aes" key is, naming its file ("... (== keys/run1.master_aes)").
	Is string `json:"is"`
	// EqualsSessionFile names the session key file a "session" equals.
	EqualsSessionFile string `json:"equals_keys_session_file"`
	// EqualsRequestToken is set on a reply's echoed token.
	EqualsRequestToken *bool `json:"equals_request_token"`
}

// NonceInfo relates a reply's nonce to its request's.
type NonceInfo struct {
	Value        string `json:"value"`
	RequestNonce string `json:"request_nonce"`
	Matches      bool   `json:"matches"`
}

// RecoveredKey is a master AES key the decoder recovered.
type RecoveredKey struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Decoded is the part of decoded.json the tests use.
type Decoded struct {
	Connections  []Connection   `json:"connections"`
	Messages     []Message      `json:"messages"`
	MasterAESKey []RecoveredKey `json:"recovered_master_aes_keys"`
	CheckSummary struct {
		Passed int      `json:"passed"`
		Failed []string `json:"failed"`
	} `json:"check_summary"`
}

// ReadFile reads a file of the vectors directory, by a path relative to it
// ("keys/master.pub", "a-new-minion/plain/001_signed_load.bin").
func ReadFile(t testing.TB, dir, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
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

package wire_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/brine-project/brine/internal/saltvectors"
	"github.com/brine-project/brine/transport/wire"
)

// The vector tests decode every msgpack payload and plaintext of the Salt
// 3006.16 captures, compare what they yield with decoded.json (written by
// an independent Python decoder), and re-encode them to check that our
// bytes are Salt's.

// vectorFile is the part of decoded.json these tests read. Envelope and
// content are parsed on their own, keeping the order of their keys.
type vectorFile struct {
	Messages []vectorMessage `json:"messages"`
	Events   []vectorEvent   `json:"events"`
}

type vectorMessage struct {
	Index    int             `json:"index"`
	Port     int             `json:"port"`
	Dir      string          `json:"dir"`
	Kind     string          `json:"kind"`
	Frames   []string        `json:"frames"`
	Envelope json.RawMessage `json:"envelope"`
	Content  json.RawMessage `json:"content"`
	Crypto   struct {
		Crypticle *struct {
			NoncePrefix *string `json:"nonce_prefix"`
		} `json:"crypticle"`
	} `json:"crypto"`
}

type vectorEvent struct {
	Offset int             `json:"offset"`
	Length int             `json:"length"`
	Tag    string          `json:"tag"`
	Data   json.RawMessage `json:"data"`
}

func loadVectors(t *testing.T, dir, capture string) *vectorFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, capture, "decoded.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s/decoded.json: %v", capture, err)
	}
	return &f
}

// payload returns the msgpack part of a message: on the request port part0
// is REQ's empty delimiter and part1 the payload; on the publish port the
// one part is the publication.
func payload(t *testing.T, dir, capture string, m vectorMessage) []byte {
	t.Helper()
	var parts [][]byte
	for _, f := range m.Frames {
		b, err := os.ReadFile(filepath.Join(dir, capture, f))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	switch {
	case m.Port == 14506 && len(parts) == 2 && len(parts[0]) == 0:
		return parts[1]
	case m.Port == 14505 && len(parts) == 1:
		return parts[0]
	}
	t.Fatalf("#%03d: unexpected parts on port %d: %d parts", m.Index, m.Port, len(parts))
	return nil
}

// counts are what the vector tests report; TestVectorsSummary prints them.
type counts struct {
	payloads, payloadsSame, typedSame int
	plains, plainsSame                int
	events, eventsSame, dataSame      int
}

func TestVectorFrames(t *testing.T) {
	dir := saltvectors.Dir(t)
	var c counts
	for _, capture := range saltvectors.Captures {
		vf := loadVectors(t, dir, capture)
		for _, m := range vf.Messages {
			name := fmt.Sprintf("%s/%03d", capture, m.Index)
			t.Run(name, func(t *testing.T) {
				b := payload(t, dir, capture, m)
				c.payloads++
				env := parseOrderedJSON(t, m.Envelope)

				// Unmarshal, and UnmarshalOrdered in Salt's order, agree
				// with the Python decoder.
				v, err := wire.Unmarshal(b)
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if err := matchJSON("", v, env); err != nil {
					t.Errorf("Unmarshal vs decoded.json: %v", err)
				}
				ov, err := wire.UnmarshalOrdered(b)
				if err != nil {
					t.Fatalf("UnmarshalOrdered: %v", err)
				}
				if err := matchJSON("", ov, env); err != nil {
					t.Errorf("UnmarshalOrdered vs decoded.json: %v", err)
				}
				if !reflect.DeepEqual(unorder(ov), v) {
					t.Errorf("UnmarshalOrdered and Unmarshal disagree")
				}

				// Marshal of the ordered value gives the captured bytes.
				re, err := wire.Marshal(ov)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				if bytes.Equal(re, b) {
					c.payloadsSame++
				} else {
					t.Errorf("Marshal(UnmarshalOrdered(payload)) differs from the capture:\n got %x\nwant %x", re, b)
				}

				typed := typedRoundTrip(t, m, b, env, ov)
				if bytes.Equal(typed, b) {
					c.typedSame++
				} else {
					t.Errorf("typed re-encoding differs from the capture:\n got %x\nwant %x", typed, b)
				}
			})
		}
	}
	t.Logf("%d payloads decoded; Marshal(UnmarshalOrdered) byte-identical: %d; typed envelopes byte-identical: %d",
		c.payloads, c.payloadsSame, c.typedSame)
	if c.payloads == 0 {
		t.Fatal("no payloads")
	}
}

// typedRoundTrip decodes b with the decoder its shape calls for, checks
// the result against the envelope in decoded.json, and re-encodes it.
func typedRoundTrip(t *testing.T, m vectorMessage, b []byte, env any, ordered any) []byte {
	t.Helper()
	envObj := asObject(env)
	switch {
	case m.Port == 14505:
		p, err := wire.DecodePublication(b)
		if err != nil {
			t.Fatalf("DecodePublication: %v", err)
		}
		checkField(t, "load", p.Load, envObj)
		checkField(t, "sig_algo", p.SigAlgo, envObj)
		checkField(t, "sig", p.Sig, envObj)
		out, err := p.Marshal()
		if err != nil {
			t.Fatalf("Publication.Marshal: %v", err)
		}
		return out

	case m.Dir == "c2s":
		r, err := wire.DecodeRequest(b)
		if err != nil {
			t.Fatalf("DecodeRequest: %v", err)
		}
		checkField(t, "enc", r.Enc, envObj)
		checkField(t, "load", r.Load, envObj)
		checkField(t, "version", int64(r.Version), envObj)
		checkOptField(t, "id", r.ID, envObj)
		checkOptField(t, "enc_algo", r.EncAlgo, envObj)
		checkOptField(t, "sig_algo", r.SigAlgo, envObj)
		if r.Enc == wire.EncClear {
			// A map[string]any load would come out sorted; Salt's is in
			// insertion order, which the ordered decode kept.
			load, _ := ordered.(wire.Map).Get("load")
			r.Load = load
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("Request.Marshal: %v", err)
		}
		return out

	case strings.HasPrefix(m.Kind, "_auth reply"):
		r, err := wire.DecodeSignedReply(b)
		if err != nil {
			t.Fatalf("DecodeSignedReply: %v", err)
		}
		checkField(t, "load", r.Load, envObj)
		checkField(t, "sig", r.Sig, envObj)
		inner, err := wire.UnmarshalMap(r.Load)
		if err != nil {
			t.Fatalf("signed load: %v", err)
		}
		if err := matchJSON("content", inner, parseOrderedJSON(t, m.Content)); err != nil {
			t.Errorf("signed load vs decoded.json content: %v", err)
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("SignedReply.Marshal: %v", err)
		}
		return out

	case strings.HasPrefix(m.Kind, "AES reply"):
		blob, err := wire.UnmarshalBytes(b)
		if err != nil {
			t.Fatalf("UnmarshalBytes: %v", err)
		}
		if err := matchJSON("", blob, env); err != nil {
			t.Errorf("AES reply blob: %v", err)
		}
		out, err := wire.Marshal(blob)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		return out

	default: // publish and runner replies, the _pillar reply: plain maps
		mp, err := wire.UnmarshalMap(b)
		if err != nil {
			t.Fatalf("UnmarshalMap: %v", err)
		}
		if err := matchJSON("", mp, env); err != nil {
			t.Errorf("UnmarshalMap: %v", err)
		}
		if strings.HasPrefix(m.Kind, "_pillar reply") {
			if _, err := wire.Bytes(mp, "key"); err != nil {
				t.Error(err)
			}
			if _, err := wire.Bytes(mp, "pillar"); err != nil {
				t.Error(err)
			}
		}
		out, err := wire.Marshal(ordered)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		return out
	}
}

func checkField(t *testing.T, key string, got any, env jsonObject) {
	t.Helper()
	want, ok := env.get(key)
	if !ok {
		t.Errorf("decoded.json envelope has no %q", key)
		return
	}
	if b, ok := got.([]byte); ok {
		// A typed field holds bytes whatever they are; decoded.json shows
		// printable UTF-8 as a string.
		if s, ok := want.(string); ok {
			if string(b) != s {
				t.Errorf("%s: got %q, want %q", key, b, s)
			}
			return
		}
		if h, ok := asObject(want).get("$hex"); ok && utf8.Valid(b) {
			if hex.EncodeToString(b) != h {
				t.Errorf("%s: got %x, want %s", key, b, h)
			}
			return
		}
	}
	if err := matchJSON(key, got, want); err != nil {
		t.Error(err)
	}
}

func checkOptField(t *testing.T, key, got string, env jsonObject) {
	t.Helper()
	want, ok := env.get(key)
	if !ok {
		if got != "" {
			t.Errorf("%s: got %q, decoded.json has none", key, got)
		}
		return
	}
	if err := matchJSON(key, got, want); err != nil {
		t.Error(err)
	}
}

func TestVectorPlaintexts(t *testing.T) {
	dir := saltvectors.Dir(t)
	var c counts
	for _, capture := range saltvectors.Captures {
		vf := loadVectors(t, dir, capture)
		byIndex := map[int]vectorMessage{}
		for _, m := range vf.Messages {
			byIndex[m.Index] = m
		}
		for _, p := range saltvectors.Plains(t, dir, capture) {
			t.Run(capture+"/"+p.Name, func(t *testing.T) {
				m, ok := byIndex[p.Index]
				if !ok {
					t.Fatalf("no message #%03d", p.Index)
				}
				b := p.Data
				content := parseOrderedJSON(t, m.Content)
				switch p.Kind {
				case "request", "reply", "publication", "pillar":
					var ok bool
					if b, ok = bytes.CutPrefix(b, []byte("pickle::")); !ok {
						t.Fatalf("plaintext does not start with pickle::")
					}
					if cr := m.Crypto.Crypticle; p.Kind == "reply" && cr != nil && cr.NoncePrefix != nil {
						if b, ok = bytes.CutPrefix(b, []byte(*cr.NoncePrefix)); !ok {
							t.Fatalf("plaintext does not carry nonce %s", *cr.NoncePrefix)
						}
					}
					if p.Kind == "pillar" {
						content, _ = asObject(content).get("signed_container")
					}
				case "signed_load":
				case "pillar_signed_data":
					content, _ = asObject(content).get("data")
				default:
					t.Fatalf("unknown plaintext kind %q", p.Kind)
				}
				c.plains++
				v, err := wire.Unmarshal(b)
				if err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				if err := matchJSON("", v, content); err != nil {
					t.Errorf("Unmarshal vs decoded.json content: %v", err)
				}
				ov, err := wire.UnmarshalOrdered(b)
				if err != nil {
					t.Fatalf("UnmarshalOrdered: %v", err)
				}
				if err := matchJSON("", ov, content); err != nil {
					t.Errorf("UnmarshalOrdered vs decoded.json content: %v", err)
				}
				re, err := wire.Marshal(ov)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				if bytes.Equal(re, b) {
					c.plainsSame++
				} else {
					t.Errorf("Marshal(UnmarshalOrdered(plaintext)) differs:\n got %x\nwant %x", re, b)
				}
				if p.Kind == "request" {
					if _, err := wire.UnmarshalMap(b); err != nil {
						t.Errorf("UnmarshalMap: %v", err)
					}
				}
			})
		}
	}
	t.Logf("%d plaintexts decoded; Marshal(UnmarshalOrdered) byte-identical: %d", c.plains, c.plainsSame)
}

// TestVectorGrains looks into the biggest plaintext, the grains a minion
// sends with _pillar: nested maps and lists, nil, bools, ints, long
// strings.
func TestVectorGrains(t *testing.T) {
	dir := saltvectors.Dir(t)
	var grains map[string]any
	for _, p := range saltvectors.Plains(t, dir, "b-master-restart") {
		if p.Index == 2 {
			load, err := wire.UnmarshalMap(bytes.TrimPrefix(p.Data, []byte("pickle::")))
			if err != nil {
				t.Fatal(err)
			}
			if cmd, _ := wire.OptString(load, "cmd"); cmd != "_pillar" {
				t.Fatalf("cmd = %q, want _pillar", cmd)
			}
			if grains, err = wire.SubMap(load, "grains"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if grains == nil {
		t.Fatal("no _pillar request")
	}
	tests := []struct {
		name string
		got  func() (any, error)
		want any
	}{
		{"os", func() (any, error) { return wire.String(grains, "os") }, "Debian"},
		{"num_cpus", func() (any, error) { return wire.Int(grains, "num_cpus") }, int64(2)},
		{"server_id", func() (any, error) { return wire.Int(grains, "server_id") }, int64(267596462)},
		{"ip_gw", func() (any, error) { return wire.Bool(grains, "ip_gw") }, true},
		{"kernelparams[2]", func() (any, error) {
			l, err := wire.List(grains, "kernelparams")
			if err != nil {
				return nil, err
			}
			return l[2], nil
		}, []any{"quiet", nil}},
		{"dns.nameservers", func() (any, error) {
			dns, err := wire.SubMap(grains, "dns")
			if err != nil {
				return nil, err
			}
			return wire.List(dns, "nameservers")
		}, []any{"10.255.255.53"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestVectorEvents checks MarshalLocal against the master's event bus
// stream (use_bin_type=True): {"head": {}, "body": <bin>} frames one after
// another, each body a tag, "\n\n", and the msgpack data.
func TestVectorEvents(t *testing.T) {
	dir := saltvectors.Dir(t)
	var c counts
	for _, capture := range saltvectors.Captures {
		raw, err := os.ReadFile(filepath.Join(dir, capture, "events.raw"))
		if err != nil {
			t.Fatal(err)
		}
		vf := loadVectors(t, dir, capture)
		off := 0
		for i, ev := range vf.Events {
			t.Run(fmt.Sprintf("%s/event%02d", capture, i), func(t *testing.T) {
				if ev.Offset != off {
					t.Fatalf("event at %d, decoded.json says %d", off, ev.Offset)
				}
				v, n, err := wire.UnmarshalNext(raw[off:])
				if err != nil {
					t.Fatalf("UnmarshalNext: %v", err)
				}
				if n != ev.Length {
					t.Fatalf("took %d bytes, decoded.json says %d", n, ev.Length)
				}
				frame := raw[off : off+n]
				off += n
				c.events++
				body, err := wire.Bytes(v.(map[string]any), "body")
				if err != nil {
					t.Fatal(err)
				}
				tag, data, ok := bytes.Cut(body, []byte("\n\n"))
				if !ok || string(tag) != ev.Tag {
					t.Fatalf("body tag %q, want %q", tag, ev.Tag)
				}
				dv, err := wire.UnmarshalOrdered(data)
				if err != nil {
					t.Fatalf("data: %v", err)
				}
				if err := matchJSON("data", dv, parseOrderedJSON(t, ev.Data)); err != nil {
					t.Error(err)
				}
				ov, err := wire.UnmarshalOrdered(frame)
				if err != nil {
					t.Fatal(err)
				}
				if re, err := wire.MarshalLocal(ov); err != nil {
					t.Fatal(err)
				} else if bytes.Equal(re, frame) {
					c.eventsSame++
				} else {
					t.Errorf("MarshalLocal(frame) differs:\n got %x\nwant %x", re, frame)
				}
				if re, err := wire.MarshalLocal(dv); err != nil {
					t.Fatal(err)
				} else if bytes.Equal(re, data) {
					c.dataSame++
				} else {
					t.Errorf("MarshalLocal(data) differs:\n got %x\nwant %x", re, data)
				}
			})
			if t.Failed() {
				return
			}
		}
		if off != len(raw) {
			t.Errorf("%s: %d bytes of events.raw left over", capture, len(raw)-off)
		}
	}
	t.Logf("%d events decoded; MarshalLocal byte-identical: %d frames, %d data maps", c.events, c.eventsSame, c.dataSame)
}

// ---- decoded.json, parsed with the order of its keys ----

// jsonObject is a JSON object in its order.
type jsonObject []jsonField

type jsonField struct {
	Key   string
	Value any
}

func (o jsonObject) get(key string) (any, bool) {
	for _, f := range o {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

func asObject(v any) jsonObject {
	o, _ := v.(jsonObject)
	return o
}

func parseOrderedJSON(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := parseJSONValue(dec)
	if err != nil {
		t.Fatalf("decoded.json: %v", err)
	}
	return v
}

func parseJSONValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var o jsonObject
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := parseJSONValue(dec)
			if err != nil {
				return nil, err
			}
			o = append(o, jsonField{k.(string), v})
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := parseJSONValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	}
	return tok, nil
}

// matchJSON compares a decoded value with decoded.json's rendering of it:
// printable UTF-8 as a JSON string, other bytes as {"$bin_len", "$hex"}.
// A Map must have the object's keys in the object's order.
func matchJSON(path string, got, want any) error {
	switch w := want.(type) {
	case nil:
		if got != nil {
			return fmt.Errorf("%s: got %#v, want nil", path, got)
		}
	case bool:
		if got != w {
			return fmt.Errorf("%s: got %#v, want %v", path, got, w)
		}
	case json.Number:
		if strings.ContainsAny(string(w), ".eE") {
			f, _ := w.Float64()
			if got != f {
				return fmt.Errorf("%s: got %#v, want float %v", path, got, f)
			}
			return nil
		}
		if n, err := strconv.ParseInt(string(w), 10, 64); err == nil {
			if got != n {
				return fmt.Errorf("%s: got %#v, want int64 %d", path, got, n)
			}
			return nil
		}
		u, _ := strconv.ParseUint(string(w), 10, 64)
		if got != u {
			return fmt.Errorf("%s: got %#v, want uint64 %d", path, got, u)
		}
	case string:
		if got != w {
			return fmt.Errorf("%s: got %#v, want %q", path, got, w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %#v, want a list of %d", path, got, len(w))
		}
		for i := range w {
			if err := matchJSON(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); err != nil {
				return err
			}
		}
	case jsonObject:
		if h, ok := w.get("$hex"); ok && len(w) == 2 {
			return matchBin(path, got, h.(string))
		}
		if s, ok := w.get("$ext78_datetime"); ok && len(w) == 1 {
			g, ok := got.(time.Time)
			if !ok || g.Format("20060102T15:04:05.000000") != s {
				return fmt.Errorf("%s: got %#v, want datetime %s", path, got, s)
			}
			return nil
		}
		switch g := got.(type) {
		case wire.Map:
			if len(g) != len(w) {
				return fmt.Errorf("%s: got keys %q, want %d", path, g.Keys(), len(w))
			}
			for i := range w {
				if g[i].Key != w[i].Key {
					return fmt.Errorf("%s: key %d is %q, want %q", path, i, g[i].Key, w[i].Key)
				}
				if err := matchJSON(path+"."+w[i].Key, g[i].Value, w[i].Value); err != nil {
					return err
				}
			}
		case map[string]any:
			if len(g) != len(w) {
				return fmt.Errorf("%s: got %d keys, want %d", path, len(g), len(w))
			}
			for _, f := range w {
				v, ok := g[f.Key]
				if !ok {
					return fmt.Errorf("%s: no key %q", path, f.Key)
				}
				if err := matchJSON(path+"."+f.Key, v, f.Value); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%s: got %#v, want a map", path, got)
		}
	default:
		return fmt.Errorf("%s: unexpected JSON %T", path, want)
	}
	return nil
}

// matchBin checks a value decoded.json shows as hex: bytes that are not
// UTF-8 must be []byte, and UTF-8 (shown as hex only for being unprintable)
// a string.
func matchBin(path string, got any, hexs string) error {
	want, err := hex.DecodeString(hexs)
	if err != nil {
		return fmt.Errorf("%s: $hex: %v", path, err)
	}
	var g []byte
	switch v := got.(type) {
	case []byte:
		if utf8.Valid(want) {
			return fmt.Errorf("%s: got []byte for valid UTF-8", path)
		}
		g = v
	case string:
		if !utf8.Valid(want) {
			return fmt.Errorf("%s: got a string for bytes that are not UTF-8", path)
		}
		g = []byte(v)
	default:
		return fmt.Errorf("%s: got %#v, want %d bytes", path, got, len(want))
	}
	if !bytes.Equal(g, want) {
		return fmt.Errorf("%s: bytes differ:\n got %x\nwant %x", path, g, want)
	}
	return nil
}

// unorder turns every Map in v into a map[string]any, as Unmarshal decodes.
func unorder(v any) any {
	switch v := v.(type) {
	case wire.Map:
		m := make(map[string]any, len(v))
		for _, f := range v {
			m[f.Key] = unorder(f.Value)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i := range v {
			a[i] = unorder(v[i])
		}
		return a
	case wire.Constant:
		return wire.Constant{Name: v.Name, Value: unorder(v.Value)}
	}
	return v
}

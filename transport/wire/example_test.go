package wire_test

import (
	"fmt"

	"github.com/brine-project/brine/transport/wire"
)

func ExampleMarshal() {
	// A 32-char nonce is str16 on Salt's wire, never str8.
	b, _ := wire.Marshal(wire.Map{{Key: "ret", Value: true}, {Key: "nonce", Value: "cf6604fbc5d84b7bbf1d1ba0a6325203"}})
	fmt.Printf("% x\n", b[:13])
	// Output: 82 a3 72 65 74 c3 a5 6e 6f 6e 63 65 da
}

func ExampleDecodeRequest() {
	raw, _ := (&wire.Request{
		Enc:     wire.EncClear,
		Load:    wire.Map{{Key: "cmd", Value: "_auth"}, {Key: "id", Value: "minion-1"}},
		Version: 3,
	}).Marshal()

	req, err := wire.DecodeRequest(raw)
	if err != nil {
		fmt.Println(err)
		return
	}
	load := req.Load.(map[string]any)
	cmd, _ := wire.String(load, "cmd")
	_, err = wire.String(load, "nonce")
	fmt.Println(req.Enc, req.Version, cmd)
	fmt.Println(err)
	// Output:
	// clear 3 _auth
	// wire: field "nonce": missing
}

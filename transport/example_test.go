package transport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/brine-project/brine/transport"
)

// A request server on the ret port answering a request client, as a
// master answers its minions.
func ExampleReqServer() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv, err := transport.NewReqServer(transport.ReqServerConfig{
		Addr: "tcp://127.0.0.1:0",
		Handler: func(_ context.Context, req []byte) []byte {
			return append([]byte("pong: "), req...)
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	served := make(chan error, 1)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { served <- srv.Serve(sctx) }()

	c, err := transport.NewReqClient(transport.ReqClientConfig{Addr: "tcp://" + srv.Addr().String()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	reply, err := c.Request(ctx, []byte("ping"))
	fmt.Printf("%s %v\n", reply, err)
	stop()
	fmt.Println("server stopped:", <-served)
	// Output:
	// pong: ping <nil>
	// server stopped: <nil>
}

// The master's publish channel: whatever is pushed to publish_pull.ipc goes
// out on the PUB port to every subscribed minion.
func ExampleNewMasterPublisher() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sockDir, _ := os.MkdirTemp("", "brine-example")
	defer os.RemoveAll(sockDir)

	pub, err := transport.NewMasterPublisher(sockDir, "tcp://127.0.0.1:0", nil, transport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	go pub.Serve(ctx)

	minion, _ := transport.NewSubscriber(transport.SubscriberConfig{Addr: "tcp://" + pub.PubAddr().String()})
	defer minion.Close()
	if err := pub.WaitSubscribers(ctx, 1); err != nil { // the subscription is on its way
		fmt.Println(err)
		return
	}

	push := transport.NewPush(transport.Options{})
	defer push.Close()
	push.Dial("ipc://" + filepath.Join(sockDir, transport.PublishPullFile))
	push.Send(ctx, [][]byte{[]byte("a job for every minion")})

	m, err := minion.Recv(ctx)
	fmt.Printf("minion got %q %v\n", m[0], err)
	// Output:
	// minion got "a job for every minion" <nil>
}

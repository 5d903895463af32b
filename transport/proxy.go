package transport

import (
	"context"
	"errors"
)

// A Socket sends and receives whole messages. Router, Dealer, Rep, Req,
// Push/Pull and Pub/Sub halves satisfy the side they support.
type Socket interface {
	Send(ctx context.Context, msg [][]byte) error
	Recv(ctx context.Context) ([][]byte, error)
}

// Proxy is libzmq's queue device: it moves messages from frontend to
// backend and back until ctx ends or a Recv fails. A message that cannot be
// delivered because its peer has gone (ErrNoRoute, ErrPeerFull, ErrPeerLost)
// is dropped; the proxy carries on. It returns nil when ctx ends.
func Proxy(parent context.Context, frontend, backend Socket) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	errc := make(chan error, 2)
	pump := func(from, to Socket) {
		errc <- forward(ctx, from, to)
		cancel() // stop the other direction too
	}
	go pump(frontend, backend)
	go pump(backend, frontend)
	first := <-errc
	<-errc
	if parent.Err() != nil {
		return nil
	}
	return first
}

func forward(ctx context.Context, from, to Socket) error {
	for {
		m, err := from.Recv(ctx)
		if err != nil {
			return err
		}
		if err := to.Send(ctx, m); err != nil && !droppable(err) {
			return err
		}
	}
}

func droppable(err error) bool {
	return errors.Is(err, ErrNoRoute) || errors.Is(err, ErrPeerFull) || errors.Is(err, ErrPeerLost)
}

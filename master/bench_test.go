package master

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/brine-project/brine/master/pki"
	"github.com/brine-project/brine/transport/wire"
)

// BenchmarkReturns is the master taking minions' _return requests: session
// decryption, tok check, replay guard, job cache (group-committed) and the
// ret event, from 64 minions at once. Each iteration is one job with a
// return from each of 1,000 minions; returns/s is the figure.
func BenchmarkReturns(b *testing.B) {
	m, _ := newTestMaster(b, nil)
	a := newMinionSide(b, "x", "minion-a")
	const minions = 1000
	ids := make([]*minionSide, minions)
	for i := range ids {
		ids[i] = &minionSide{id: fmt.Sprintf("m%04d", i), key: a.key}
		m.keys.Put(pki.Accepted, ids[i].id, a.pub())
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		v, _ := wire.UnmarshalMap(m.handle(ctx, publishReq(b, m, "*", "glob", m.rootKeys["root"])))
		jid := v["load"].(map[string]any)["jid"].(string)
		reqs := make([][]byte, minions)
		for i, ms := range ids {
			reqs[i], _ = aesRequest(b, m, ms, ms.id, wire.Map{
				{Key: "cmd", Value: "_return"}, {Key: "id", Value: ms.id}, {Key: "success", Value: true},
				{Key: "return", Value: true}, {Key: "retcode", Value: 0}, {Key: "jid", Value: jid},
				{Key: "fun", Value: "test.ping"}, {Key: "fun_args", Value: []any{}},
			})
		}
		b.StartTimer()
		var wg sync.WaitGroup
		next := make(chan []byte)
		for range 64 {
			wg.Go(func() {
				for r := range next {
					m.handle(ctx, r)
				}
			})
		}
		for _, r := range reqs {
			next <- r
		}
		close(next)
		wg.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(minions*b.N)/b.Elapsed().Seconds(), "returns/s")
}

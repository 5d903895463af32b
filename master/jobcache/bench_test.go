package jobcache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAddReturn stores b.N returns from a number of concurrent
// writers (the master's request workers) into jobs of 1000 minions each, on
// the real disk under TMPDIR. returns/s counts acknowledged (committed)
// returns; returns/commit is how many share one group commit (each commit
// is two fdatasyncs).
func BenchmarkAddReturn(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			c, _ := openTest(b, 0)
			bc := c.(*boltCache)
			ctx := context.Background()
			const minions = 1000
			ids := make([]string, minions)
			for i := range ids {
				ids[i] = fmt.Sprintf("minion-%04d", i)
			}
			var next atomic.Int64
			commits0 := bc.commits.Load()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						n := int(next.Add(1)) - 1
						if n >= b.N {
							return
						}
						j := jidAt(time.Duration(n/minions) * time.Millisecond)
						id := ids[n%minions]
						if err := c.AddReturn(ctx, j, id, returnLoad(j, id)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "returns/s")
			if commits := bc.commits.Load() - commits0; commits > 0 {
				b.ReportMetric(float64(b.N)/float64(commits), "returns/commit")
			}
		})
	}
}

// BenchmarkSaveJob saves jobs one after the other, as one publisher does.
func BenchmarkSaveJob(b *testing.B) {
	c, _ := openTest(b, 0)
	ctx := context.Background()
	minions := make([]string, 100)
	for i := range minions {
		minions[i] = fmt.Sprintf("minion-%04d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		j := jidAt(time.Duration(i) * time.Microsecond)
		i++
		if err := c.SaveJob(ctx, Job{JID: j, Load: publishLoad(j), Minions: minions, StartTime: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReturns reads back the 1000 returns of one job.
func BenchmarkReturns(b *testing.B) {
	c, _ := openTest(b, 0)
	ctx := context.Background()
	j := jidAt(0)
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Go(func() {
			for i := range 100 {
				id := fmt.Sprintf("minion-%d-%d", w, i)
				if err := c.AddReturn(ctx, j, id, returnLoad(j, id)); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.ReportAllocs()
	for b.Loop() {
		rets, err := c.Returns(ctx, j)
		if err != nil || len(rets) != 1000 {
			b.Fatal(len(rets), err)
		}
	}
}

package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkRecordProbe records probes through the probe writer (group commit), from one
// target at a time (each probe its own transaction: the latency of one commit) and from
// many targets at once (their probes share transactions), with the commit window at 0
// and at 5 ms, on the run's engine (SQLite, or PostgreSQL in the PostgreSQL run). It
// reports probes written per second and the time RecordProbe took (to a durable commit).
//
//	go test ./internal/ledger -run '^$' -bench RecordProbe -benchtime 3s
func BenchmarkRecordProbe(b *testing.B) {
	engine := "sqlite"
	if testPostgres != "" {
		engine = "postgres"
	}
	for _, bc := range []struct {
		name    string
		targets int
		window  time.Duration
	}{
		{"1_target", 1, 0},
		{"64_targets", 64, 0},
		{"64_targets_window_5ms", 64, 5 * time.Millisecond},
		{"256_targets", 256, 0},
	} {
		b.Run(engine+"/"+bc.name, func(b *testing.B) {
			l := openTemp(b, filepath.Join(b.TempDir(), "l.db"))
			l.SetCommitWindow(bc.window)
			ctx := context.Background()
			var next atomic.Int64
			waits := make([][]time.Duration, bc.targets)
			var wg sync.WaitGroup
			b.ResetTimer()
			began := time.Now()
			for w := range bc.targets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					target := fmt.Sprintf("target-%03d", w)
					for k := 0; next.Add(1) <= int64(b.N); k++ {
						p := Probe{Target: target, Vantage: "bench", StartedAt: t0.Add(time.Duration(k) * 30 * time.Second),
							Duration: 150 * time.Millisecond, Outcome: "ok", StatusCode: 200, Interval: 30 * time.Second}
						if k%200 < 3 { // now and then an incident opens, and closes
							p.Failed, p.Outcome, p.Error, p.StatusCode = true, "http_status", "HTTP 503", 503
						}
						start := time.Now()
						if _, _, err := l.RecordProbe(ctx, p, pol, Scoring{Site: "portal", Scored: true}); err != nil {
							b.Error(err)
							return
						}
						waits[w] = append(waits[w], time.Since(start))
					}
				}()
			}
			wg.Wait()
			took := time.Since(began)
			b.StopTimer()
			all := slices.Concat(waits...)
			slices.Sort(all)
			if len(all) == 0 {
				return
			}
			b.ReportMetric(float64(len(all))/took.Seconds(), "probes/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}

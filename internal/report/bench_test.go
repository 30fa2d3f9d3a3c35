package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

// BenchmarkReportMonth50Targets generates the report of a 30-day month of 30 s probes on
// 50 targets: 4,320,000 probe rows (imported once, outside the timing).
func BenchmarkReportMonth50Targets(b *testing.B) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "creditwatch-report-bench")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := ledger.Open(ctx, filepath.Join(dir, "month.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	from := reporttest.At("2026-09-01 00:00")
	to := from.AddDate(0, 1, 0)
	run, _ := l.StartRun(ctx, from.Add(-time.Minute), "bench", "puyang")
	l.Heartbeat(ctx, run, to)
	doc := "portal:\n  targets:\n"
	batch := make([]ledger.Probe, 0, 100000)
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("portal-%02d", i)
		doc += fmt.Sprintf("    - {name: %s, url: 'http://127.0.0.1:9/'}\n", name)
		for t := from.Add(time.Duration(i) * 600 * time.Millisecond); t.Before(to); t = t.Add(30 * time.Second) {
			p := ledger.Probe{Target: name, Vantage: "bench", StartedAt: t, Duration: 150 * time.Millisecond, Outcome: "ok", StatusCode: 200}
			if t.Minute() == 7 && t.Hour() == 3 && t.Day()%10 == 0 {
				p.Failed, p.Outcome = true, "timeout"
			}
			batch = append(batch, p)
			if len(batch) == cap(batch) {
				if err := l.ImportProbes(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := l.ImportProbes(ctx, batch); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse([]byte(doc), to)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := l.CountProbes(ctx, ""); n != 50*30*2880 {
		b.Fatalf("%d probes imported", n)
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := Generate(ctx, l, cfg, settingsOf(b, cfg), Options{Month: "2026-09", Now: reporttest.At("2026-11-27 09:00"), Recompute: true})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Data.Targets) != 50 || r.Data.Targets[0].Probes != 86400 {
			b.Fatalf("targets %d, probes %d", len(r.Data.Targets), r.Data.Targets[0].Probes)
		}
		if err := r.WriteHTML(discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/ledger/ledgerbench"
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

// BenchmarkReportMonth1000Targets generates, HTML included, the report of a month of the
// ledgerbench.Targets1000 ledger (1,000 targets, raw rows kept 35 days to 27 November
// 2026): September from the rollups alone, October from rollups to the 23rd and raw rows
// after.
func BenchmarkReportMonth1000Targets(b *testing.B) {
	ctx := context.Background()
	path := ledgerbench.Copy(b, ledgerbench.Targets1000)
	l, err := ledger.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var doc strings.Builder
	doc.WriteString("portal:\n  targets:\n")
	for i := range ledgerbench.Targets1000.Targets {
		fmt.Fprintf(&doc, "    - {name: %s, url: 'https://%s.example.gov.cn/', interval: 30s, timeout: 10s}\n",
			ledgerbench.Name(i), ledgerbench.Name(i))
	}
	now := ledgerbench.Targets1000.Now
	cfg, err := config.Parse([]byte(doc.String()), now)
	if err != nil {
		b.Fatal(err)
	}
	set := settingsOf(b, cfg)
	for _, month := range []string{"2026-09", "2026-10"} {
		b.Run(month, func(b *testing.B) {
			for b.Loop() {
				r, err := Generate(ctx, l, cfg, set, Options{Month: month, Now: now, Recompute: true})
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Data.Targets) != 1000 || r.Data.Targets[0].Probes == 0 {
					b.Fatalf("targets %d, probes %d", len(r.Data.Targets), r.Data.Targets[0].Probes)
				}
				if err := r.WriteHTML(discard{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/ledger/ledgerbench"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

var (
	benchOnce sync.Once
	benchFile string
	benchErr  error
)

var benchTargets = []string{"credit-portal", "credit-list", "backup-portal"}

// benchLedger is a ledger of 90 days of 30-second probes of 3 targets (777,600 probes),
// every hundredth failed, with one run over the whole time; built once per test binary.
func benchLedger(b *testing.B) string {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditwatch-status-bench")
		if err != nil {
			benchErr = err
			return
		}
		benchFile = filepath.Join(dir, "ledger.db")
		ctx := context.Background()
		l, err := ledger.Open(ctx, benchFile)
		if err != nil {
			benchErr = err
			return
		}
		defer l.Close()
		from := fixtureNow.AddDate(0, 0, -90)
		run, err := l.StartRun(ctx, from, "bench", "bench")
		if err != nil {
			benchErr = err
			return
		}
		batch := make([]ledger.Probe, 0, 30000)
		i := 0
		for at := from; at.Before(fixtureNow); at = at.Add(30 * time.Second) {
			for _, t := range benchTargets {
				p := ledger.Probe{Target: t, Vantage: "bench", StartedAt: at, Duration: duration(at), Outcome: "ok", StatusCode: 200,
					Interval: 30 * time.Second, CertExpiry: fixtureNow.AddDate(0, 2, 0)}
				if i%100 == 0 {
					p.Failed, p.Outcome, p.StatusCode = true, "http_status", 502
				}
				batch = append(batch, p)
				i++
			}
			if len(batch) >= 30000 {
				if benchErr = l.ImportProbes(ctx, batch); benchErr != nil {
					return
				}
				batch = batch[:0]
			}
		}
		if benchErr = l.ImportProbes(ctx, batch); benchErr != nil {
			return
		}
		benchErr = l.Heartbeat(ctx, run, fixtureNow)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFile
}

func benchSource(b *testing.B) *fixture {
	return benchFixture(b, benchLedger(b), benchTargets, fixtureNow, fixtureNow.AddDate(0, 2, 0))
}

// benchFixture is a status source over the ledger at path with the targets named, each
// probed well 30 s before now (its certificate expiring at certExpiry, if set), scored.
func benchFixture(b *testing.B, path string, names []string, now, certExpiry time.Time) *fixture {
	var targets strings.Builder
	for _, t := range names {
		fmt.Fprintf(&targets, "    - {name: %s, url: 'https://%s.example.gov.cn/', interval: 30s, timeout: 10s}\n", t, t)
	}
	cfg, err := config.Parse([]byte("portal:\n  targets:\n"+targets.String()+"storage: {path: "+path+"}\n"), now)
	if err != nil {
		b.Fatal(err)
	}
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	set, err := card.SettingsOf(cfg)
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{cfg: cfg, l: l, store: metrics.NewStore(), set: set, clk: clock.NewFake(now)}
	for _, t := range names {
		f.store.SetPortal(&metrics.Portal{Target: t, Probed: true, Success: true, Outcome: "ok", StatusCode: 200,
			LastProbe: now.Add(-30 * time.Second), CertExpiry: certExpiry})
	}
	f.rescore(b)
	return f
}

// BenchmarkStatusPage is a page view over 90 days of 30-second probes of 3 targets: the
// first view after a start (every settled day's probes read once), the views after it
// (today's probes only), and, for comparison, what reading 90 days of probes costs.
func BenchmarkStatusPage(b *testing.B) {
	f := benchSource(b)
	view := func(b *testing.B, p *statusPage) {
		d, err := p.gatherer().page(context.Background(), listQuery{page: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := statusTmpl.Execute(io.Discard, d); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first-view", func(b *testing.B) {
		for b.Loop() {
			view(b, &statusPage{svc: f, log: zap.NewNop()})
		}
	})
	b.Run("next-views", func(b *testing.B) {
		p := &statusPage{svc: f, log: zap.NewNop()}
		view(b, p)
		for b.Loop() {
			view(b, p)
		}
	})
	b.Run("probe-days-90d-uncached", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.l.ProbeDays(context.Background(), fixtureNow.AddDate(0, 0, -90), fixtureNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchSource1000 is a status source over ledgerbench.Targets1000: 1,000 targets, 92 days
// to 27 November 2026 09:00 Shanghai, raw rows kept 35 days and the rest rolled up.
func benchSource1000(b *testing.B) *fixture {
	names := make([]string, ledgerbench.Targets1000.Targets)
	for i := range names {
		names[i] = ledgerbench.Name(i)
	}
	return benchFixture(b, ledgerbench.Copy(b, ledgerbench.Targets1000), names, ledgerbench.Targets1000.Now, time.Time{})
}

// BenchmarkStatus1000Targets is the status page and /api/v1/status of 1,000 targets over the
// ledgerbench.Targets1000 ledger (90 days of the bar from rollups and raw rows): the first
// view after a start (nothing cached) and the views after it, each through the handler.
// Besides the page (its first page of 25 targets) and the API (its first 100 targets, days
// included): a target's page and JSON, and the API's every target without their days.
func BenchmarkStatus1000Targets(b *testing.B) {
	f := benchSource1000(b)
	get := func(b *testing.B, h http.Handler, path string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK || w.Body.Len() == 0 {
			b.Fatalf("%s: %d, %d bytes", path, w.Code, w.Body.Len())
		}
		b.ReportMetric(float64(w.Body.Len()), "bytes")
	}
	for _, c := range []struct{ name, path string }{
		{"page", "/"}, {"api-status", "/api/v1/status"}, {"target-page", "/targets/" + ledgerbench.Name(500)},
		{"api-target", "/api/v1/targets/" + ledgerbench.Name(500)}, {"api-status-all-no-days", "/api/v1/status?limit=1000&days=false"},
	} {
		name, path := c.name, c.path
		b.Run(name+"/first-view", func(b *testing.B) {
			for b.Loop() {
				get(b, f.handler(), path)
			}
		})
		b.Run(name+"/next-views", func(b *testing.B) {
			h := f.handler()
			get(b, h, path)
			for b.Loop() {
				get(b, h, path)
			}
		})
	}
}

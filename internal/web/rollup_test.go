package web

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// The status page and /api/v1/status say the same from the rollups as from the raw rows:
// the 90-day bar (per-day probes, failures and mean response time), the sparkline, the
// uptimes. Retention here keeps one day of raw rows, the least it may.
func TestStatusFromRollupsIsTheSame(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A new page each time: nothing cached from the view before.
	view := func() []byte { return viewJSON(t, &statusPage{svc: f, log: zap.NewNop()}) }
	raw := view()
	done, err := f.l.RunRetention(ctx, fixtureNow, ledger.Retention{RawProbes: 24 * time.Hour, Lag: 11 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if done.Rolled == 0 || done.Deleted == 0 {
		t.Fatalf("retention did nothing to see: %+v", done)
	}
	if got := view(); !bytes.Equal(got, raw) {
		t.Errorf("from the rollups:\n%s", firstDifference(got, raw))
	}
}

// viewJSON is what a view of p shows: its targets and its /api/v1/status, as JSON.
func viewJSON(t *testing.T, p *statusPage) []byte {
	t.Helper()
	d, err := p.gatherer().gather(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{d.Targets, statusJSON(d)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstDifference(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			lo := max(0, i-120)
			return string(a[lo:min(len(a), i+120)]) + "\nwant\n" + string(b[lo:min(len(b), i+120)])
		}
	}
	return "lengths differ"
}

// A page that keeps the sparkline's settled quarter-hours shows, an hour and probes later,
// what a page reading them all shows.
func TestSparklineKeptIsTheSame(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kept := &statusPage{svc: f, log: zap.NewNop()}
	view := func(p *statusPage) []byte { return viewJSON(t, p) }
	view(kept)
	start := f.clk.Now()
	for k := range 12 {
		at := start.Add(time.Duration(k) * 5 * time.Minute)
		p := ledger.Probe{Target: "backup-portal", Vantage: "anyang", StartedAt: at, Duration: time.Duration(100+k*30) * time.Millisecond,
			Outcome: "ok", StatusCode: 200, Interval: 30 * time.Minute}
		if k == 5 {
			p.Outcome, p.Failed, p.StatusCode = "http_status", true, 502
		}
		if _, _, err := f.l.RecordProbe(ctx, p, incident.Policy{OpenAfter: 2, CloseAfter: 2}, ledger.Scoring{Site: "backup"}); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.Advance(time.Hour)
	if got, want := view(kept), view(&statusPage{svc: f, log: zap.NewNop()}); !bytes.Equal(got, want) {
		t.Errorf("with the kept quarter-hours:\n%s", firstDifference(got, want))
	}
}

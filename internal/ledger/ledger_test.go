package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
)

var (
	t0  = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	pol = incident.Policy{OpenAfter: 2, CloseAfter: 2}
)

func openTemp(t testing.TB, path string) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// feed records one probe per 30 s following script ('.' good, 'x' failed) from probe index i0.
func feed(t *testing.T, l *Ledger, target, script string, i0 int) {
	t.Helper()
	for i, c := range script {
		p := Probe{Target: target, StartedAt: t0.Add(time.Duration(i0+i) * 30 * time.Second), Outcome: "ok", StatusCode: 200}
		if c == 'x' {
			p.Failed, p.Outcome, p.Error, p.StatusCode = true, "http_status", "HTTP 503", 503
		}
		if _, _, err := l.RecordProbe(context.Background(), p, pol, Scoring{Site: "portal", Scored: true}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRecordProbeIncidentsAndRisks(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "a.db"))
	feed(t, l, "portal", "..x..xxx..x.xx", 0)
	feed(t, l, "mirror", "....", 0)
	ctx := context.Background()
	tot, err := l.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := tot["portal"]
	if p.Incidents != 2 || p.RiskEvents != 2 || p.Open == nil {
		t.Fatalf("portal totals = %+v, want 2 incidents, 2 risk events, one open", p)
	}
	if p.Outcomes["ok"] != 7 || p.Outcomes["http_status"] != 7 {
		t.Errorf("outcomes = %v", p.Outcomes)
	}
	if tot["mirror"].Incidents != 0 {
		t.Errorf("mirror incidents = %d", tot["mirror"].Incidents)
	}
	inc, err := l.Incidents(ctx, time.Time{}, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc) != 2 {
		t.Fatalf("incidents = %+v", inc)
	}
	first := inc[0]
	if !first.StartedAt.Equal(t0.Add(5*30*time.Second)) || !first.EndedAt.Equal(t0.Add(8*30*time.Second)) {
		t.Errorf("first incident %v – %v", first.StartedAt, first.EndedAt)
	}
	if first.FailedProbes != 3 || first.Outcome != "http_status" || first.FirstError != "HTTP 503" {
		t.Errorf("first incident = %+v", first)
	}
	// As of an instant, an incident confirmed later does not exist yet, and one that ended
	// later is still open.
	asOf := map[string]struct {
		at        time.Time
		incidents int
		firstOpen bool
	}{
		"before the first confirmation":  {t0.Add(6 * 30 * time.Second), 0, false},
		"first confirmed, not yet ended": {t0.Add(7 * 30 * time.Second), 1, true},
		"an hour later":                  {t0.Add(time.Hour), 2, false},
	}
	for name, tc := range asOf {
		got, err := l.IncidentsAsOf(ctx, tc.at, t0)
		if err != nil || len(got) != tc.incidents {
			t.Errorf("%s: %d incidents (%v), want %d", name, len(got), err, tc.incidents)
			continue
		}
		if len(got) > 0 && got[0].Open() != tc.firstOpen {
			t.Errorf("%s: first incident open = %t, want %t", name, got[0].Open(), tc.firstOpen)
		}
	}
}

func TestOpenIncidentSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	l := openTemp(t, path)
	feed(t, l, "portal", ".xxx", 0)
	l.Close()

	l2 := openTemp(t, path)
	feed(t, l2, "portal", "xx.x..", 4)
	inc, err := l2.Incidents(context.Background(), time.Time{}, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc) != 1 {
		t.Fatalf("incidents after restart = %d, want the one incident continued", len(inc))
	}
	if inc[0].Open() || inc[0].FailedProbes != 6 || !inc[0].StartedAt.Equal(t0.Add(30*time.Second)) {
		t.Errorf("incident = %+v", inc[0])
	}
	if n, _ := l2.CountProbes(context.Background(), "portal"); n != 10 {
		t.Errorf("probes = %d, want 10", n)
	}
	if v, _ := l2.SchemaVersion(context.Background()); v != len(migrations) {
		t.Errorf("schema version = %d", v)
	}
}

func TestRuns(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "c.db"))
	ctx := context.Background()
	id, err := l.StartRun(ctx, t0, "test", "local")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Heartbeat(ctx, id, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	runs, err := l.Runs(ctx, t0, t0.Add(2*time.Hour))
	if err != nil || len(runs) != 1 || !runs[0].LastSeenAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
}

// Once the statement cache is full, reads still work, unprepared: the probe's baseline
// check and a scan of probe rows alike.
func TestReadsPastTheStatementCache(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	if err := l.ImportProbes(ctx, []Probe{{Target: "p", Vantage: "v", StartedAt: t0, Outcome: "ok", Interval: time.Minute}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := l.readStmt(ctx, fmt.Sprintf("SELECT %d", i)); errors.Is(err, errStmtCacheFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if id, err := l.BaselineID(ctx, "p"); id != 0 || err != nil {
		t.Errorf("baseline id past a full cache: %d, %v", id, err)
	}
	if n, err := l.CountProbes(ctx, "p"); n != 1 || err != nil {
		t.Errorf("probes counted past a full cache: %d, %v", n, err)
	}
}

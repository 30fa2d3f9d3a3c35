package ledger

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
)

// Two vantages watching one target keep their own streaks, incidents and watch spans: a
// portal that fails only from one of them opens that vantage's incident alone, and a restart
// of one vantage does not cut the other's watch span.
func TestVantagesKeepTheirOwnState(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	sc := Scoring{Site: "portal", Scored: true}
	probe := func(vantage string, i int, failed bool) incident.State {
		t.Helper()
		o := "ok"
		if failed {
			o = "timeout"
		}
		st, _, err := l.RecordProbe(ctx, Probe{Target: "home", Vantage: vantage, StartedAt: t0.Add(time.Duration(i) * 30 * time.Second),
			Duration: time.Second, Outcome: o, Failed: failed, Interval: 30 * time.Second}, pol, sc)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if _, err := l.StartRun(ctx, t0, "test", "a"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		probe("a", i, true)
		probe("b", i, false)
		probe("c", i, true)
	}
	a, _ := l.TargetState(ctx, "home", "a")
	b, _ := l.TargetState(ctx, "home", "b")
	if !a.Open() || b.Open() || a.StreakOut != "timeout" {
		t.Fatalf("state a %+v, b %+v: want a open after 3 failures, b healthy", a, b)
	}
	// a and c each have their incident of the target open at once.
	incs, _ := l.Incidents(ctx, time.Time{}, time.Time{}, true)
	if len(incs) != 2 || incs[0].Vantage != "a" || incs[1].Vantage != "c" {
		t.Fatalf("open incidents %+v, want one of vantage a and one of c", incs)
	}
	// Vantage b restarts: a's span goes on, b's begins again.
	if _, err := l.StartRun(ctx, t0.Add(2*time.Minute), "test", "b"); err != nil {
		t.Fatal(err)
	}
	probe("a", 3, true)
	probe("b", 3, false)
	spans, _ := l.WatchSpans(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	perVantage := map[string]int{}
	for _, s := range spans {
		perVantage[s.Vantage]++
	}
	if perVantage["a"] != 1 {
		t.Errorf("vantage a has %d spans after b restarted, want 1: %+v", perVantage["a"], spans)
	}
	// Vantage b stops watching the target: a's incident stays open.
	if ended, err := l.StopWatching(ctx, "home", "b", t0.Add(3*time.Minute)); err != nil || ended {
		t.Fatalf("stop watching from b: ended %t, %v", ended, err)
	}
	if ts, _ := l.TargetsWithState(ctx, "a"); len(ts) != 1 {
		t.Errorf("targets with state at a: %v", ts)
	}
	if ts, _ := l.TargetsWithState(ctx, "b"); len(ts) != 0 {
		t.Errorf("targets with state at b after it stopped watching: %v", ts)
	}
	if incs, _ := l.Incidents(ctx, time.Time{}, time.Time{}, true); len(incs) != 2 {
		t.Errorf("open incidents after b stopped watching: %+v", incs)
	}
	if last, _ := l.LastProbe(ctx, "home", "b"); !last.Equal(t0.Add(90 * time.Second)) {
		t.Errorf("last probe of b %s", last)
	}
}

// A ledger of schema 13 keeps its targets' states at 14, each given the vantage that was
// watching it.
func TestMigrationGivesStatesTheirVantage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v13.db")
	db := ledgerAtVersion(t, path, 13)
	for _, q := range []string{
		`INSERT INTO runs (started_at, last_seen_at, version, vantage) VALUES (1, 1, 'v', 'puyang')`,
		`INSERT INTO watch_spans (id, target, vantage, started_at, ended_at) VALUES (7, 'home', 'zhengzhou', 1, 2)`,
		`INSERT INTO target_state (target, fail_streak, good_streak, streak_started_at, streak_outcome, streak_error,
			good_started_at, span_id) VALUES ('home', 1, 0, 1, 'timeout', '', 0, 7), ('list', 0, 4, 0, '', '', 1, NULL)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	l, err := Open(ctx, ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for target, vantage := range map[string]string{"home": "zhengzhou", "list": "puyang"} {
		if ts, _ := l.TargetsWithState(ctx, vantage); len(ts) != 1 || ts[0] != target {
			t.Errorf("targets with state at %s: %v, want [%s]", vantage, ts, target)
		}
	}
	if st, _ := l.TargetState(ctx, "home", "zhengzhou"); st.FailStreak != 1 || st.StreakOut != "timeout" {
		t.Errorf("home's state after migration %+v", st)
	}
}

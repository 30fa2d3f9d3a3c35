package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

// The history the rollup tests fold: two days and a bit of one-minute probes of three
// targets from two vantages (imported), with durations to the nanosecond and every outcome,
// and a flaky target probed through the incident machine, whose incidents keep the raw
// rows of the hours they began in.
var (
	histFrom = t0.Add(-26 * time.Hour).Add(17 * time.Second)
	histTo   = t0.Add(50 * time.Hour)
)

func writeHistory(t *testing.T, l *Ledger) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	outcomes := []string{"ok", "ok", "ok", "ok", "ok", "ok", "timeout", "http_status", "challenged", "content_mismatch"}
	var batch []Probe
	for at := histFrom; at.Before(histTo); at = at.Add(time.Minute) {
		for i, target := range []string{"portal", "list", "mirror"} {
			vantage := "puyang"
			if i == 2 && at.Minute()%2 == 0 {
				vantage = "zhengzhou"
			}
			o := outcomes[rng.IntN(len(outcomes))]
			p := Probe{Target: target, Vantage: vantage, StartedAt: at.Add(time.Duration(i) * 7 * time.Second),
				Duration: time.Duration(rng.Int64N(int64(3 * time.Second))), Outcome: o, Failed: o != "ok" && o != "challenged",
				Interval: time.Minute}
			batch = append(batch, p)
		}
	}
	if err := l.ImportProbes(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// The flaky target: incidents that begin at odd minutes, one still open at the end.
	script := "...xxx....xx.xxxx.....x..xxxxx...........xxxx" + "......xxxxxxxxxxxxxx"
	for k := 0; k < 3; k++ {
		for i, c := range script {
			at := histFrom.Add(time.Duration(k)*20*time.Hour + time.Duration(i)*90*time.Second + 3*time.Second)
			p := Probe{Target: "flaky", Vantage: "puyang", StartedAt: at, Duration: time.Duration(100+i) * time.Millisecond,
				Outcome: "ok", StatusCode: 200, Interval: 90 * time.Second}
			if c == 'x' {
				p.Failed, p.Outcome, p.Error = true, "timeout", "timed out"
			}
			if k < 2 && i >= len(script)-14 {
				// The first two runs recover.
				p.Failed, p.Outcome, p.Error = false, "ok", ""
			}
			if _, _, err := l.RecordProbe(ctx, p, pol, Scoring{Site: "portal", Scored: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// figures are what every reader of probes says of the history, as JSON. aligned leaves out
// the readings whose buckets or bounds are not whole quarter-hours, which only raw rows can
// give.
func figures(t *testing.T, l *Ledger, aligned bool) string {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	var err error
	must := func(name string, v any, e error) {
		if e != nil {
			t.Fatalf("%s: %v", name, e)
		}
		out[name] = v
	}
	day := histFrom.Truncate(24 * time.Hour).Add(-8 * time.Hour) // a Shanghai midnight
	days, err := l.ProbeDays(ctx, day, histTo.Add(24*time.Hour))
	must("days", days, err)
	days, err = l.ProbeDays(ctx, day.Add(24*time.Hour), day.Add(48*time.Hour))
	must("one day", days, err)
	for _, b := range []time.Duration{time.Hour, 24 * time.Hour} {
		rt, err := l.ResponseTimes(ctx, day.Add(12*time.Hour), histTo, b)
		must("response times by "+b.String(), rt, err)
	}
	days, err = l.ProbeDays(ctx, day, histTo.Add(24*time.Hour), "mirror", "flaky")
	must("days of mirror and flaky", days, err)
	// Quarter-hours are kept as long as raw rows: the tests keep a day of them.
	rt, err := l.ResponseTimes(ctx, t0.Add(27*time.Hour), histTo, 15*time.Minute)
	must("response times by 15m", rt, err)
	rt, err = l.ResponseTimes(ctx, t0.Add(27*time.Hour), histTo, 15*time.Minute, "mirror")
	must("response times of mirror by 15m", rt, err)
	tot, err := l.Totals(ctx)
	must("totals", tot, err)
	n, err := l.CountProbes(ctx, "")
	must("probes", n, err)
	n, err = l.CountProbes(ctx, "mirror")
	must("probes of mirror", n, err)
	incs, err := l.Incidents(ctx, time.Time{}, time.Time{}, false)
	must("incidents", incs, err)
	for _, i := range incs {
		// As the report counts an incident open at a month's end: from its start.
		n, err := l.CountFailedProbes(ctx, i.Target, i.StartedAt, histTo.Truncate(time.Hour))
		must(fmt.Sprintf("failed in incident %d", i.ID), n, err)
	}
	for k := 0; k < 6; k++ {
		from := day.Add(time.Duration(k) * 9 * time.Hour)
		ok, err := l.ProbedOK(ctx, from, from.Add(9*time.Hour))
		must(fmt.Sprintf("probed ok %d", k), ok, err)
	}
	if !aligned {
		rt, err := l.ResponseTimes(ctx, histFrom.Add(time.Minute), histTo, 7*time.Minute)
		must("response times by 7m", rt, err)
		n, err := l.CountFailedProbes(ctx, "portal", histFrom.Add(93*time.Minute), histTo.Add(-17*time.Minute))
		must("failed, odd bounds", n, err)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameFigures(t *testing.T, when, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	var g, w map[string]any
	json.Unmarshal([]byte(got), &g)
	json.Unmarshal([]byte(want), &w)
	for k := range w {
		if reflect.DeepEqual(g[k], w[k]) {
			continue
		}
		gl, _ := g[k].([]any)
		wl, _ := w[k].([]any)
		if len(gl) != len(wl) {
			t.Errorf("%s: %s has %d rows, want %d", when, k, len(gl), len(wl))
			continue
		}
		for i := range wl {
			if !reflect.DeepEqual(gl[i], wl[i]) {
				t.Errorf("%s: %s[%d] = %v, want %v", when, k, i, gl[i], wl[i])
				break
			}
		}
		if len(wl) == 0 {
			t.Errorf("%s: %s = %v, want %v", when, k, g[k], w[k])
		}
	}
}

// What is rolled up reads the same as the raw rows it came from, at every batch of the
// rollup (the quarter-hour R falls in rolled up in part), and after the raw rows are gone.
func TestRollupsReadAsRawRows(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	raw, rawAligned := figures(t, l, false), figures(t, l, true)
	l.retentionRows = 1999 // batches end at odd instants
	var batches atomic.Int32
	var deleting atomic.Bool
	l.afterRetentionBatch = func() {
		if batches.Add(1)%3 != 0 {
			return
		}
		when := fmt.Sprintf("after batch %d", batches.Load())
		if deleting.Load() {
			sameFigures(t, when, figures(t, l, true), rawAligned)
		} else {
			sameFigures(t, when, figures(t, l, false), raw)
		}
	}
	now := histTo.Add(time.Hour)
	done, err := l.RunRetention(ctx, now, Retention{Lag: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := l.RollupStatus(ctx)
	if !st.RolledTo.Equal(now.Add(-90*time.Minute)) || done.Deleted != 0 || done.Rolled == 0 {
		t.Fatalf("rolled to %s, %+v", st.RolledTo, done)
	}
	sameFigures(t, "rolled up", figures(t, l, false), raw)

	// Raw rows of the first day and a half go: what is left of them are the hours in which
	// incidents began.
	before, _ := l.rawRows(ctx)
	deleting.Store(true)
	done, err = l.RunRetention(ctx, now, Retention{RawProbes: 25 * time.Hour, Lag: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := l.rawRows(ctx)
	if done.Deleted == 0 || after != before-done.Deleted {
		t.Fatalf("deleted %d of %d raw rows, %d left", done.Deleted, before, after)
	}
	var kept, others int
	err = l.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE target != 'flaky' OR NOT `+keptHour+`) FROM probes
		WHERE started_at < ?`, ms(now.Add(-25*time.Hour).Truncate(time.Hour))).Scan(&kept, &others)
	if err != nil || kept == 0 || others != 0 {
		t.Errorf("raw rows left before the retention: %d, %d of them not in an hour an incident began in (%v)", kept, others, err)
	}
	sameFigures(t, "raw rows deleted", figures(t, l, true), rawAligned)

	// Running it again does nothing.
	done, err = l.RunRetention(ctx, now, Retention{RawProbes: 25 * time.Hour, Lag: 90 * time.Minute})
	if err != nil || done.Batches != 0 || done.Rolled+done.Deleted+done.Pruned != 0 {
		t.Errorf("again: %+v, %v", done, err)
	}
	sameFigures(t, "again", figures(t, l, true), rawAligned)
}

// Reading some targets gives what reading them all gives of those targets: named in the
// query, or, past maxTargetsIn names, left out as the rows come; from raw rows and from
// rollups.
func TestProbeSumsOfSomeTargets(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	day := histFrom.Truncate(24 * time.Hour).Add(-8 * time.Hour)
	many := []string{"flaky", "mirror"}
	for i := len(many); i <= maxTargetsIn; i++ {
		many = append(many, fmt.Sprintf("absent-%03d", i))
	}
	check := func(when string) {
		t.Helper()
		allDays, err := l.ProbeDays(ctx, day, histTo)
		if err != nil {
			t.Fatal(err)
		}
		allTimes, err := l.ResponseTimes(ctx, t0.Add(27*time.Hour), histTo, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, names := range [][]string{{"mirror"}, {"flaky", "mirror", "absent"}, many} {
			keep := map[string]bool{}
			for _, n := range names {
				keep[n] = true
			}
			var wantDays []DayStats
			for _, d := range allDays {
				if keep[d.Target] {
					wantDays = append(wantDays, d)
				}
			}
			gotDays, err := l.ProbeDays(ctx, day, histTo, names...)
			if err != nil || len(wantDays) == 0 || !reflect.DeepEqual(gotDays, wantDays) {
				t.Errorf("%s, days of %d targets: %v\n%v\nwant\n%v", when, len(names), err, gotDays, wantDays)
			}
			var wantTimes []ResponseBucket
			for _, b := range allTimes {
				if keep[b.Target] {
					wantTimes = append(wantTimes, b)
				}
			}
			gotTimes, err := l.ResponseTimes(ctx, t0.Add(27*time.Hour), histTo, 15*time.Minute, names...)
			if err != nil || len(wantTimes) == 0 || !reflect.DeepEqual(gotTimes, wantTimes) {
				t.Errorf("%s, response times of %d targets: %v, %d buckets, want %d", when, len(names), err, len(gotTimes), len(wantTimes))
			}
		}
	}
	check("raw rows")
	if _, err := l.RunRetention(ctx, histTo.Add(time.Hour), Retention{Lag: 90 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	check("rolled up")
}

func (l *Ledger) rawRows(ctx context.Context) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM probes`).Scan(&n)
	return n, err
}

// A crash is a copy of the ledger as committed between two batches: it reads as the
// ledger did, and finishing the retention from it gives what an uninterrupted run gives.
func TestRetentionSurvivesACrash(t *testing.T) {
	sqliteOnly(t, "a crash is simulated by a copy of the ledger file between two batches (VACUUM INTO)")
	dir := t.TempDir()
	l := openTemp(t, filepath.Join(dir, "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	want := figures(t, l, true)
	now := histTo.Add(time.Hour)
	ret := Retention{RawProbes: 30 * time.Hour, Lag: time.Hour}
	l.retentionRows = 1500
	var batches atomic.Int32
	var crashes []string
	l.afterRetentionBatch = func() {
		// Mid-roll, and mid-deletion.
		if n := batches.Add(1); n == 5 || n == 14 {
			crash := filepath.Join(dir, fmt.Sprintf("crash-%d.db", n))
			if err := l.Backup(ctx, crash); err != nil {
				t.Fatal(err)
			}
			crashes = append(crashes, crash)
		}
	}
	done, err := l.RunRetention(ctx, now, ret)
	if err != nil {
		t.Fatal(err)
	}
	if done.Batches < 14 || done.Deleted == 0 {
		t.Fatalf("retention %+v: want a crash mid-roll and one mid-deletion", done)
	}
	end, _ := l.RollupStatus(ctx)
	for _, crash := range crashes {
		r := openTemp(t, crash)
		st, _ := r.RollupStatus(ctx)
		if !st.RolledTo.Before(end.RolledTo) && !st.RawFrom.Before(end.RawFrom) {
			t.Errorf("%s: the copy was taken after the retention finished (%+v)", crash, st)
		}
		sameFigures(t, crash, figures(t, r, true), want)
		r.retentionRows = 777
		if _, err := r.RunRetention(ctx, now, ret); err != nil {
			t.Fatal(err)
		}
		if st, _ := r.RollupStatus(ctx); st != end {
			t.Errorf("%s: finished at %+v, want %+v", crash, st, end)
		}
		sameFigures(t, crash+", finished", figures(t, r, true), want)
		if a, b := tableDump(t, r), tableDump(t, l); a != b {
			t.Errorf("%s: the rollups differ from an uninterrupted run's", crash)
		}
	}
}

// tableDump is every rollup row.
func tableDump(t *testing.T, l *Ledger) string {
	t.Helper()
	var out []any
	for _, table := range []string{"probe_quarters", "probe_hours", "probe_days"} {
		err := l.scanRows(context.Background(), func(rows *sql.Rows) error {
			var r [10]any
			ptrs := make([]any, len(r))
			for i := range r {
				ptrs[i] = &r[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			out = append(out, table, r)
			return nil
		}, `SELECT start, target, vantage, outcome, `+rollupColumns+` FROM `+table+` ORDER BY start, target, vantage, outcome`)
		if err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// Probes recorded while retention runs are not lost: one on time, written between two
// batches, and one recorded late, for time already rolled up (and its raw rows deleted),
// which the trigger adds to the rollups.
func TestProbesRecordedDuringRetention(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	now := histTo.Add(time.Hour)
	l.retentionRows = 1000
	var batches atomic.Int32
	var written []time.Time
	l.afterRetentionBatch = func() {
		n := batches.Add(1)
		if n%4 != 0 {
			return
		}
		st, _ := l.RollupStatus(ctx)
		// Late: in the quarter-hour R falls in, and an hour before it.
		for _, at := range []time.Time{st.RolledTo.Add(-time.Millisecond), st.RolledTo.Add(-time.Hour), now.Add(-time.Second)} {
			done := make(chan error, 1)
			go func() {
				_, _, err := l.RecordProbe(ctx, Probe{Target: "live", Vantage: "puyang", StartedAt: at, Duration: 250 * time.Millisecond,
					Outcome: "ok", StatusCode: 200, Interval: time.Minute}, pol, Scoring{Site: "portal", Scored: true})
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Error(err)
				}
				written = append(written, at)
			case <-time.After(20 * time.Second):
				t.Fatal("a probe waited for the whole retention")
			}
		}
	}
	if _, err := l.RunRetention(ctx, now, Retention{RawProbes: 26 * time.Hour, Lag: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	// And one after, for a day long rolled up and deleted.
	old := histFrom.Add(2 * time.Hour)
	if err := l.ImportProbes(ctx, []Probe{{Target: "live", Vantage: "puyang", StartedAt: old, Duration: time.Second, Outcome: "ok"}}); err != nil {
		t.Fatal(err)
	}
	written = append(written, old)
	if len(written) < 7 {
		t.Fatalf("%d probes written during retention", len(written))
	}
	if n, _ := l.CountProbes(ctx, "live"); n != len(written) {
		t.Errorf("live probes counted: %d, want %d", n, len(written))
	}
	days, err := l.ProbeDays(ctx, histFrom.Add(-24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	perDay := map[string]int{}
	for _, d := range days {
		if d.Target == "live" {
			perDay[d.Day] += d.Probes
		}
	}
	want := map[string]int{}
	for _, at := range written {
		want[at.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)]++
	}
	if !reflect.DeepEqual(perDay, want) {
		t.Errorf("live probes by day %v, want %v", perDay, want)
	}
	if tot, _ := l.Totals(ctx); tot["live"].Outcomes["ok"] != len(written) {
		t.Errorf("live outcomes %v", tot["live"].Outcomes)
	}
}

// Retention leaves incidents, their evidence, risk events and the chain as they were, and
// so the chain still verifies; rollups past their years go, with the watch spans.
func TestRetentionLeavesTheChain(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	snapshot := func() string {
		incs, _ := l.Incidents(ctx, time.Time{}, time.Time{}, false)
		risks, _ := l.RiskEvents(ctx, time.Time{}, histTo.Add(time.Hour))
		var evidence []any
		for _, i := range incs {
			ev, _ := l.IncidentEvidence(ctx, i.ID)
			evidence = append(evidence, ev)
		}
		b, _ := json.Marshal([]any{incs, risks, evidence})
		return string(b)
	}
	before := snapshot()
	if len(before) < 200 {
		t.Fatalf("history has too little to check: %s", before)
	}
	now := histTo.Add(40 * 24 * time.Hour)
	horizon := histFrom.Add(48 * time.Hour)
	done, err := l.RunRetention(ctx, now, Retention{RawProbes: 35 * 24 * time.Hour, RollupsFrom: horizon, Lag: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if done.Pruned == 0 {
		t.Errorf("nothing pruned: %+v", done)
	}
	if after := snapshot(); after != before {
		t.Errorf("incidents, risk events or evidence changed:\n%s\nwant\n%s", after, before)
	}
	c, err := l.VerifyChain(ctx)
	if err != nil || !c.OK() || c.Events == 0 {
		t.Fatalf("chain after retention: %+v, %v", c, err)
	}
	st, _ := l.RollupStatus(ctx)
	var old int
	l.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM probe_hours WHERE start < :h) + (SELECT COUNT(*) FROM probe_days WHERE start < :h)
		+ (SELECT COUNT(*) FROM watch_spans WHERE ended_at < :h)`, sql.Named("h", ms(st.RollupsFrom))).Scan(&old)
	if old != 0 || st.RollupsFrom.After(horizon) || st.RollupsFrom.Before(horizon.Add(-24*time.Hour)) {
		t.Errorf("rollups from %s (horizon %s), %d rows before it", st.RollupsFrom, horizon, old)
	}
}

func TestPlan(t *testing.T) {
	const h, q, d = hourMS, quarterMS, dayMS
	day0 := int64(10*d - shanghaiMS) // a Shanghai midnight
	st := rollupState{rolledTo: day0 + 2*d + 5*h + 2*q + 1234, rawFrom: day0 + d + 3*h + 5}
	days := buckets{origin: -shanghaiMS, width: d}
	for _, tc := range []struct {
		name     string
		from, to int64
		b        buckets
		want     []piece
	}{
		{"all raw after R", st.rolledTo + 1, st.rolledTo + d, days, []piece{{"", st.rolledTo + 1, st.rolledTo + d}}},
		{"days, hours, the quarter R is in, raw", day0, day0 + 4*d, days, []piece{
			{"probe_days", day0, day0 + 2*d}, {"probe_hours", day0 + 2*d, day0 + 2*d + 5*h},
			{"probe_quarters", day0 + 2*d + 5*h, st.rolledTo}, {"", st.rolledTo, day0 + 4*d}}},
		{"edges before the kept hour are raw", day0 + 5*h + 7, day0 + 2*d + 3*q, days, []piece{
			{"", day0 + 5*h + 7, day0 + 6*h}, {"probe_hours", day0 + 6*h, day0 + d},
			{"probe_days", day0 + d, day0 + 2*d}, {"probe_quarters", day0 + 2*d, day0 + 2*d + 3*q}}},
		{"quarters after the kept hour", day0 + d + 3*h + q + 9, day0 + d + 5*h, buckets{}, []piece{
			{"", day0 + d + 3*h + q + 9, day0 + d + 3*h + 2*q}, {"probe_quarters", day0 + d + 3*h + 2*q, day0 + d + 4*h},
			{"probe_hours", day0 + d + 4*h, day0 + d + 5*h}}},
		{"15-minute buckets read quarters", day0 + 2*d, day0 + 2*d + 6*h, buckets{origin: day0, width: q}, []piece{
			{"probe_quarters", day0 + 2*d, st.rolledTo}, {"", st.rolledTo, day0 + 2*d + 6*h}}},
		{"odd buckets read raw rows", day0 + 2*d, day0 + 2*d + 6*h, buckets{origin: day0, width: 7 * 60000}, []piece{
			{"", day0 + 2*d, day0 + 2*d + 6*h}}},
		{"a bound inside R's quarter", day0 + 2*d + 5*h + 2*q + 1, day0 + 3*d, buckets{}, []piece{
			{"", day0 + 2*d + 5*h + 2*q + 1, day0 + 3*d}}},
	} {
		if got := plan(st, tc.from, tc.to, tc.b); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: plan = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A target's last probe is found in its raw rows, and in the rollups once they are gone.
func TestLastProbeAfterRetention(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	writeHistory(t, l)
	ctx := context.Background()
	// mirror is probed from puyang in odd minutes and from zhengzhou in even ones.
	vantage := "puyang"
	if histTo.Add(-time.Minute).Minute()%2 == 0 {
		vantage = "zhengzhou"
	}
	last, err := l.LastProbe(ctx, "mirror", vantage)
	if want := histTo.Add(-time.Minute + 31*time.Second); err != nil || !last.Equal(want) {
		t.Fatalf("last probe of mirror %s, want %s (%v)", last, want, err)
	}
	if _, err := l.RunRetention(ctx, histTo.Add(30*24*time.Hour), Retention{RawProbes: 24 * time.Hour, Lag: time.Minute}); err != nil {
		t.Fatal(err)
	}
	// Its quarter-hours went with its raw rows: the hour of its last probe.
	if got, err := l.LastProbe(ctx, "mirror", vantage); err != nil || !got.Equal(last.Truncate(time.Hour)) {
		t.Errorf("last probe of mirror after retention %s, want %s (%v)", got, last.Truncate(time.Hour), err)
	}
	if got, err := l.LastProbe(ctx, "never-probed", vantage); err != nil || !got.IsZero() {
		t.Errorf("last probe of a target never probed: %s, %v", got, err)
	}
}

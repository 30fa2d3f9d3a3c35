package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func probeAt(target string, i int, failed bool) Probe {
	p := Probe{Target: target, StartedAt: t0.Add(time.Duration(i) * 30 * time.Second), Outcome: "ok", StatusCode: 200,
		Interval: 30 * time.Second}
	if failed {
		p.Failed, p.Outcome, p.Error, p.StatusCode = true, "http_status", "HTTP 503", 503
	}
	return p
}

func record(l *Ledger, p Probe) error {
	_, _, err := l.RecordProbe(context.Background(), p, pol, Scoring{Site: "portal", Scored: true})
	return err
}

// gate holds the probe writer's first commit until release, so that the probes handed
// over meanwhile are committed together in the next batch. It returns the sizes of the
// batches committed.
type gate struct {
	entered, release chan struct{}
	mu               sync.Mutex
	sizes            []int
}

func hold(l *Ledger) *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	first := true
	l.pw.beforeCommit = func(n int) {
		g.mu.Lock()
		g.sizes = append(g.sizes, n)
		wait := first
		first = false
		g.mu.Unlock()
		if wait {
			close(g.entered)
			<-g.release
		}
	}
	return g
}

// queued waits until n probes wait in the writer's queue.
func queued(l *Ledger, n int) {
	for len(l.pw.queue) < n {
		time.Sleep(time.Millisecond)
	}
}

// A probe is acknowledged only once its row is on disk: RecordProbe has not returned, and
// no reader sees the row, while the commit is held; both once it is done.
func TestProbeAcknowledgedAfterCommit(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	g := hold(l)
	done := make(chan error, 1)
	go func() { done <- record(l, probeAt("portal", 0, false)) }()
	<-g.entered
	select {
	case err := <-done:
		t.Fatalf("RecordProbe returned (%v) before its commit", err)
	default:
	}
	if n, err := l.CountProbes(context.Background(), ""); err != nil || n != 0 {
		t.Fatalf("a reader sees %d probes before the commit (%v)", n, err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, _ := l.CountProbes(context.Background(), ""); n != 1 {
		t.Errorf("%d probes after the commit, want 1", n)
	}
}

// Probes handed over while a commit is on its way are committed together, in one
// transaction, each with its own state.
func TestProbesArrivingDuringACommitShareTheNext(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	g := hold(l)
	errs := make(chan error, 6)
	go func() { errs <- record(l, probeAt("first", 0, false)) }()
	<-g.entered
	for i := range 5 {
		go func() { errs <- record(l, probeAt(fmt.Sprintf("t%d", i), 0, true)) }()
	}
	queued(l, 5)
	close(g.release)
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(g.sizes) != "[1 5]" {
		t.Errorf("batches of %v probes, want [1 5]", g.sizes)
	}
	for i := range 5 {
		st, err := l.TargetState(context.Background(), fmt.Sprintf("t%d", i), "")
		if err != nil || st.FailStreak != 1 {
			t.Errorf("t%d: state %+v, %v; want a fail streak of 1", i, st, err)
		}
	}
}

// Many targets probing at once, each its next probe after the last was answered: every
// probe is written, each target's in the order made, and the incidents and risk events are
// those of the same probes written one at a time.
func TestGroupCommitKeepsEachTargetsProbesInOrder(t *testing.T) {
	ctx := context.Background()
	script := "..x..xxx..x.xx...xxxx.x.."
	const targets = 12
	grouped := openTemp(t, filepath.Join(t.TempDir(), "grouped.db"))
	grouped.SetCommitWindow(5 * time.Millisecond)
	var wg sync.WaitGroup
	for k := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, c := range script {
				if err := record(grouped, probeAt(fmt.Sprintf("t%02d", k), i, c == 'x')); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	single := openTemp(t, filepath.Join(t.TempDir(), "single.db"))
	for k := range targets {
		feed(t, single, fmt.Sprintf("t%02d", k), script, 0)
	}
	for _, l := range []*Ledger{grouped, single} {
		if n, _ := l.CountProbes(ctx, ""); n != targets*len(script) {
			t.Fatalf("%d probes written, want %d", n, targets*len(script))
		}
	}
	// Each target's probes, in the order written (by id), are its probes in the order made.
	for k := range targets {
		target := fmt.Sprintf("t%02d", k)
		var got []string
		err := grouped.scanRows(ctx, func(rows *sql.Rows) error {
			var at int64
			var failed bool
			if err := rows.Scan(&at, &failed); err != nil {
				return err
			}
			got = append(got, fmt.Sprint(int64(fromMS(at).Sub(t0)/(30*time.Second)), failed))
			return nil
		}, `SELECT started_at, failed FROM probes WHERE target = ? ORDER BY id`, target)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i, c := range script {
			want = append(want, fmt.Sprint(i, c == 'x'))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: probes written %v, want %v", target, got, want)
		}
	}
	gt, _ := grouped.Totals(ctx)
	st, _ := single.Totals(ctx)
	for k := range targets {
		target := fmt.Sprintf("t%02d", k)
		g, s := gt[target], st[target]
		if g.Incidents != s.Incidents || g.RiskEvents != s.RiskEvents || (g.Open == nil) != (s.Open == nil) {
			t.Errorf("%s: %d incidents, %d risk events grouped; %d and %d one at a time", target, g.Incidents, g.RiskEvents,
				s.Incidents, s.RiskEvents)
		}
	}
	if c, err := grouped.VerifyChain(ctx); err != nil || !c.OK() {
		t.Errorf("the chain of the grouped ledger: %v %v", err, c)
	}
}

// One probe of a batch that cannot be written fails alone: the others are written, each in
// a transaction of its own.
func TestAFailingProbeFailsAlone(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	ctx := context.Background()
	if _, err := l.w.ExecContext(ctx, testTrigger(`CREATE TRIGGER refuse_bad BEFORE INSERT ON probes WHEN NEW.target = 'bad'
		BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
		`CREATE FUNCTION refuse_bad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			IF NEW.target = 'bad' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_bad BEFORE INSERT ON probes FOR EACH ROW EXECUTE FUNCTION refuse_bad()`)); err != nil {
		t.Fatal(err)
	}
	g := hold(l)
	go record(l, probeAt("first", 0, false))
	<-g.entered
	errs := map[string]chan error{}
	for _, target := range []string{"good-1", "bad", "good-2"} {
		ch := make(chan error, 1)
		errs[target] = ch
		go func() { ch <- record(l, probeAt(target, 0, false)) }()
	}
	queued(l, 3)
	close(g.release)
	for target, ch := range errs {
		err := <-ch
		if target == "bad" {
			if err == nil || !strings.Contains(err.Error(), "refused by the test") {
				t.Errorf("bad: err = %v, want the refusal", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", target, err)
		}
		if n, _ := l.CountProbes(ctx, target); n != 1 {
			t.Errorf("%s: %d probes written, want 1", target, n)
		}
	}
	if n, _ := l.CountProbes(ctx, "bad"); n != 0 {
		t.Errorf("bad: %d probes written", n)
	}
}

// A batch whose commit fails fails every probe in it, with that error, and nothing of it is
// written; the next probes are written as usual.
func TestAFailingCommitFailsTheBatch(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	ctx := context.Background()
	// A deferred foreign key is checked at the commit: a batch holding a probe of "bad"
	// cannot commit.
	for _, q := range []string{
		`CREATE TABLE test_parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE test_child (parent INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
		testTrigger(`CREATE TRIGGER orphan AFTER INSERT ON probes WHEN NEW.target = 'bad' BEGIN INSERT INTO test_child VALUES (42); END`,
			`CREATE FUNCTION orphan() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
				IF NEW.target = 'bad' THEN INSERT INTO test_child VALUES (42); END IF; RETURN NULL; END $$;
			CREATE TRIGGER orphan AFTER INSERT ON probes FOR EACH ROW EXECUTE FUNCTION orphan()`),
	} {
		if _, err := l.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	g := hold(l)
	go record(l, probeAt("first", 0, false))
	<-g.entered
	targets := []string{"good-1", "bad", "good-2"}
	errs := make(chan error, len(targets))
	for _, target := range targets {
		go func() { errs <- record(l, probeAt(target, 0, false)) }()
	}
	queued(l, 3)
	close(g.release)
	for range targets {
		err := <-errs
		if err == nil || !strings.Contains(err.Error(), "committing probe of") || !strings.Contains(strings.ToUpper(err.Error()), "FOREIGN KEY") {
			t.Errorf("err = %v, want the failed commit", err)
		}
	}
	for _, target := range targets {
		if n, _ := l.CountProbes(ctx, target); n != 0 {
			t.Errorf("%s: %d probes written by a failed commit", target, n)
		}
		if st, _ := l.TargetState(ctx, target, ""); st.FailStreak+st.GoodStreak != 0 {
			t.Errorf("%s: state %+v written by a failed commit", target, st)
		}
	}
	if err := record(l, probeAt("good-1", 1, false)); err != nil {
		t.Fatalf("the probe after a failed commit: %v", err)
	}
	if n, _ := l.CountProbes(ctx, "good-1"); n != 1 {
		t.Errorf("good-1: %d probes after the failed commit, want 1", n)
	}
}

// Close writes the probes handed over before it; a probe after it is refused.
func TestCloseWritesWhatWasHandedOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(context.Background(), ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	g := hold(l)
	errs := make(chan error, 3)
	go func() { errs <- record(l, probeAt("t0", 0, false)) }()
	<-g.entered
	for i := 1; i < 3; i++ {
		go func() { errs <- record(l, probeAt(fmt.Sprintf("t%d", i), 0, false)) }()
	}
	queued(l, 2)
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	for {
		l.pw.mu.RLock()
		c := l.pw.closed
		l.pw.mu.RUnlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := record(l, probeAt("late", 0, false)); !errors.Is(err, ErrClosed) {
		t.Errorf("a probe after Close: %v, want ErrClosed", err)
	}
	close(g.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	l = openTemp(t, path)
	if n, _ := l.CountProbes(context.Background(), ""); n != 3 {
		t.Errorf("%d probes after Close, want 3", n)
	}
}

// spans lists a target's watch spans as offsets from t0 in probe intervals.
func spans(t *testing.T, l *Ledger, target string) string {
	t.Helper()
	all, err := l.WatchSpans(context.Background(), time.Time{}, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range all {
		if s.Target == target {
			out = append(out, fmt.Sprintf("%d-%d", s.From.Sub(t0)/(30*time.Second), s.To.Sub(t0)/(30*time.Second)))
		}
	}
	return strings.Join(out, " ")
}

// A probe that moves only the end of its watch span does not write the state row; the
// span still continues after the ledger is closed and opened again, and so do the streaks.
func TestStateKeptAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(context.Background(), ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := record(l, probeAt("portal", i, i == 2)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = openTemp(t, path)
	st, err := l.TargetState(context.Background(), "portal", "")
	if err != nil || st.FailStreak != 1 {
		t.Fatalf("state after reopening: %+v, %v; want the fail streak of 1", st, err)
	}
	for i := 3; i < 5; i++ {
		if err := record(l, probeAt("portal", i, false)); err != nil {
			t.Fatal(err)
		}
	}
	if got := spans(t, l, "portal"); got != "0-5" {
		t.Errorf("watch spans %q, want one from probe 0 to the end of probe 4", got)
	}
	if tot, _ := l.Totals(context.Background()); tot["portal"].RiskEvents != 1 {
		t.Errorf("%d risk events, want the one-probe failure streak", tot["portal"].RiskEvents)
	}
}

// The state the writer keeps of a target is forgotten when the target stops being watched
// or the run stops: the next probe starts afresh, or starts a new watch span.
func TestKeptStateForgotten(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	feed(t, l, "gone", "xx", 0) // an open incident
	if _, err := l.StopWatching(ctx, "gone", "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	feed(t, l, "gone", "x", 10)
	if st, _ := l.TargetState(ctx, "gone", ""); st.FailStreak != 1 || st.Open() {
		t.Errorf("after StopWatching, the next failure gives state %+v; want a fresh streak of 1", st)
	}
	tot, _ := l.Totals(ctx)
	if tot["gone"].Incidents != 1 || tot["gone"].Open != nil {
		t.Errorf("totals %+v: want the one incident, ended", tot["gone"])
	}

	for i := range 3 {
		if err := record(l, probeAt("portal", i, false)); err != nil {
			t.Fatal(err)
		}
	}
	run, err := l.StartRun(ctx, t0, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.StopRun(ctx, run, t0.Add(3*30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := record(l, probeAt("portal", 3, false)); err != nil {
		t.Fatal(err)
	}
	if got := spans(t, l, "portal"); got != "0-3 3-4" {
		t.Errorf("watch spans %q, want the run's stop to end the first", got)
	}
}

package availability

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/timeset"
)

func TestTimesOfSplitsWatchedTime(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	// Watched 0–10 h and 12–24 h (creditwatch down 10–12 h).
	w := &Watched{From: h(0), To: h(24), Targets: map[string]timeset.Set{
		"portal": timeset.Of(timeset.Interval{From: h(0), To: h(10)}, timeset.Interval{From: h(12), To: h(24)}),
	}}
	void := ledger.Incident{Target: "portal", StartedAt: h(14), EndedAt: h(15),
		Annotations: []ledger.Annotation{{Cause: ledger.CauseMonitorError}}}
	incs := []ledger.Incident{
		{Target: "portal", StartedAt: h(2), EndedAt: h(3)},  // down 1 h
		{Target: "portal", StartedAt: h(9), EndedAt: h(13)}, // down 1 h + 1 h, the gap between unknown
		void,                                 // unknown 1 h
		{Target: "portal", StartedAt: h(23)}, // open: down until to
	}
	times := w.TimesOf(incs, h(24))
	tt := times["portal"]
	cases := []struct {
		from, to                   time.Time
		watched, up, down, unknown time.Duration
		uptime                     *float64
	}{
		{h(0), h(24), 21 * time.Hour, 17 * time.Hour, 4 * time.Hour, 3 * time.Hour, ptr(17.0 / 21)},
		{h(10), h(12), 0, 0, 0, 2 * time.Hour, nil},
		{h(14), h(15), 0, 0, 0, time.Hour, nil},
		{h(4), h(8), 4 * time.Hour, 4 * time.Hour, 0, 0, ptr(1)},
	}
	for _, c := range cases {
		w, up, down, unknown := tt.Split(c.from, c.to)
		if w != c.watched || up != c.up || down != c.down || unknown != c.unknown {
			t.Errorf("Split(%v, %v) = %v %v %v %v, want %v %v %v %v", c.from, c.to, w, up, down, unknown,
				c.watched, c.up, c.down, c.unknown)
		}
		got := tt.Uptime(c.from, c.to)
		if (got == nil) != (c.uptime == nil) || got != nil && *got != *c.uptime {
			t.Errorf("Uptime(%v, %v) = %v, want %v", c.from, c.to, deref(got), deref(c.uptime))
		}
	}
	if _, ok := times["other"]; ok {
		t.Error("a target never watched has a time")
	}
}

func ptr(v float64) *float64 { return &v }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// The running process's run lasts until now for LoadLive, until its last heartbeat for Load;
// a run that stopped, or one that is not the latest (killed), is never extended.
func TestLoadLive(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var probes []ledger.Probe
	for at := t0; at.Before(t0.Add(3 * time.Hour)); at = at.Add(30 * time.Second) {
		probes = append(probes, ledger.Probe{Target: "portal", StartedAt: at, Outcome: "ok", Interval: 30 * time.Second})
	}
	if err := l.ImportProbes(ctx, probes); err != nil {
		t.Fatal(err)
	}
	killed, _ := l.StartRun(ctx, t0, "v", "a")
	l.Heartbeat(ctx, killed, t0.Add(time.Hour)) // killed: its last heartbeat at 1 h
	live, _ := l.StartRun(ctx, t0.Add(2*time.Hour), "v", "a")
	l.Heartbeat(ctx, live, t0.Add(2*time.Hour+30*time.Second))
	now := t0.Add(2*time.Hour + 50*time.Second)
	for _, c := range []struct {
		load func(context.Context, *ledger.Ledger, time.Time, time.Time) (*Watched, error)
		want time.Duration
	}{
		{Load, time.Hour + 30*time.Second},
		{LoadLive, time.Hour + 50*time.Second},
	} {
		w, err := c.load(ctx, l, t0, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Targets["portal"].Duration(); got != c.want {
			t.Errorf("watched %v, want %v", got, c.want)
		}
	}
	if err := l.StopRun(ctx, live, t0.Add(2*time.Hour+40*time.Second)); err != nil {
		t.Fatal(err)
	}
	w, _ := LoadLive(ctx, l, t0, now)
	if got := w.Targets["portal"].Duration(); got != time.Hour+40*time.Second {
		t.Errorf("a stopped run extended: watched %v", got)
	}
}

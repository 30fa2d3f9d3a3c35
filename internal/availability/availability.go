// Package availability splits a target's time into up, down and unknown, the one way the
// monthly report and the status page both count it: a target is watched while creditwatch
// ran (its runs) and the target was probed (its watch spans); it is down while a confirmed
// incident was open, and unknown otherwise unwatched or while an incident voided as
// creditwatch's own mistake was open (nobody knows whether the portal was up). Uptime is up
// ÷ watched; unknown time is neither up nor down.
package availability

import (
	"context"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/timeset"
)

// Watched is what creditwatch watched in [From, To): the runs of the monitor (from its
// start to its clean stop, or its last heartbeat when it was killed), and each target's
// watch spans within them.
type Watched struct {
	From, To time.Time
	Runs     timeset.Set
	Targets  map[string]timeset.Set
}

// Load reads the runs and watch spans of [from, to) from the ledger.
func Load(ctx context.Context, l *ledger.Ledger, from, to time.Time) (*Watched, error) {
	return load(ctx, l, from, to, false)
}

// LoadLive is Load for the process that is running now (serve, whose status page asks): its
// run, the latest one and not stopped, lasts until to, not only until its last heartbeat.
func LoadLive(ctx context.Context, l *ledger.Ledger, from, to time.Time) (*Watched, error) {
	return load(ctx, l, from, to, true)
}

func load(ctx context.Context, l *ledger.Ledger, from, to time.Time, live bool) (*Watched, error) {
	runs, err := l.Runs(ctx, from, to)
	if err != nil {
		return nil, err
	}
	var ivs []timeset.Interval
	for i, r := range runs {
		end := r.End()
		if live && i == len(runs)-1 && r.StoppedAt.IsZero() {
			end = to
		}
		ivs = append(ivs, timeset.Interval{From: r.StartedAt, To: end})
	}
	w := &Watched{From: from, To: to, Runs: timeset.Of(ivs...).Within(from, to), Targets: map[string]timeset.Set{}}
	spans, err := l.WatchSpans(ctx, from, to)
	if err != nil {
		return nil, err
	}
	byTarget := map[string][]timeset.Interval{}
	for _, s := range spans {
		byTarget[s.Target] = append(byTarget[s.Target], timeset.Interval{From: s.From, To: s.To})
	}
	for t, ivs := range byTarget {
		w.Targets[t] = timeset.Of(ivs...).Intersect(w.Runs)
	}
	return w, nil
}

// Time is one target's time split into watched (voided incidents taken out) and down.
type Time struct {
	Watched, Down timeset.Set
}

// Split is the target's [from, to) split into watched, up, down and unknown.
func (tt Time) Split(from, to time.Time) (watched, up, down, unknown time.Duration) {
	w := tt.Watched.Within(from, to)
	dn := tt.Down.Within(from, to)
	return w.Duration(), w.Duration() - dn.Duration(), dn.Duration(), to.Sub(from) - w.Duration()
}

// Uptime is up ÷ watched over [from, to), nil when nothing was watched.
func (tt Time) Uptime(from, to time.Time) *float64 {
	w, up, _, _ := tt.Split(from, to)
	return Ratio(up, w)
}

// TimesOf splits each target's watched time by its incidents (as they stood at to): down
// while an incident was open, unknown while a voided one was. An incident still open is
// open until to.
func (w *Watched) TimesOf(incs []ledger.Incident, to time.Time) map[string]Time {
	down, void := map[string][]timeset.Interval{}, map[string][]timeset.Interval{}
	for _, i := range incs {
		end := i.EndedAt
		if i.Open() {
			end = to
		}
		iv := timeset.Interval{From: i.StartedAt, To: end}
		if i.Voided() {
			void[i.Target] = append(void[i.Target], iv)
		} else {
			down[i.Target] = append(down[i.Target], iv)
		}
	}
	out := map[string]Time{}
	for t, ws := range w.Targets {
		ws = ws.Minus(timeset.Of(void[t]...))
		out[t] = Time{Watched: ws, Down: timeset.Of(down[t]...).Intersect(ws)}
	}
	return out
}

// Ratio is up ÷ watched, nil when nothing was watched.
func Ratio(up, watched time.Duration) *float64 {
	if watched <= 0 {
		return nil
	}
	r := up.Seconds() / watched.Seconds()
	return &r
}

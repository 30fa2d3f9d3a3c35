package report

import (
	"context"
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/availability"
	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/timeset"
)

// monitorOf says when creditwatch itself was running, and the gaps.
func monitorOf(w *availability.Watched, from, to time.Time) Monitor {
	gaps := timeset.Of(timeset.Interval{From: from, To: to}).Minus(w.Runs)
	m := Monitor{WatchedSeconds: w.Runs.Duration().Seconds(), UnknownSeconds: gaps.Duration().Seconds(), Gaps: []Span{}}
	for _, g := range gaps {
		m.Gaps = append(m.Gaps, Span{From: stamp(g.From), To: stamp(g.To), Seconds: g.To.Sub(g.From).Seconds()})
	}
	return m
}

// ratio is up ÷ watched rounded to six decimals, nil when nothing was watched.
func ratio(up, watched time.Duration) *float64 {
	r := availability.Ratio(up, watched)
	if r != nil {
		*r = round(*r, 6)
	}
	return r
}

func addAvailability(ctx context.Context, l *ledger.Ledger, cfg *config.Config, d *Data, w *availability.Watched, from, to time.Time,
	portal *card.Portal) error {
	names := map[string]bool{}
	for _, t := range cfg.Portal.Targets {
		names[t.Name] = true
	}
	for t := range w.Targets {
		names[t] = true
	}
	days, err := l.ProbeDays(ctx, from, to)
	if err != nil {
		return err
	}
	probeDays := map[string]map[string]ledger.DayStats{}
	for _, ds := range days {
		names[ds.Target] = true
		if probeDays[ds.Target] == nil {
			probeDays[ds.Target] = map[string]ledger.DayStats{}
		}
		probeDays[ds.Target][ds.Day] = ds
	}
	times := w.TimesOf(portal.Incidents, to)
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	d.Targets = []Target{}
	for _, n := range sorted {
		d.Targets = append(d.Targets, targetMonth(n, times[n], probeDays[n], from, to))
	}
	if err := addIncidents(ctx, l, d, portal, from, to); err != nil {
		return err
	}
	return addRiskEvents(ctx, l, d, from, to)
}

func targetMonth(name string, tt availability.Time, days map[string]ledger.DayStats, from, to time.Time) Target {
	watched, up, down, unknown := tt.Split(from, to)
	t := Target{Name: name, WatchedSeconds: watched.Seconds(), UpSeconds: up.Seconds(), DownSeconds: down.Seconds(),
		UnknownSeconds: unknown.Seconds(), UptimeRatio: ratio(up, watched), Days: []Day{}}
	for day := from; day.Before(to); day = clock.NextDay(day) {
		end := clock.NextDay(day)
		if end.After(to) {
			end = to
		}
		dw, dup, ddown, _ := tt.Split(day, end)
		ds := days[clock.Date(day)]
		t.Probes += ds.Probes
		t.Good += ds.Good
		t.Days = append(t.Days, Day{Date: clock.Date(day), Probes: ds.Probes, Good: ds.Good, MeanSeconds: round(ds.MeanSeconds, 4),
			WatchedSeconds: dw.Seconds(), DownSeconds: ddown.Seconds(), UptimeRatio: ratio(dup, dw)})
	}
	return t
}

// addIncidents lists the incidents that began in the month, as they stood at its end.
func addIncidents(ctx context.Context, l *ledger.Ledger, d *Data, portal *card.Portal, from, to time.Time) error {
	outageOf := map[int64]int64{}
	d.Outages = []Outage{}
	for _, o := range portal.Outages {
		for _, id := range o.Members {
			outageOf[id] = o.ID
		}
		d.Outages = append(d.Outages, Outage{ID: o.ID, Site: o.Site, Start: stamp(o.Start), End: stamp(o.End), Targets: o.Targets,
			Vantages: o.Vantages})
	}
	d.Incidents = []Incident{}
	for _, i := range portal.Incidents {
		if i.StartedAt.Before(from) {
			continue
		}
		row, err := incidentRow(ctx, l, i, outageOf[i.ID], to)
		if err != nil {
			return err
		}
		d.Incidents = append(d.Incidents, row)
	}
	return nil
}

func incidentRow(ctx context.Context, l *ledger.Ledger, i ledger.Incident, outage int64, to time.Time) (Incident, error) {
	end := i.EndedAt
	if i.Open() {
		end = to
	}
	row := Incident{ID: i.ID, Target: i.Target, Site: i.Site, OutageID: outage, Vantage: i.Vantage, Start: stamp(i.StartedAt),
		Seconds: end.Sub(i.StartedAt).Seconds(), Outcome: i.Outcome, FirstError: i.FirstError, FailedProbes: i.FailedProbes,
		Voided: i.Voided()}
	if !i.Open() {
		row.End, row.EndCause = stamp(i.EndedAt), i.EndCause
	} else {
		// Failed probes after the month's end were not known at its end.
		n, err := l.CountFailedProbes(ctx, i.Target, i.StartedAt, to)
		if err != nil {
			return row, err
		}
		row.FailedProbes = n
	}
	for _, a := range i.Annotations {
		row.Annotations = append(row.Annotations, Annotation{Cause: a.Cause, Note: a.Note, By: a.By, At: stamp(a.At)})
	}
	ev, err := l.IncidentEvidence(ctx, i.ID)
	if err != nil {
		return row, err
	}
	if ev[ledger.EvidenceOpened] != nil || (!i.Open() && ev[ledger.EvidenceClosed] != nil) {
		row.Evidence = &Evidence{Opened: ev[ledger.EvidenceOpened]}
		if !i.Open() {
			row.Evidence.Closed = ev[ledger.EvidenceClosed]
		}
	}
	return row, nil
}

// addRiskEvents lists the month's risk events that had ended by its end.
func addRiskEvents(ctx context.Context, l *ledger.Ledger, d *Data, from, to time.Time) error {
	risks, err := l.RiskEvents(ctx, from, to)
	if err != nil {
		return err
	}
	d.RiskEvents = []Incident{}
	for _, r := range risks {
		if !r.EndedAt.Before(to) {
			continue
		}
		d.RiskEvents = append(d.RiskEvents, Incident{Target: r.Target, Vantage: r.Vantage, Start: stamp(r.StartedAt), End: stamp(r.EndedAt),
			Seconds: r.EndedAt.Sub(r.StartedAt).Seconds(), Outcome: r.Outcome, FirstError: r.FirstError, FailedProbes: r.FailedProbes})
	}
	return nil
}

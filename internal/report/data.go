// Package report builds the monthly uptime and score report the credit office files as
// evidence: availability, incidents, every indicator's points for the month and the period
// to date, double publicity, objections and repairs, and the time the monitor was not
// running. A finished month is frozen in the ledger so that regenerating it gives the same
// data and digest.
package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// RunSlack is how long after its last heartbeat a run still counts as watching.
const RunSlack = 90 * time.Second

// Data is everything a report shows; its JSON is what the digest covers.
type Data struct {
	Month      string       `json:"month"`
	From       string       `json:"from"`
	To         string       `json:"to"`
	Complete   bool         `json:"complete"`
	PeriodFrom string       `json:"period_from"`
	Monitor    Monitor      `json:"monitor"`
	Targets    []Target     `json:"targets"`
	Incidents  []Incident   `json:"incidents"`
	Outages    []Outage     `json:"outages"`
	RiskEvents []Incident   `json:"risk_events"`
	Indicators []Indicator  `json:"indicators"`
	Publicity  *Publicity   `json:"publicity,omitempty"`
	Cases      *CaseSummary `json:"cases,omitempty"`
}

// Monitor is when creditwatch itself was watching.
type Monitor struct {
	WatchedSeconds float64 `json:"watched_seconds"`
	UnknownSeconds float64 `json:"unknown_seconds"`
	Gaps           []Span  `json:"gaps"`
}

// Span is a stretch of time.
type Span struct {
	From    string  `json:"from"`
	To      string  `json:"to"`
	Seconds float64 `json:"seconds"`
}

// Target is one portal target's month.
type Target struct {
	Name           string  `json:"name"`
	Probes         int     `json:"probes"`
	Good           int     `json:"good"`
	UptimeRatio    float64 `json:"uptime_ratio"` // of the watched time
	DownSeconds    float64 `json:"down_seconds"`
	UnknownSeconds float64 `json:"unknown_seconds"`
	Days           []Day   `json:"days"`
}

// Day is one target's day.
type Day struct {
	Date        string  `json:"date"`
	Probes      int     `json:"probes"`
	Good        int     `json:"good"`
	MeanSeconds float64 `json:"mean_seconds"`
}

// Incident is a confirmed incident of one target (or a risk event) of the month.
type Incident struct {
	ID           int64   `json:"id,omitempty"`
	Target       string  `json:"target"`
	Site         string  `json:"site,omitempty"`
	OutageID     int64   `json:"outage_id,omitempty"` // the scored outage it is part of; 0 if not scored
	EndCause     string  `json:"end_cause,omitempty"`
	Vantage      string  `json:"vantage"`
	Start        string  `json:"start"`
	End          string  `json:"end"` // "" while open
	Seconds      float64 `json:"seconds"`
	Outcome      string  `json:"outcome"`
	FirstError   string  `json:"first_error"`
	FailedProbes int     `json:"failed_probes"`
}

// Outage is a scored inaccessibility of a site confirmed in the month: the incidents of
// its pages that overlap count once.
type Outage struct {
	ID      int64    `json:"id"`
	Site    string   `json:"site"`
	Start   string   `json:"start"`
	End     string   `json:"end"` // "" while open
	Targets []string `json:"targets"`
}

// Indicator is one observable ledger row, this month and for the period to date.
type Indicator struct {
	ID          string   `json:"id"`
	Ledger      string   `json:"ledger"`
	Title       string   `json:"title"`
	MaxPoints   float64  `json:"max_points"`
	Gate        bool     `json:"gate"`
	Month       *float64 `json:"month_points"`
	Period      *float64 `json:"period_points"`
	MonthGate   *bool    `json:"month_gate_pass,omitempty"`
	PeriodGate  *bool    `json:"period_gate_pass,omitempty"`
	MonthBasis  string   `json:"month_basis"`
	PeriodBasis string   `json:"period_basis"`
}

// Publicity is the double-publicity figures as of the month's last day.
type Publicity struct {
	AsOf        string              `json:"as_of"`
	Departments []Department        `json:"departments"`
	Worst       []Department        `json:"worst"`
	Codes       publicity.CodeStats `json:"codes"`
	ErrorRate   float64             `json:"uscc_error_rate"`
}

// Department is one department's figures of one kind.
type Department struct {
	Kind       string `json:"kind"`
	Department string `json:"department"`
	publicity.Figures
}

// CaseSummary is the month's objections and repairs.
type CaseSummary struct {
	cases.Summary
	OverdueRepairs []string `json:"overdue_repairs"`
	LateSyncs      []string `json:"late_syncs"`
}

// Options of a report.
type Options struct {
	Month     string // YYYY-MM
	Now       time.Time
	Recompute bool
}

// ParseMonth reads YYYY-MM as the month's bounds in Asia/Shanghai.
func ParseMonth(s string) (from, to time.Time, err error) { return clock.ParseMonth(s) }

func stamp(t time.Time) string { return clock.Stamp(t) }

// Build gathers a month's report data from the ledger, as of the month's end (or of now,
// for the month in progress). It does not freeze it.
func Build(ctx context.Context, l *ledger.Ledger, cfg *config.Config, set card.Settings, o Options) (*Data, error) {
	from, end, err := ParseMonth(o.Month)
	if err != nil {
		return nil, err
	}
	if !from.Before(o.Now) {
		return nil, fmt.Errorf("month %s has not begun", o.Month)
	}
	to := end
	if o.Now.Before(end) {
		to = o.Now
	}
	period, err := card.Period(ctx, l, set, to, card.Options{})
	if err != nil {
		return nil, err
	}
	month, err := card.Compute(ctx, l, set, to, from, card.Options{})
	if err != nil {
		return nil, err
	}
	d := &Data{Month: o.Month, From: stamp(from), To: stamp(to), Complete: !o.Now.Before(end), PeriodFrom: stamp(period.From)}
	m, gaps, err := monitorGaps(ctx, l, from, to)
	if err != nil {
		return nil, err
	}
	d.Monitor = m
	if err := addAvailability(ctx, l, cfg, d, from, to, m, gaps, month.Portal); err != nil {
		return nil, err
	}
	addIndicators(d, period, month)
	addPublicity(d, period.Publicity, to)
	addCases(d, month.Cases)
	return d, nil
}

type interval struct{ a, b time.Time }

func overlap(x, y interval) time.Duration {
	a, b := x.a, x.b
	if y.a.After(a) {
		a = y.a
	}
	if y.b.Before(b) {
		b = y.b
	}
	if b.After(a) {
		return b.Sub(a)
	}
	return 0
}

// monitorGaps finds the stretches of [from, to) no run of creditwatch covered, as the
// report shows them and as intervals.
func monitorGaps(ctx context.Context, l *ledger.Ledger, from, to time.Time) (Monitor, []interval, error) {
	runs, err := l.Runs(ctx, from.Add(-RunSlack), to)
	if err != nil {
		return Monitor{}, nil, err
	}
	var m Monitor
	var gaps []interval
	cursor := from
	addGap := func(a, b time.Time) {
		if b.After(a) {
			m.Gaps = append(m.Gaps, Span{From: stamp(a), To: stamp(b), Seconds: b.Sub(a).Seconds()})
			m.UnknownSeconds += b.Sub(a).Seconds()
			gaps = append(gaps, interval{a, b})
		}
	}
	for _, r := range runs {
		end := r.LastSeenAt.Add(RunSlack)
		if r.StartedAt.After(cursor) {
			addGap(cursor, minTime(r.StartedAt, to))
		}
		if end.After(cursor) {
			cursor = end
		}
		if !cursor.Before(to) {
			break
		}
	}
	if cursor.Before(to) {
		addGap(cursor, to)
	}
	m.WatchedSeconds = to.Sub(from).Seconds() - m.UnknownSeconds
	return m, gaps, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func addAvailability(ctx context.Context, l *ledger.Ledger, cfg *config.Config, d *Data, from, to time.Time, m Monitor,
	gaps []interval, portal *card.Portal) error {
	days, err := l.ProbeDays(ctx, from, to)
	if err != nil {
		return err
	}
	byTarget := map[string]*Target{}
	var names []string
	target := func(n string) *Target {
		if byTarget[n] == nil {
			byTarget[n] = &Target{Name: n, Days: []Day{}}
			names = append(names, n)
		}
		return byTarget[n]
	}
	for _, t := range cfg.Portal.Targets {
		target(t.Name)
	}
	for _, ds := range days {
		t := target(ds.Target)
		t.Probes += ds.Probes
		t.Good += ds.Good
		t.Days = append(t.Days, Day{Date: ds.Day, Probes: ds.Probes, Good: ds.Good, MeanSeconds: round(ds.MeanSeconds, 4)})
	}
	incs, err := l.Incidents(ctx, from, to, false)
	if err != nil {
		return err
	}
	outageOf := map[int64]int64{}
	d.Outages = []Outage{}
	for _, o := range portal.Outages {
		for _, id := range o.Members {
			outageOf[id] = o.ID
		}
		d.Outages = append(d.Outages, Outage{ID: o.ID, Site: o.Site, Start: stamp(o.Start), End: stamp(o.End), Targets: o.Targets})
	}
	month := interval{from, to}
	d.Incidents = []Incident{}
	for _, i := range incs {
		end := i.EndedAt
		if i.Open() {
			end = to
		}
		span := interval{i.StartedAt, end}
		down := overlap(span, month)
		for _, g := range gaps {
			down -= overlap(span, g) // time nobody watched is unknown, not down
		}
		target(i.Target).DownSeconds += down.Seconds()
		row := Incident{ID: i.ID, Target: i.Target, Site: i.Site, OutageID: outageOf[i.ID], Vantage: i.Vantage,
			Start: stamp(i.StartedAt), Seconds: end.Sub(i.StartedAt).Seconds(), Outcome: i.Outcome, FirstError: i.FirstError,
			FailedProbes: i.FailedProbes}
		if !i.Open() {
			row.End, row.EndCause = stamp(i.EndedAt), i.EndCause
		}
		if !i.StartedAt.Before(from) {
			d.Incidents = append(d.Incidents, row)
		}
	}
	risks, err := l.RiskEvents(ctx, from, to)
	if err != nil {
		return err
	}
	d.RiskEvents = []Incident{}
	for _, r := range risks {
		d.RiskEvents = append(d.RiskEvents, Incident{Target: r.Target, Vantage: r.Vantage, Start: stamp(r.StartedAt), End: stamp(r.EndedAt),
			Seconds: r.EndedAt.Sub(r.StartedAt).Seconds(), Outcome: r.Outcome, FirstError: r.FirstError, FailedProbes: r.FailedProbes})
	}
	sort.Strings(names)
	for _, n := range names {
		t := byTarget[n]
		t.UnknownSeconds = m.UnknownSeconds
		t.DownSeconds = round(t.DownSeconds, 3)
		if watched := m.WatchedSeconds; watched > 0 {
			t.UptimeRatio = round((watched-t.DownSeconds)/watched, 6)
		}
		d.Targets = append(d.Targets, *t)
	}
	return nil
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func addIndicators(d *Data, period, month *card.Card) {
	for i, p := range period.Results {
		if !p.Observable {
			continue
		}
		m := month.Results[i]
		row := Indicator{ID: p.ID, Ledger: p.Ledger, Title: p.Title, MaxPoints: p.MaxPoints, Gate: p.Gate,
			MonthBasis: zh.ExplainZH(m), PeriodBasis: zh.ExplainZH(p)}
		if p.Known && p.MaxPoints > 0 {
			pp := p.Points
			row.Period = &pp
		}
		if m.Known && m.MaxPoints > 0 {
			mp := m.Points
			row.Month = &mp
		}
		if p.Known && p.Gate {
			pg := p.GatePass
			row.PeriodGate = &pg
		}
		if m.Known && m.Gate {
			mg := m.GatePass
			row.MonthGate = &mg
		}
		d.Indicators = append(d.Indicators, row)
	}
}

func addPublicity(d *Data, pub *card.Publicity, to time.Time) {
	if pub == nil || !pub.Watched {
		return
	}
	p := &Publicity{AsOf: clock.Date(clock.LastDay(to)), Codes: pub.Codes, ErrorRate: round(pub.Codes.ErrorRate(), 9)}
	for _, dep := range pub.Departments {
		p.Departments = append(p.Departments, Department{Kind: string(dep.Kind), Department: dep.Department, Figures: dep.Figures})
	}
	worst := append([]Department{}, p.Departments...)
	score := func(x Department) float64 { return min(x.UploadRatio, x.ComplianceRatio, x.TimelinessRatio) }
	sort.SliceStable(worst, func(i, j int) bool { return score(worst[i]) < score(worst[j]) })
	for _, w := range worst {
		if len(p.Worst) == 5 || score(w) >= 1 {
			break
		}
		p.Worst = append(p.Worst, w)
	}
	d.Publicity = p
}

// addCases puts the month's objections and repairs into the report.
func addCases(d *Data, c *card.Cases) {
	if c == nil || !c.HaveObjections && !c.HaveRepairs {
		return
	}
	cs := &CaseSummary{Summary: c.Summary, OverdueRepairs: []string{}, LateSyncs: []string{}}
	for _, f := range c.Repairs {
		if f.OverdueInPeriod {
			cs.OverdueRepairs = append(cs.OverdueRepairs, f.ID)
		}
		if f.SyncLate && f.InPeriod {
			cs.LateSyncs = append(cs.LateSyncs, f.ID)
		}
	}
	for _, f := range c.Objections {
		if f.SyncLate && f.InPeriod {
			cs.LateSyncs = append(cs.LateSyncs, f.ID)
		}
	}
	d.Cases = cs
}

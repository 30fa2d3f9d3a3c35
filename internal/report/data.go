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

	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/workday"
	"github.com/creditwatch/creditwatch/internal/zh"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/service"
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

// Incident is a confirmed incident (or a risk event) of the month.
type Incident struct {
	Target       string  `json:"target"`
	Vantage      string  `json:"vantage"`
	Start        string  `json:"start"`
	End          string  `json:"end"` // "" while open
	Seconds      float64 `json:"seconds"`
	Outcome      string  `json:"outcome"`
	FirstError   string  `json:"first_error"`
	FailedProbes int     `json:"failed_probes"`
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
func ParseMonth(s string) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", s, config.Shanghai)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not a month in YYYY-MM form", s)
	}
	return t, t.AddDate(0, 1, 0), nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(config.Shanghai).Format(time.RFC3339)
}

// Build gathers a month's report data from the ledger. It does not freeze it.
func Build(ctx context.Context, l *ledger.Ledger, cfg *config.Config, o Options) (*Data, error) {
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
	last := to.Add(-time.Nanosecond) // the report's "now": its last instant
	d := &Data{Month: o.Month, From: stamp(from), To: stamp(to), Complete: !o.Now.Before(end),
		PeriodFrom: stamp(cfg.Assessment.PeriodFrom(last))}
	m, gaps, err := monitorGaps(ctx, l, from, to)
	if err != nil {
		return nil, err
	}
	d.Monitor = m
	if err := addAvailability(ctx, l, cfg, d, from, to, m, gaps); err != nil {
		return nil, err
	}
	// Each input is computed once: publicity figures over a million records take a second.
	cal, err := service.CalendarOf(cfg)
	if err != nil {
		return nil, err
	}
	pub, err := service.PublicityNow(ctx, l, cal, last)
	if err != nil {
		return nil, err
	}
	periodCases, err := service.CasesNow(ctx, l, cal, cfg, last)
	if err != nil {
		return nil, err
	}
	monthCfg := *cfg
	monthCfg.Assessment.PeriodStart.Time = from
	monthCases, err := addCases(ctx, l, cal, &monthCfg, d, last)
	if err != nil {
		return nil, err
	}
	if err := addIndicators(ctx, l, cfg, &monthCfg, d, last, pub, periodCases, monthCases); err != nil {
		return nil, err
	}
	addPublicity(d, pub, last)
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

func addAvailability(ctx context.Context, l *ledger.Ledger, cfg *config.Config, d *Data, from, to time.Time, m Monitor, gaps []interval) error {
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
		row := Incident{Target: i.Target, Vantage: i.Vantage, Start: stamp(i.StartedAt), Seconds: end.Sub(i.StartedAt).Seconds(),
			Outcome: i.Outcome, FirstError: i.FirstError, FailedProbes: i.FailedProbes}
		if !i.Open() {
			row.End = stamp(i.EndedAt)
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

func addIndicators(ctx context.Context, l *ledger.Ledger, cfg, monthCfg *config.Config, d *Data, last time.Time,
	pub *metrics.Publicity, periodCases, monthCases *metrics.Cases) error {
	cat := scoring.MustDefault()
	period, err := service.ScoreWith(ctx, l, cat, cfg, last, pub, periodCases)
	if err != nil {
		return err
	}
	month, err := service.ScoreWith(ctx, l, cat, monthCfg, last, pub, monthCases)
	if err != nil {
		return err
	}
	for i, p := range period {
		if !p.Observable {
			continue
		}
		m := month[i]
		row := Indicator{ID: p.ID, Ledger: p.Ledger, Title: p.Title, MaxPoints: p.MaxPoints, Gate: p.Gate,
			MonthBasis: zh.ExplainZH(m), PeriodBasis: zh.ExplainZH(p)}
		if p.Known && p.MaxPoints > 0 {
			pp, mp := p.Points, m.Points
			row.Period, row.Month = &pp, &mp
		}
		if p.Known && p.Gate {
			pg, mg := p.GatePass, m.GatePass
			row.PeriodGate, row.MonthGate = &pg, &mg
		}
		d.Indicators = append(d.Indicators, row)
	}
	return nil
}

func addPublicity(d *Data, pub *metrics.Publicity, last time.Time) {
	if pub == nil || len(pub.Departments) == 0 {
		return
	}
	p := &Publicity{AsOf: last.In(config.Shanghai).Format(time.DateOnly), Codes: pub.Codes, ErrorRate: round(pub.Codes.ErrorRate(), 9)}
	for _, dep := range pub.Departments {
		p.Departments = append(p.Departments, Department{Kind: dep.Kind, Department: dep.Department, Figures: dep.Figures})
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

// addCases summarises the month's objections and repairs into the report, and returns the
// summary for the month's score card.
func addCases(ctx context.Context, l *ledger.Ledger, cal *workday.Calendar, monthCfg *config.Config, d *Data, last time.Time) (*metrics.Cases, error) {
	objs, err := l.Cases(ctx, cases.KindObjection)
	if err != nil {
		return nil, err
	}
	reps, err := l.Cases(ctx, cases.KindRepair)
	if err != nil {
		return nil, err
	}
	c := service.CaseChecker(monthCfg, cal, last)
	sum, ofs, rfs, err := c.Summarize(service.ParseObjections(objs), service.ParseRepairs(reps))
	if err != nil {
		return nil, err
	}
	snap := &metrics.Cases{Summary: sum, HaveObjections: len(objs) > 0, HaveRepairs: len(reps) > 0}
	if len(objs)+len(reps) == 0 {
		return snap, nil
	}
	cs := &CaseSummary{Summary: sum, OverdueRepairs: []string{}, LateSyncs: []string{}}
	for _, f := range rfs {
		if f.Overdue && (f.InPeriod || f.Open) {
			cs.OverdueRepairs = append(cs.OverdueRepairs, f.ID)
		}
		if f.SyncLate && f.InPeriod {
			cs.LateSyncs = append(cs.LateSyncs, f.ID)
		}
	}
	for _, f := range ofs {
		if f.SyncLate && f.InPeriod {
			cs.LateSyncs = append(cs.LateSyncs, f.ID)
		}
	}
	d.Cases = cs
	return snap, nil
}

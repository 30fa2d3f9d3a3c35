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

	"github.com/creditwatch/creditwatch/internal/availability"
	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// Data is everything a report shows; its JSON is what the digest covers.
type Data struct {
	// City and LedgerTitle name whose report it is (empty in reports made before they were
	// recorded).
	City        string `json:"city,omitempty"`
	LedgerTitle string `json:"ledger_title,omitempty"`
	// Headline sums up the period's card: points held and lost, gates failing.
	Headline   string       `json:"headline,omitempty"`
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
	Content    *Content     `json:"content,omitempty"`
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

// Target is one portal target's month. Its time splits into up, down and unknown (not
// watched: creditwatch was not running, or the target was not configured yet or any
// more, or an incident was voided as creditwatch's own mistake); uptime is up ÷ watched,
// absent when nothing was watched.
type Target struct {
	Name           string   `json:"name"`
	Probes         int      `json:"probes"`
	Good           int      `json:"good"`
	WatchedSeconds float64  `json:"watched_seconds"`
	UpSeconds      float64  `json:"up_seconds"`
	DownSeconds    float64  `json:"down_seconds"`
	UnknownSeconds float64  `json:"unknown_seconds"`
	UptimeRatio    *float64 `json:"uptime_ratio"`
	Days           []Day    `json:"days"`
}

// Day is one target's day, split the same way.
type Day struct {
	Date           string   `json:"date"`
	Probes         int      `json:"probes"`
	Good           int      `json:"good"`
	MeanSeconds    float64  `json:"mean_seconds"`
	WatchedSeconds float64  `json:"watched_seconds"`
	DownSeconds    float64  `json:"down_seconds"`
	UptimeRatio    *float64 `json:"uptime_ratio"`
}

// Incident is a confirmed incident of one target (or a risk event) of the month, as it
// stood at the month's end: one still open then has no end.
type Incident struct {
	ID           int64        `json:"id,omitempty"`
	Target       string       `json:"target"`
	Site         string       `json:"site,omitempty"`
	OutageID     int64        `json:"outage_id,omitempty"` // the scored outage it is part of; 0 if not scored
	EndCause     string       `json:"end_cause,omitempty"`
	Vantage      string       `json:"vantage"`
	Start        string       `json:"start"`
	End          string       `json:"end"` // "" while open
	Seconds      float64      `json:"seconds"`
	Outcome      string       `json:"outcome"`
	FirstError   string       `json:"first_error"`
	FailedProbes int          `json:"failed_probes"`
	Voided       bool         `json:"voided,omitempty"` // creditwatch's own mistake: listed, not scored
	Annotations  []Annotation `json:"annotations,omitempty"`
	Evidence     *Evidence    `json:"evidence,omitempty"`
}

// Annotation is a person's word on an incident.
type Annotation struct {
	Cause string `json:"cause"`
	Note  string `json:"note"`
	By    string `json:"by"`
	At    string `json:"at"`
}

// Evidence is what the probes that began and ended an incident saw.
type Evidence struct {
	Opened *ledger.Evidence `json:"opened,omitempty"`
	Closed *ledger.Evidence `json:"closed,omitempty"`
}

// Outage is a scored inaccessibility of a site confirmed in the month: the incidents of
// its pages that overlap count once.
type Outage struct {
	ID      int64    `json:"id"`
	Site    string   `json:"site"`
	Start   string   `json:"start"`
	End     string   `json:"end"` // "" while open
	Targets []string `json:"targets"`
	// Vantages are the vantages that saw it (several creditwatch instances sharing one
	// ledger); absent in reports made before vantages were recorded with outages.
	Vantages []string `json:"vantages,omitempty"`
}

// Indicator is one observable ledger row, this month and for the period to date.
type Indicator struct {
	ID          string   `json:"id"`
	Ledger      string   `json:"ledger"`
	Name        string   `json:"name,omitempty"`
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
	// The whole report sees an import publishing meanwhile whole or not at all.
	ctx, release, err := l.HoldPublications(ctx, card.PublishWait)
	if err != nil {
		return nil, err
	}
	defer release()
	period, err := card.Period(ctx, l, set, to, card.Options{})
	if err != nil {
		return nil, err
	}
	month, err := card.Compute(ctx, l, set, to, from, card.Options{})
	if err != nil {
		return nil, err
	}
	d := &Data{City: cfg.Assessment.City, LedgerTitle: cfg.Assessment.LedgerTitle, Headline: zh.Headline(period.Results),
		Month: o.Month, From: stamp(from), To: stamp(to), Complete: !o.Now.Before(end), PeriodFrom: stamp(period.From)}
	w, err := availability.Load(ctx, l, from, to)
	if err != nil {
		return nil, err
	}
	d.Monitor = monitorOf(w, from, to)
	if err := addAvailability(ctx, l, cfg, d, w, from, to, month.Portal); err != nil {
		return nil, err
	}
	addIndicators(d, period, month)
	addPublicity(d, period.Publicity, to)
	addCases(d, month.Cases)
	addContent(d, month, cfg.CreditReports.Enabled())
	return d, nil
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
		row := Indicator{ID: p.ID, Ledger: p.Ledger, Name: p.Name, Title: p.Title, MaxPoints: p.MaxPoints, Gate: p.Gate,
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

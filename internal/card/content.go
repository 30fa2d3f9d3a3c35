package card

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Reports is the enterprise credit report checks of the period as of the card's instant.
type Reports struct {
	Checks       int            // every check made
	ByResult     map[string]int // checks by result
	CodesChecked int            // distinct codes whose report was read (conforming or not)
	FetchErrors  map[string]int // fetch errors by class: they say nothing of the content
	// Nonconforming are the codes found non-conforming, each with its first non-conforming
	// check of the period (the one that counts) and every reason it gave.
	Nonconforming []NonconformingReport
}

// NonconformingReport is one code found non-conforming in the period.
type NonconformingReport struct {
	ledger.ReportCheck
	Checks int // its non-conforming checks in the period
}

// Security is the security incidents as of the card's instant: those dated in the period
// and those still going on in it.
type Security struct {
	Incidents []SecurityIncident
	Counted   int  // incidents that cost the indicator
	Checked   bool // pages were fetched and checked in the period
}

// SecurityIncident is a security incident and how the card reads it.
type SecurityIncident struct {
	ledger.SecurityIncident
	// Counts says it costs the indicator in this period: dated in it, of the assessed
	// portal, and not a redesign the office accepted.
	Counts bool
	// VoidedBy is the baseline acceptance that made a title or structure change a
	// legitimate redesign, nil otherwise.
	VoidedBy *ledger.Baseline
}

// ListPage is a list page's freshness as of the card's instant.
type ListPage struct {
	ledger.Freshness
	Age     int    // working days since the newest item; -1 when unknown
	Stale   bool   // older than its limit
	Unknown string // why the age is unknown, in Chinese
}

// baselineRules are the rules a baseline governs: a change the office accepts as a
// redesign is no intrusion.
var baselineRules = []string{"title_changed", "structure_changed"}

func produceReports(ctx context.Context, l *ledger.Ledger, _ Settings, c *Card, _ Options) (map[string]scoring.Observation, error) {
	f, err := l.ReportFiguresAsOf(ctx, c.From, c.At)
	if err != nil {
		return nil, err
	}
	r := &Reports{ByResult: f.Checks, CodesChecked: f.CodesChecked, FetchErrors: f.FetchErrors}
	for _, n := range f.Checks {
		r.Checks += n
	}
	for _, chk := range f.Nonconforming {
		r.Nonconforming = append(r.Nonconforming, NonconformingReport{ReportCheck: chk, Checks: f.NonconformingChecks[chk.Code]})
	}
	c.Reports = r
	return map[string]scoring.Observation{NonconformingReports: ReportObservation(r)}, nil
}

// ReportObservation is the 五(四)2 input: the codes found non-conforming, known once a report
// was read in the period. Fetch errors say nothing of the content.
func ReportObservation(r *Reports) scoring.Observation {
	switch {
	case r.CodesChecked > 0:
		return scoring.Observation{Known: true, Count: float64(len(r.Nonconforming))}
	case r.Checks > 0:
		return scoring.Observation{Reason: fmt.Sprintf("本考核周期尚未读到企业信用报告（%d次获取失败，不计为不符合）", r.Checks)}
	}
	return scoring.Observation{}
}

func produceSecurity(ctx context.Context, l *ledger.Ledger, _ Settings, c *Card, _ Options) (map[string]scoring.Observation, error) {
	incs, err := l.SecurityIncidentsAsOf(ctx, c.At, c.From)
	if err != nil {
		return nil, err
	}
	var bs []ledger.Baseline
	if len(incs) > 0 {
		if bs, err = l.Acceptances(ctx, c.At); err != nil {
			return nil, err
		}
	}
	s := &Security{}
	if s.Checked, err = l.ProbedOK(ctx, c.From, c.At); err != nil {
		return nil, err
	}
	first, last := clock.Date(c.From), clock.Date(clock.LastDay(c.At))
	for _, i := range incs {
		si := SecurityIncident{SecurityIncident: i, VoidedBy: acceptedRedesign(i, bs)}
		if i.Source == ledger.SecurityRecorded {
			si.Counts = i.OccurredOn >= first && i.OccurredOn <= last
		} else {
			si.Counts = i.Scored && si.VoidedBy == nil && !i.ConfirmedAt.Before(c.From)
		}
		if si.Counts {
			s.Counted++
		}
		s.Incidents = append(s.Incidents, si)
	}
	c.Security = s
	return map[string]scoring.Observation{NoIntrusion: SecurityObservation(s)}, nil
}

// SecurityObservation is the 五(六) input: no security incident in the period. It is known
// once an incident counts, or once pages were checked in the period.
func SecurityObservation(s *Security) scoring.Observation {
	switch {
	case s.Counted > 0:
		return scoring.Observation{Known: true, OK: false}
	case s.Checked:
		return scoring.Observation{Known: true, OK: true}
	}
	return scoring.Observation{Reason: "本考核周期尚未检查过门户网站页面内容，也没有记录的安全事件"}
}

// acceptedRedesign returns the acceptance that made a detected title or structure change a
// legitimate redesign: one of the target's page accepted while the change was still on it.
func acceptedRedesign(i ledger.SecurityIncident, bs []ledger.Baseline) *ledger.Baseline {
	if i.Source != ledger.SecurityDetected || len(i.Rules) == 0 {
		return nil
	}
	for _, r := range i.Rules {
		if !slices.Contains(baselineRules, r) {
			return nil
		}
	}
	for k := range bs {
		b := &bs[k]
		if b.Target == i.Target && b.Reason == ledger.BaselineAccepted && !b.AcceptedAt.Before(i.ConfirmedAt) &&
			(i.EndedAt.IsZero() || !i.EndedAt.Before(b.AcceptedAt)) {
			return b
		}
	}
	return nil
}

func produceListPages(ctx context.Context, l *ledger.Ledger, s Settings, c *Card, _ Options) (map[string]scoring.Observation, error) {
	fs, err := l.FreshnessAsOf(ctx, c.At)
	if err != nil {
		return nil, err
	}
	c.ListPages = ListPagesOf(fs, s.Calendar, c.At)
	return nil, nil
}

// ListPagesOf works out each list page's age as of at on the calendar.
func ListPagesOf(fs []ledger.Freshness, cal *workday.Calendar, at time.Time) []ListPage {
	if cal == nil {
		cal = workday.Default
	}
	out := make([]ListPage, 0, len(fs))
	last := clock.LastDay(at)
	for _, f := range fs {
		p := ListPage{Freshness: f, Age: -1}
		newest, err := clock.ParseDate(f.NewestOn)
		switch {
		case f.NewestOn == "" || err != nil:
			p.Unknown, p.Stale = "页面上未找到日期", true
		default:
			n, err := cal.Workdays(newest, last)
			if errors.Is(err, workday.ErrUnknownYear) {
				p.Unknown = "工作日历缺少相应年份，无法计算"
				break
			}
			if err != nil {
				p.Unknown = err.Error()
				break
			}
			p.Age, p.Stale = n, n > f.MaxAgeWorkdays
		}
		out = append(out, p)
	}
	return out
}

// Stale lists the list pages that are stale.
func (c *Card) Stale() []ListPage {
	var out []ListPage
	for _, p := range c.ListPages {
		if p.Stale {
			out = append(out, p)
		}
	}
	return out
}

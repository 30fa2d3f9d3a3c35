package card

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// The rule inputs of the catalogue (seeds/catalogue.yaml), by the name its rules use.
const (
	PortalIncidents      = "portal_incidents"
	PublicityRates       = "publicity_upload_compliance_timeliness"
	CodeErrorRate        = "uscc_error_rate"
	ObjectionShare       = "valid_objections_per_publicity_record"
	ObjectionHandling    = "objection_mean_handling_workdays"
	RepairsOverdue       = "repairs_over_3_workdays"
	RepairsNonCompliant  = "noncompliant_repairs"
	ResultsSynced        = "all_results_synced_same_day"
	NonconformingReports = "nonconforming_reports"
	NoIntrusion          = "no_intrusion_or_defacement"
)

// EngineOnly are the inputs the engine can score but no collector observes yet; their
// indicators are shown as not yet observed. Every input has a producer now.
var EngineOnly = map[string]bool{}

// producer computes some of the rule inputs, and keeps its figures on the card.
type producer struct {
	name    string
	inputs  []string
	produce func(context.Context, *ledger.Ledger, Settings, *Card, Options) (map[string]scoring.Observation, error)
}

// producers run in order: the cases' objection share needs the publicity figures.
var producers = []producer{
	{"portal incidents", []string{PortalIncidents}, producePortal},
	{"publicity figures", []string{PublicityRates, CodeErrorRate}, producePublicity},
	{"objections and repairs", []string{ObjectionShare, ObjectionHandling, RepairsOverdue, RepairsNonCompliant, ResultsSynced}, produceCases},
	{"credit reports", []string{NonconformingReports}, produceReports},
	{"security incidents", []string{NoIntrusion}, produceSecurity},
	{"list pages", nil, produceListPages},
}

// WatchGrace is how long after its watch span ends a vantage still counts as watching for
// the quorum: a late probe (a slow answer, a busy ledger) or the instant before its next
// probe is not a vantage that stopped reporting, and must not leave the others' quorum to
// one vantage alone.
const WatchGrace = 2 * time.Minute

// lookback is how far before the period incidents are read, so that an outage that began
// before the period and goes on into it is recognised as the same outage.
const lookback = 31 * 24 * time.Hour

func producePortal(ctx context.Context, l *ledger.Ledger, s Settings, c *Card, _ Options) (map[string]scoring.Observation, error) {
	since := c.From.Add(-lookback)
	incs, err := l.IncidentsAsOf(ctx, c.At, since)
	if err != nil {
		return nil, err
	}
	p := &Portal{}
	members := make([]incident.Member, 0, len(incs))
	sites := map[string]string{}
	for _, i := range incs {
		// An incident annotated as creditwatch's own mistake is void: listed, never scored.
		members = append(members, incident.Member{ID: i.ID, Target: i.Target, Vantage: i.Vantage, Site: i.Site,
			Scored: i.Scored && !i.Voided(), Start: i.StartedAt, Confirmed: i.ConfirmedAt, End: i.EndedAt, Window: i.MergeWindow})
		sites[i.Target] = i.Site
		if i.EndedAt.IsZero() || !i.EndedAt.Before(c.From) {
			p.Incidents = append(p.Incidents, i)
		}
	}
	q := incident.Quorum{Need: s.Quorum, At: c.At}
	if q.Need > 1 {
		maps.Copy(sites, s.Sites)
		spans, err := l.WatchSpans(ctx, since, c.At)
		if err != nil {
			return nil, err
		}
		for _, sp := range spans {
			if site, ok := sites[sp.Target]; ok {
				q.Watches = append(q.Watches, incident.Watch{Site: site, Vantage: sp.Vantage, From: sp.From, To: sp.To.Add(WatchGrace)})
			}
		}
	}
	for _, o := range incident.QuorumOutages(members, q) {
		if !o.Confirmed.Before(c.From) {
			p.Outages = append(p.Outages, o)
		}
	}
	c.Portal = p
	return map[string]scoring.Observation{PortalIncidents: {Known: true, Count: float64(len(p.Outages))}}, nil
}

func producePublicity(ctx context.Context, l *ledger.Ledger, s Settings, c *Card, o Options) (map[string]scoring.Observation, error) {
	view := ledger.View{At: c.At, From: c.From}
	key := cacheKey{version: l.PublicityVersion(), day: view.Day(), from: clock.Date(c.From)}
	p := o.Cache.get(key)
	if p == nil {
		var err error
		if p, err = publicityFigures(ctx, l, s.Calendar, view); err != nil {
			return nil, err
		}
		o.Cache.put(key, p)
	}
	c.Publicity = p
	return PublicityObservations(p), nil
}

func publicityFigures(ctx context.Context, l *ledger.Ledger, cal *workday.Calendar, v ledger.View) (*Publicity, error) {
	p := &Publicity{}
	var err error
	if p.Watched, err = l.HasPublicity(ctx, v.At); err != nil || !p.Watched {
		return p, err
	}
	next, errNext := cal.AddWorkdays(clock.LastDay(v.At), 1)
	if errNext != nil && !errors.Is(errNext, workday.ErrUnknownYear) {
		return nil, errNext
	}
	p.NextWorkday = next
	if p.Departments, err = l.PublicityFigures(ctx, v, next); err != nil {
		return nil, err
	}
	unknown := 0
	for i := range p.Departments {
		p.Departments[i].Figures = publicity.FinishFigures(p.Departments[i].Figures)
		unknown += p.Departments[i].DeadlineUnknown
	}
	if unknown > 0 {
		y := clock.LastDay(v.At).Year()
		if last := cal.LastKnownDay(clock.LastDay(v.At)); !last.IsZero() {
			y = last.Year() + 1
		}
		p.Unknown = fmt.Sprintf("%d条记录的上报期限落在%d年或以后，尚无该年节假日安排，无法判定是否按时上报；请在节假日补充文件中加入%d年", unknown, y, y)
	}
	if p.Codes, err = l.PublicityCodeStats(ctx, v); err != nil {
		return nil, err
	}
	if p.Published, err = l.CountPublished(ctx, v); err != nil {
		return nil, err
	}
	return p, nil
}

// ByKind adds the departments up per kind, ratios computed, in kind order.
func (p *Publicity) ByKind() []ledger.DepartmentFigures {
	byKind := map[publicity.Kind]*publicity.Figures{}
	var kinds []publicity.Kind
	for _, d := range p.Departments {
		f := byKind[d.Kind]
		if f == nil {
			f = &publicity.Figures{ViolationsByRule: map[string]int{}}
			byKind[d.Kind] = f
			kinds = append(kinds, d.Kind)
		}
		f.Total += d.Total
		f.Due += d.Due
		f.Reported += d.Reported
		f.Compliant += d.Compliant
		f.Timely += d.Timely
		f.DueSoon += d.DueSoon
		f.DeadlineUnknown += d.DeadlineUnknown
		for r, n := range d.ViolationsByRule {
			f.ViolationsByRule[r] += n
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	out := make([]ledger.DepartmentFigures, len(kinds))
	for i, k := range kinds {
		out[i] = ledger.DepartmentFigures{Kind: k, Figures: publicity.FinishFigures(*byKind[k])}
	}
	return out
}

// PublicityObservations are the gate's ratios (upload, compliance and timeliness of each
// kind) and the code error rate. Without any publicity record both stay unknown.
func PublicityObservations(p *Publicity) map[string]scoring.Observation {
	if p == nil || !p.Watched {
		return nil
	}
	var ratios []float64
	for _, k := range p.ByKind() {
		ratios = append(ratios, k.UploadRatio, k.ComplianceRatio, k.TimelinessRatio)
	}
	if len(ratios) == 0 {
		ratios = []float64{1, 1, 1} // nothing was decided in the period: nothing is owed
	}
	rates := scoring.Observation{Known: p.Unknown == "", Reason: p.Unknown, Ratios: ratios}
	return map[string]scoring.Observation{
		PublicityRates: rates,
		CodeErrorRate:  {Known: true, Value: p.Codes.ErrorRate()},
	}
}

func produceCases(ctx context.Context, l *ledger.Ledger, s Settings, c *Card, _ Options) (map[string]scoring.Observation, error) {
	objs, err := l.Cases(ctx, cases.KindObjection, c.At)
	if err != nil {
		return nil, err
	}
	reps, err := l.Cases(ctx, cases.KindRepair, c.At)
	if err != nil {
		return nil, err
	}
	last := clock.LastDay(c.At)
	opts := s.Cases
	if opts.Calendar == nil {
		opts.Calendar = s.Calendar
	}
	chk := &cases.Checker{Opts: opts, Now: c.At.Add(-time.Nanosecond), Period: cases.Period{From: c.From, To: clock.NextDay(last)}}
	cs := &Cases{HaveObjections: len(objs) > 0, HaveRepairs: len(reps) > 0}
	cs.Summary, cs.Objections, cs.Repairs = chk.Summarize(ParseObjections(objs), ParseRepairs(reps))
	c.Cases = cs
	published := -1
	if c.Publicity != nil && c.Publicity.Watched {
		published = c.Publicity.Published
	}
	return CaseObservations(cs.Summary, published, cs.HaveObjections, cs.HaveRepairs), nil
}

// CaseObservations are the five 五(二) inputs from a summary of the period's cases.
// published is the number of publicity records published in the period (-1 if unknown);
// haveObjections and haveRepairs say whether each kind of case is watched at all.
func CaseObservations(s cases.Summary, published int, haveObjections, haveRepairs bool) map[string]scoring.Observation {
	out := map[string]scoring.Observation{}
	reason := strings.Join(s.UnknownReasons, "；")
	if haveObjections {
		out[ObjectionHandling] = scoring.Observation{Known: s.Objections.Unknown == 0, Reason: reason, Value: s.Objections.MeanWorkdays}
		if published >= 0 {
			share := 0.0
			if published > 0 {
				share = float64(s.Objections.ValidRecords) / float64(published)
			} else if s.Objections.ValidRecords > 0 {
				share = 1
			}
			out[ObjectionShare] = scoring.Observation{Known: true, Value: share}
		}
	}
	if haveRepairs {
		out[RepairsOverdue] = scoring.Observation{Known: s.Repairs.Unknown == 0, Reason: reason, Count: float64(s.Repairs.Overdue)}
		out[RepairsNonCompliant] = scoring.Observation{Known: true, Count: float64(s.Repairs.NonCompliant)}
	}
	if haveObjections || haveRepairs {
		out[ResultsSynced] = scoring.Observation{Known: true, OK: s.Objections.SyncLate+s.Repairs.SyncLate == 0}
	}
	return out
}

// ParseObjections reads stored objection cases.
func ParseObjections(recs []ledger.CaseRecord) []cases.Objection {
	out := make([]cases.Objection, len(recs))
	for i, r := range recs {
		out[i] = cases.ParseObjection(fieldsOf(r))
		out[i].ID = r.ID
	}
	return out
}

// ParseRepairs reads stored repair cases.
func ParseRepairs(recs []ledger.CaseRecord) []cases.Repair {
	out := make([]cases.Repair, len(recs))
	for i, r := range recs {
		out[i] = cases.ParseRepair(fieldsOf(r))
		out[i].ID = r.ID
	}
	return out
}

func fieldsOf(r ledger.CaseRecord) cases.Fields {
	return func(k string) string { return strings.TrimSpace(r.Fields[k]) }
}

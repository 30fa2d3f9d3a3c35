package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/availability"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/scoring"
)

//go:embed templates/*.tmpl
var templates embed.FS

var funcs = template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, "、") },
	"shanghai": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(clock.Shanghai).Format("2006-01-02 15:04:05")
	},
	"date":         func(t time.Time) string { return t.In(clock.Shanghai).Format("2006年1月2日") },
	"outcome":      zh.OutcomeName,
	"duration":     zh.FormatDuration,
	"points":       zh.FormatPoints,
	"explain":      zh.ExplainZH,
	"percent":      zh.Percent,
	"uptime":       uptimeText,
	"verdict":      zh.Verdict,
	"indicator":    zh.IndicatorName,
	"errorText":    zh.ErrorText,
	"headline":     zh.Headline,
	"ruleNames":    ruleNames,
	"millis":       millis,
	"minute":       func(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04") },
	"kindName":     func(k publicity.Kind) string { return publicity.KindNamesZH[k] },
	"rule":         zh.RuleName,
	"fetchClass":   zh.FetchClassName,
	"securityKind": zh.SecurityKindName,
	"before":       func(a, b time.Time) bool { return a.Before(b) },
}

var statusTmpl = template.Must(template.New("status.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/status.html.tmpl",
	"templates/shared.tmpl"))

// statusPage serves the status page, its CSV of the records behind the publicity counts,
// and the JSON API and badges made from the same data.
type statusPage struct {
	svc     statusSource
	log     *zap.Logger
	history dayHistory
	sparks  sparkHistory
	issues  issueCache
}

type incidentRow struct {
	ledger.Incident
	Duration time.Duration
	Outage   int64 // the scored outage it is part of, 0 if none
}

type statusData struct {
	Now         time.Time
	PeriodStart time.Time
	City        string
	LedgerTitle string
	Headline    string
	// Targets are every configured target, in config order, without their heavy parts
	// (gather adds them to all, a page to those it shows).
	Targets []targetView
	// List is the targets table of a page: the targets shown (with their heavy parts), the
	// page, the filter and the counts; nil but on the page.
	List      *targetList
	Incidents []incidentRow
	Outages   int
	Quorum    int // vantages that must see a site down at once
	// Scored are the outages scored in the period, newest first: the incidents of a site's
	// pages and vantages that count as one, with the vantages that saw each.
	Scored       []incident.Outage
	Risks        int
	Card         []scoring.Result
	Publicity    *card.Publicity
	Issues       *issuesView
	Cases        *card.Cases
	Imports      importsView
	NextSteps    []nextStep
	EvidenceRows int
	Observable   float64
	Lost         float64
	// What the portal shows: credit report checks (nil when none is configured nor made),
	// security incidents, list pages' freshness.
	Reports   *card.Reports
	Security  *card.Security
	ListPages []card.ListPage
}

// statusSource is what the status page reads: the running service, or a test's fixture.
type statusSource interface {
	Config() *config.Config
	Ledger() *ledger.Ledger
	Store() *metrics.Store
	Settings() card.Settings
	Clock() clock.Clock
}

// errNoCard is returned before the first card is computed.
var errNoCard = errors.New("no score card yet")

// gatherer reads what a status page (or the API) shows, as of now.
type gatherer struct {
	cfg         *config.Config
	ledger      *ledger.Ledger
	store       *metrics.Store
	settings    card.Settings
	now         time.Time
	periodStart time.Time
	incidents   []ledger.Incident // overlapping the last 90 days and the period, as they stand now
	incFrom     time.Time         // where the incidents' window starts
	times       map[string]availability.Time
	history     *dayHistory
	sparks      *sparkHistory
	issueCache  *issueCache
}

func (p *statusPage) gatherer() *gatherer {
	return &gatherer{cfg: p.svc.Config(), ledger: p.svc.Ledger(), store: p.svc.Store(), settings: p.svc.Settings(),
		now: p.svc.Clock().Now(), history: &p.history, sparks: &p.sparks, issueCache: &p.issues}
}

// prepare reads what every view needs: the card, and the incidents of the last 90 days and
// of the period.
func (g *gatherer) prepare(ctx context.Context) (*card.Card, error) {
	c := g.store.Card()
	if c == nil {
		return nil, errNoCard
	}
	g.periodStart = c.From
	g.incFrom = earliest(c.From, clock.Day(g.now).AddDate(0, 0, 1-HistoryDays), g.now.Add(-30*24*time.Hour))
	var err error
	if g.incidents, err = g.ledger.Incidents(ctx, g.incFrom, g.now, false); err != nil {
		return nil, err
	}
	return c, nil
}

// summary reads the status page's data but for the targets' heavy parts: the card, the
// targets' states and uptimes, the incidents, imports, publicity records and next steps.
func (g *gatherer) summary(ctx context.Context) (*statusData, error) {
	c, err := g.prepare(ctx)
	if err != nil {
		return nil, err
	}
	d := &statusData{Now: g.now, PeriodStart: c.From, Card: c.Results, Outages: len(c.Portal.Outages),
		Quorum: g.cfg.Portal.Incident.Quorum,
		City:   g.cfg.Assessment.City, LedgerTitle: g.cfg.Assessment.LedgerTitle, Headline: zh.Headline(c.Results)}
	if pub := c.Publicity; pub != nil && pub.Watched {
		d.Publicity = pub
	}
	if cs := c.Cases; cs != nil && (cs.HaveObjections || cs.HaveRepairs) {
		d.Cases = cs
	}
	if d.Targets, err = g.targetViews(ctx); err != nil {
		return nil, err
	}
	g.addContent(d, c)
	for k := len(c.Portal.Outages) - 1; k >= 0; k-- {
		d.Scored = append(d.Scored, c.Portal.Outages[k])
	}
	d.Incidents = g.incidentRows(c, func(i ledger.Incident) bool { return i.Open() || !i.EndedAt.Before(d.PeriodStart) })
	risks, err := g.ledger.RiskEvents(ctx, d.PeriodStart, g.now)
	if err != nil {
		return nil, err
	}
	d.Risks = len(risks)
	for _, r := range d.Card {
		if !r.Observable {
			d.EvidenceRows++
		}
		if r.Known && r.MaxPoints > 0 {
			d.Observable += r.MaxPoints
			d.Lost += r.Lost()
		}
	}
	if d.Issues, err = g.issues(ctx, c); err != nil {
		return nil, err
	}
	if d.Imports, err = g.imports(ctx); err != nil {
		return nil, err
	}
	d.NextSteps = nextSteps(nextStepInputs{card: c, issues: d.Issues, targets: d.Targets, imports: d.Imports,
		calendar: g.settings.Calendar, cases: g.settings.Cases})
	return d, nil
}

// incidentRows are the incidents read (g.incidents) that keep says to, newest first, with
// the scored outage each is part of.
func (g *gatherer) incidentRows(c *card.Card, keep func(ledger.Incident) bool) []incidentRow {
	outageOf := map[int64]int64{}
	for _, o := range c.Portal.Outages {
		for _, id := range o.Members {
			outageOf[id] = o.ID
		}
	}
	var out []incidentRow
	for _, i := range g.incidents {
		if keep(i) {
			end := i.EndedAt
			if i.Open() {
				end = g.now
			}
			out = append(out, incidentRow{Incident: i, Duration: end.Sub(i.StartedAt), Outage: outageOf[i.ID]})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].StartedAt.After(out[b].StartedAt) })
	return out
}

func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lq, err := parseListQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d, err := p.gatherer().page(r.Context(), lq)
	if p.readFailed(w, r, err, false) {
		return
	}
	renderHTML(w, statusTmpl, d, p.log.With(zap.String("page", "status")))
}

// readFailed answers a read of the status data that failed, as a page or (api) as JSON:
// 404 for a target or page that does not exist, 503 before the first card, 500 for the
// ledger's own errors, which are logged. It reports whether err was one.
func (p *statusPage) readFailed(w http.ResponseWriter, r *http.Request, err error, api bool) bool {
	if err == nil {
		return false
	}
	answer := func(code int, msg string) {
		if api {
			apiError(w, code, msg)
		} else {
			http.Error(w, msg, code)
		}
	}
	var missing errNoPage
	switch {
	case errors.Is(err, errNoTarget) || errors.As(err, &missing):
		answer(http.StatusNotFound, err.Error())
	case errors.Is(err, errNoCard) && api:
		answer(http.StatusServiceUnavailable, "评分尚未完成，请稍后再试")
	case errors.Is(err, errNoCard):
		answer(http.StatusServiceUnavailable, "评分尚未完成，请稍后刷新")
	default:
		p.log.Error("reading the ledger failed", zap.String("path", r.URL.Path), zap.Error(err))
		answer(http.StatusInternalServerError, "读取台账失败")
	}
	return true
}

// renderHTML answers with a page rendered whole, or, when the template fails, a 500 and
// nothing of the page; the failure is logged with log's fields.
func renderHTML(w http.ResponseWriter, t *template.Template, data any, log *zap.Logger) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		log.Error("rendering the page failed", zap.Error(err))
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// uptimeText is an uptime ratio as people read it: "无数据" when nothing was watched.
func uptimeText(r *float64) string {
	if r == nil {
		return "无数据"
	}
	return zh.Percent(*r)
}

// contentState says, for the targets table, what the target's latest checked page shows.
func contentState(s *metrics.Store, target string) (string, string) {
	c, ok := s.Content(target)
	if !ok {
		return "—", "unknown"
	}
	var confirmed, seen []string
	for _, rule := range metrics.DefacementRules {
		if c.Confirmed[rule] > 0 {
			confirmed = append(confirmed, zh.RuleName(rule))
		} else if c.Seen[rule] > 0 {
			seen = append(seen, zh.RuleName(rule))
		}
	}
	switch {
	case len(confirmed) > 0:
		return "已确认篡改迹象：" + strings.Join(confirmed, "、"), "down"
	case c.Unreadable != "":
		return c.Unreadable, "risk"
	case len(seen) > 0:
		return "疑似篡改迹象（待连续探测确认）：" + strings.Join(seen, "、"), "risk"
	case c.Stale:
		return "栏目内容未及时更新", "risk"
	}
	return "正常", "up"
}

// addContent puts what the portal shows on the page: the card's report checks and security
// incidents, and the configured list pages' freshness.
func (g *gatherer) addContent(d *statusData, c *card.Card) {
	if r := c.Reports; r != nil && (r.Checks > 0 || g.cfg.CreditReports.Enabled()) {
		d.Reports = r
	}
	d.Security = c.Security
	lists := map[string]bool{}
	for _, t := range g.cfg.Portal.Targets {
		lists[t.Name] = t.Freshness != nil
	}
	for _, lp := range c.ListPages {
		if lists[lp.Target] {
			d.ListPages = append(d.ListPages, lp)
		}
	}
}

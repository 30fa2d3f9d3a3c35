package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/service"
)

//go:embed templates/*.tmpl
var templates embed.FS

var funcs = template.FuncMap{
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
	"percent":      func(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" },
	"percent4":     func(v float64) string { return strconv.FormatFloat(v*100, 'f', 4, 64) + "%" },
	"kindName":     func(k publicity.Kind) string { return publicity.KindNamesZH[k] },
	"rule":         zh.RuleName,
	"fetchClass":   zh.FetchClassName,
	"securityKind": zh.SecurityKindName,
}

var statusTmpl = template.Must(template.New("status.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/status.html.tmpl"))

type statusPage struct {
	svc *service.Service
	log *zap.Logger
}

type targetRow struct {
	Name, URL, State, StateClass, Outcome, LastError string
	StatusCode                                       int
	LastProbe                                        time.Time
	Incidents, Risks                                 int
	// Content says what the latest checked page shows.
	Content, ContentClass string
}

type incidentRow struct {
	ledger.Incident
	Duration time.Duration
}

type statusData struct {
	Now          time.Time
	PeriodStart  time.Time
	Targets      []targetRow
	Incidents    []incidentRow
	Outages      int
	Risks        int
	Card         []scoring.Result
	Publicity    *card.Publicity
	Cases        *card.Cases
	EvidenceRows int
	Observable   float64
	Lost         float64
	// What the portal shows: credit report checks (nil when none is configured nor made),
	// security incidents, list pages' freshness.
	Reports   *card.Reports
	Security  *card.Security
	ListPages []card.ListPage
}

func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cfg := p.svc.Config()
	now := p.svc.Clock().Now()
	c := p.svc.Store().Card()
	if c == nil {
		http.Error(w, "评分尚未完成，请稍后刷新", http.StatusServiceUnavailable)
		return
	}
	d := statusData{Now: now, PeriodStart: c.From, Card: c.Results, Outages: len(c.Portal.Outages)}
	if pub := c.Publicity; pub != nil && pub.Watched {
		d.Publicity = pub
	}
	if cs := c.Cases; cs != nil && (cs.HaveObjections || cs.HaveRepairs) {
		d.Cases = cs
	}
	for _, t := range cfg.Portal.Targets {
		row := targetRow{Name: t.Name, URL: t.URL, State: "尚未探测", StateClass: "unknown"}
		if s, ok := p.svc.Store().Portal(t.Name); ok {
			row.Incidents, row.Risks = s.IncidentsTotal, s.RiskTotal
			if s.Probed {
				row.Outcome, row.LastError, row.StatusCode, row.LastProbe = s.Outcome, s.LastError, s.StatusCode, s.LastProbe
				row.State, row.StateClass = "正常", "up"
				if !s.Success {
					row.State, row.StateClass = "探测失败", "risk"
				}
			}
			if s.IncidentOpen {
				row.State, row.StateClass = "不可访问（事件进行中）", "down"
			}
		}
		row.Content, row.ContentClass = contentState(p.svc.Store(), t.Name)
		d.Targets = append(d.Targets, row)
	}
	p.addContent(&d, c)
	incs, err := p.svc.Ledger().Incidents(r.Context(), d.PeriodStart, now, false)
	if err != nil {
		p.log.Error("status page: listing incidents failed", zap.Error(err))
		http.Error(w, "读取台账失败", http.StatusInternalServerError)
		return
	}
	for _, i := range incs {
		end := i.EndedAt
		if i.Open() {
			end = now
		}
		d.Incidents = append(d.Incidents, incidentRow{Incident: i, Duration: end.Sub(i.StartedAt)})
	}
	sort.SliceStable(d.Incidents, func(a, b int) bool { return d.Incidents[a].StartedAt.After(d.Incidents[b].StartedAt) })
	risks, err := p.svc.Ledger().RiskEvents(r.Context(), d.PeriodStart, now)
	if err == nil {
		d.Risks = len(risks)
	}
	for _, c := range d.Card {
		if !c.Observable {
			d.EvidenceRows++
		}
		if c.Known && c.MaxPoints > 0 {
			d.Observable += c.MaxPoints
			d.Lost += c.Lost()
		}
	}
	var buf bytes.Buffer
	if err := statusTmpl.Execute(&buf, d); err != nil {
		p.log.Error("status page: rendering failed", zap.Error(err))
		http.Error(w, "页面生成失败", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
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
func (p *statusPage) addContent(d *statusData, c *card.Card) {
	if r := c.Reports; r != nil && (r.Checks > 0 || p.svc.Config().CreditReports.Enabled()) {
		d.Reports = r
	}
	d.Security = c.Security
	lists := map[string]bool{}
	for _, t := range p.svc.Config().Portal.Targets {
		lists[t.Name] = t.Freshness != nil
	}
	for _, lp := range c.ListPages {
		if lists[lp.Target] {
			d.ListPages = append(d.ListPages, lp)
		}
	}
}

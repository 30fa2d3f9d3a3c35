package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// One target's view (/targets/{target}) and JSON (/api/v1/targets/{target}), and the
// parameters of /api/v1/status: what the status page and the API show of many targets, a
// page at a time, and of one in full.

var targetTmpl = template.Must(template.New("target.html.tmpl").Funcs(funcs).ParseFS(templates,
	"templates/target.html.tmpl", "templates/shared.tmpl"))

// errNoTarget is a target that is not configured.
var errNoTarget = errors.New("没有该监测目标")

// oneTarget reads one target's view, its heavy parts included, and the card.
func (g *gatherer) oneTarget(ctx context.Context, name string) (*targetView, *card.Card, error) {
	if !slices.ContainsFunc(g.cfg.Portal.Targets, func(t config.Target) bool { return t.Name == name }) {
		return nil, nil, errNoTarget
	}
	c, err := g.prepare(ctx)
	if err != nil {
		return nil, nil, err
	}
	views, err := g.targetViews(ctx, name)
	if err == nil {
		err = g.detail(ctx, views, true)
	}
	if err != nil {
		return nil, nil, err
	}
	return &views[0], c, nil
}

// targetPageData is what a target's page shows.
type targetPageData struct {
	Now, PeriodStart time.Time
	City             string
	Quorum           int
	Target           targetView
	// Incidents are the target's incidents overlapping the daily bar's 90 days or the
	// period, newest first.
	Incidents []incidentRow
	ListPage  *card.ListPage // the list page's freshness, nil unless the target is one
}

func (p *statusPage) targetPage(w http.ResponseWriter, r *http.Request) {
	g := p.gatherer()
	name := r.PathValue("target")
	v, c, err := g.oneTarget(r.Context(), name)
	if p.readFailed(w, r, err, false) {
		return
	}
	d := targetPageData{Now: g.now, PeriodStart: c.From, City: g.cfg.Assessment.City, Quorum: g.cfg.Portal.Incident.Quorum, Target: *v,
		Incidents: g.incidentRows(c, func(i ledger.Incident) bool { return i.Target == name })}
	for _, t := range g.cfg.Portal.Targets {
		if t.Name == name && t.Freshness != nil {
			for k := range c.ListPages {
				if c.ListPages[k].Target == name {
					d.ListPage = &c.ListPages[k]
				}
			}
		}
	}
	renderHTML(w, targetTmpl, d, p.log.With(zap.String("page", "target")))
}

// apiTargetStatus is the answer of /api/v1/targets/{target}.
type apiTargetStatus struct {
	GeneratedAt string    `json:"generated_at"`
	PeriodStart string    `json:"period_start"`
	Target      apiTarget `json:"target"`
	// Incidents are the target's incidents overlapping the last 90 days or the period,
	// newest first, as /api/v1/incidents lists them.
	Incidents []apiIncident `json:"incidents"`
}

func (p *statusPage) apiTarget(w http.ResponseWriter, r *http.Request) {
	g := p.gatherer()
	name := r.PathValue("target")
	v, c, err := g.oneTarget(r.Context(), name)
	if p.readFailed(w, r, err, true) {
		return
	}
	var incs []ledger.Incident
	for _, i := range g.incidents {
		if i.Target == name {
			incs = append(incs, i)
		}
	}
	writeAPI(w, http.StatusOK, apiTargetStatus{GeneratedAt: clock.Stamp(g.now), PeriodStart: clock.Stamp(c.From), Target: targetJSON(v),
		Incidents: incidentsJSON(incs, g.now, g.incFrom, g.now).Incidents})
}

// The targets of /api/v1/status, a page at a time.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// statusQuery is what /api/v1/status was asked for.
type statusQuery struct {
	limit, offset int
	filter        string          // in the name or address, "" for every target
	states        map[string]bool // nil for every state
	stateList     string          // as given
	days          bool            // each target's 90 days
}

var targetStates = []string{StateUp, StateRecovering, StateDown, StateChallenged, StateUnknown}

// parseStatusQuery reads /api/v1/status's parameters; an error names the bad one, in Chinese.
func parseStatusQuery(v url.Values) (statusQuery, error) {
	q := statusQuery{days: true}
	var err error
	if q.limit, err = intParam(v, "limit", defaultLimit, 1, maxLimit, fmt.Sprintf(" 1 到 %d 之间的整数", maxLimit)); err != nil {
		return q, err
	}
	if q.offset, err = intParam(v, "offset", 0, 0, math.MaxInt, "不小于 0 的整数"); err != nil {
		return q, err
	}
	if q.filter, err = filterParam(v); err != nil {
		return q, err
	}
	if s := v.Get("state"); s != "" {
		q.states, q.stateList = map[string]bool{}, s
		for _, st := range strings.Split(s, ",") {
			known := false
			for _, k := range targetStates {
				known = known || st == k
			}
			if !known {
				return q, fmt.Errorf("state 应为 %s 中的一个或几个，以逗号分隔（收到 %q）", strings.Join(targetStates, "、"), s)
			}
			q.states[st] = true
		}
	}
	if s := v.Get("days"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, fmt.Errorf("days 应为 true 或 false（收到 %q）", s)
		}
		q.days = b
	}
	return q, nil
}

// keeps reports whether the target is among those asked for.
func (q statusQuery) keeps(v *targetView) bool {
	return (q.states == nil || q.states[v.State.Code]) && matches(v, q.filter)
}

// next is the address of the next page.
func (q statusQuery) next() string {
	v := url.Values{}
	v.Set("offset", strconv.Itoa(q.offset+q.limit))
	v.Set("limit", strconv.Itoa(q.limit))
	if q.filter != "" {
		v.Set("q", q.filter)
	}
	if q.stateList != "" {
		v.Set("state", q.stateList)
	}
	if !q.days {
		v.Set("days", "false")
	}
	return "/api/v1/status?" + v.Encode()
}

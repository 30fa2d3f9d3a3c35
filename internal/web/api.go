package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// The JSON API: the status page's data for other programs (docs/api.md). Its types are its
// own, so that the page can change without breaking a consumer. Times are RFC 3339 in
// Asia/Shanghai; a time or a ratio that does not exist is null, never a zero.

type apiStatus struct {
	GeneratedAt string      `json:"generated_at"`
	PeriodStart string      `json:"period_start"`
	City        string      `json:"city"`
	Headline    string      `json:"headline"`
	Targets     []apiTarget `json:"targets"`
	// The targets are a page of those the filter keeps (state, q), in config order:
	// targets_total of them, from targets_offset, at most targets_limit; targets_next asks
	// for the next page, null after the last.
	TargetsTotal  int               `json:"targets_total"`
	TargetsOffset int               `json:"targets_offset"`
	TargetsLimit  int               `json:"targets_limit"`
	TargetsNext   *string           `json:"targets_next"`
	Imports       apiImports        `json:"imports"`
	Publicity     *apiPublicityList `json:"publicity"`
	// Outages are the outages scored in the period, newest first.
	Outages []incident.OutageJSON `json:"outages"`
}

type apiTarget struct {
	Name           string          `json:"name"`
	URL            string          `json:"url"`
	State          string          `json:"state"`
	StateText      string          `json:"state_text"`
	StateNote      string          `json:"state_note"`
	OpenIncident   *int64          `json:"open_incident"`
	OpenSince      *string         `json:"open_since"`
	LastProbe      *apiProbe       `json:"last_probe"`
	Uptime         apiUptime       `json:"uptime"`
	CertExpiry     *string         `json:"cert_expiry"`
	CertDaysLeft   *int            `json:"cert_days_left"`
	IncidentsTotal int             `json:"incidents_total"`
	RiskTotal      int             `json:"risk_events_total"`
	Days           []apiDay        `json:"days"`
	ResponseTimes  apiResponseTime `json:"response_times"`
}

type apiProbe struct {
	At         string  `json:"at"`
	Outcome    string  `json:"outcome"`
	OutcomeZH  string  `json:"outcome_text"`
	StatusCode int     `json:"status_code"`
	Seconds    float64 `json:"seconds"`
	Error      string  `json:"error"`
	ErrorZH    string  `json:"error_text"`
}

type apiUptime struct {
	Last24h *float64 `json:"last_24h"`
	Last30d *float64 `json:"last_30d"`
	Period  *float64 `json:"period"`
}

type apiDay struct {
	Date           string   `json:"date"`
	Status         string   `json:"status"`
	Uptime         *float64 `json:"uptime"`
	WatchedSeconds float64  `json:"watched_seconds"`
	DownSeconds    float64  `json:"down_seconds"`
	Probes         int      `json:"probes"`
	Failed         int      `json:"failed"`
	MeanSeconds    *float64 `json:"mean_seconds"`
}

type apiResponseTime struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	BucketSeconds int      `json:"bucket_seconds"`
	Probes        int      `json:"probes"`
	Failed        int      `json:"failed"`
	MeanSeconds   *float64 `json:"mean_seconds"`
	MaxSeconds    *float64 `json:"max_seconds"`
}

type apiImports struct {
	Sources       []apiSource   `json:"sources"`
	RejectedTotal int           `json:"rejected_total"`
	Rejected      []apiRejected `json:"rejected"`
}

type apiSource struct {
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	Dir         string            `json:"dir"`
	Platform    bool              `json:"platform"`
	Configured  bool              `json:"configured"`
	LastSuccess *string           `json:"last_success"`
	LastImport  *string           `json:"last_import"`
	FilesDone   int               `json:"files_done"`
	FilesFailed int               `json:"files_failed"`
	InProgress  int               `json:"files_in_progress"`
	Waiting     int               `json:"records_waiting"`
	Errors      map[string]int    `json:"errors"`
	Streams     map[string]string `json:"streams"`
}

type apiRejected struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	At     string `json:"at"`
	Error  string `json:"error"`
}

type apiPublicityList struct {
	AsOf    string                             `json:"as_of"`
	Counts  map[string]int                     `json:"counts"`
	Records map[string][]publicity.IssueRecord `json:"records"`
}

func stampPtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := clock.Stamp(t)
	return &s
}

// serveJSON answers what build makes of the status data (without the targets' heavy
// parts), or the error.
func (p *statusPage) serveJSON(w http.ResponseWriter, r *http.Request, build func(*gatherer, *statusData) (any, error)) {
	g := p.gatherer()
	d, err := g.summary(r.Context())
	var v any
	if err == nil {
		v, err = build(g, d)
	}
	if p.readFailed(w, r, err, true) {
		return
	}
	writeAPI(w, http.StatusOK, v)
}

func writeAPI(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	writeAPI(w, code, map[string]string{"error": msg})
}

func (p *statusPage) apiStatus(w http.ResponseWriter, r *http.Request) {
	q, err := parseStatusQuery(r.URL.Query())
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.serveJSON(w, r, func(g *gatherer, d *statusData) (any, error) {
		var kept []targetView
		for i := range d.Targets {
			if q.keeps(&d.Targets[i]) {
				kept = append(kept, d.Targets[i])
			}
		}
		total := len(kept)
		kept = kept[min(q.offset, total):min(q.offset+q.limit, total)]
		if err := g.detail(r.Context(), kept, q.days); err != nil {
			return nil, err
		}
		out := statusJSONOf(d, kept)
		out.TargetsTotal, out.TargetsOffset, out.TargetsLimit = total, q.offset, q.limit
		if q.offset+q.limit < total {
			next := q.next()
			out.TargetsNext = &next
		}
		return out, nil
	})
}

// targetJSON is one target's object of the API.
func targetJSON(t *targetView) apiTarget {
	at := apiTarget{Name: t.Name, URL: t.URL, State: t.State.Code, StateText: t.State.Word, StateNote: t.State.Note,
		OpenSince: stampPtr(t.OpenSince), Uptime: apiUptime{t.Uptime24h, t.Uptime30d, t.UptimePeriod},
		CertExpiry: stampPtr(t.CertExpiry), IncidentsTotal: t.Incidents, RiskTotal: t.Risks, Days: make([]apiDay, 0, len(t.Days))}
	if t.OpenIncident != 0 {
		id := t.OpenIncident
		at.OpenIncident = &id
	}
	if !t.LastProbe.IsZero() {
		at.LastProbe = &apiProbe{At: clock.Stamp(t.LastProbe), Outcome: t.Outcome, OutcomeZH: zh.OutcomeName(t.Outcome),
			StatusCode: t.StatusCode, Seconds: t.Seconds, Error: t.LastError, ErrorZH: zh.ErrorText(t.LastError)}
	}
	if !t.CertExpiry.IsZero() {
		days := t.CertDays
		at.CertDaysLeft = &days
	}
	for _, dc := range t.Days {
		ad := apiDay{Date: dc.Date, Status: dc.Class, Uptime: dc.Uptime, WatchedSeconds: dc.Watched.Seconds(),
			DownSeconds: dc.Down.Seconds(), Probes: dc.Probes, Failed: dc.Failed}
		if dc.Probes > dc.Failed {
			m := dc.MeanSeconds
			ad.MeanSeconds = &m
		}
		at.Days = append(at.Days, ad)
	}
	s := t.Spark
	at.ResponseTimes = apiResponseTime{From: clock.Stamp(s.From), To: clock.Stamp(s.To), BucketSeconds: s.BucketMinutes * 60,
		Probes: s.Probes, Failed: s.Failed}
	if s.HaveMeasurement {
		mean, most := s.MeanMS/1000, s.MaxMS/1000
		at.ResponseTimes.MeanSeconds, at.ResponseTimes.MaxSeconds = &mean, &most
	}
	return at
}

// statusJSONOf is the answer of /api/v1/status with the targets given.
func statusJSONOf(d *statusData, targets []targetView) apiStatus {
	out := apiStatus{GeneratedAt: clock.Stamp(d.Now), PeriodStart: clock.Stamp(d.PeriodStart), City: d.City, Headline: d.Headline,
		Targets: make([]apiTarget, 0, len(targets)), Outages: []incident.OutageJSON{}}
	for _, o := range d.Scored {
		out.Outages = append(out.Outages, o.JSON())
	}
	for i := range targets {
		out.Targets = append(out.Targets, targetJSON(&targets[i]))
	}
	out.Imports = apiImports{Sources: []apiSource{}, RejectedTotal: d.Imports.RejectedTotal, Rejected: []apiRejected{}}
	for _, s := range d.Imports.Sources {
		as := apiSource{Name: s.Name, Kind: s.Kind, Dir: s.Dir, Platform: s.Platform, Configured: s.Configured,
			LastSuccess: stampPtr(s.LastSuccess), LastImport: stampPtr(s.LastImport), FilesDone: s.Done, FilesFailed: s.Failed,
			InProgress: s.InProgress, Waiting: s.Waiting, Errors: map[string]int{}, Streams: map[string]string{}}
		for reason, n := range s.ErrorCounts {
			as.Errors[reason] = int(n)
		}
		for _, st := range s.Streams {
			as.Streams[st.Name] = clock.Stamp(st.At)
		}
		out.Imports.Sources = append(out.Imports.Sources, as)
	}
	for _, f := range d.Imports.Rejected {
		out.Imports.Rejected = append(out.Imports.Rejected, apiRejected{Source: f.Source, Name: f.Name, SHA256: f.SHA256, Size: f.Size,
			At: clock.Stamp(f.ImportedAt), Error: f.Error})
	}
	if iv := d.Issues; iv != nil {
		pl := &apiPublicityList{AsOf: iv.AsOf, Counts: map[string]int{}, Records: map[string][]publicity.IssueRecord{}}
		for _, g := range iv.Groups {
			pl.Counts[g.Issue] = g.Count
			pl.Records[g.Issue] = append([]publicity.IssueRecord{}, g.Records...)
		}
		out.Publicity = pl
	}
	return out
}

type apiScore struct {
	GeneratedAt      string         `json:"generated_at"`
	PeriodStart      string         `json:"period_start"`
	Headline         string         `json:"headline"`
	ObservablePoints float64        `json:"observable_points"`
	LostPoints       float64        `json:"lost_points"`
	Indicators       []apiIndicator `json:"indicators"`
	NextSteps        []apiNextStep  `json:"next_steps"`
}

type apiIndicator struct {
	ID         string   `json:"id"`
	Ledger     string   `json:"ledger"`
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	MaxPoints  float64  `json:"max_points"`
	Observable bool     `json:"observable"`
	Known      bool     `json:"known"`
	Gate       bool     `json:"gate"`
	Points     *float64 `json:"points"`
	GatePass   *bool    `json:"gate_pass"`
	Verdict    string   `json:"verdict"`
	Basis      string   `json:"basis"`
}

type apiNextStep struct {
	IndicatorID string      `json:"indicator_id"`
	Indicator   string      `json:"indicator"`
	Verdict     string      `json:"verdict"`
	Losing      bool        `json:"losing"`
	Actions     []apiAction `json:"actions"`
}

type apiAction struct {
	Text   string   `json:"text"`
	Due    *string  `json:"due"`
	Urgent bool     `json:"urgent"`
	Items  []string `json:"items"`
	More   int      `json:"more"`
	Link   string   `json:"link"`
}

func (p *statusPage) apiScore(w http.ResponseWriter, r *http.Request) {
	p.serveJSON(w, r, func(_ *gatherer, d *statusData) (any, error) { return scoreJSON(d), nil })
}

func scoreJSON(d *statusData) apiScore {
	out := apiScore{GeneratedAt: clock.Stamp(d.Now), PeriodStart: clock.Stamp(d.PeriodStart), Headline: d.Headline,
		ObservablePoints: d.Observable, LostPoints: d.Lost, Indicators: []apiIndicator{}, NextSteps: []apiNextStep{}}
	for _, r := range d.Card {
		ai := apiIndicator{ID: r.ID, Ledger: r.Ledger, Name: r.Name, Title: r.Title, MaxPoints: r.MaxPoints, Observable: r.Observable,
			Known: r.Known, Gate: r.Gate, Verdict: zh.Verdict(r), Basis: zh.ExplainZH(r)}
		if ai.Name == "" {
			ai.Name = r.Title
		}
		if r.Known && r.MaxPoints > 0 {
			pts := r.Points
			ai.Points = &pts
		}
		if r.Known && r.Gate {
			pass := r.GatePass
			ai.GatePass = &pass
		}
		out.Indicators = append(out.Indicators, ai)
	}
	for _, s := range d.NextSteps {
		as := apiNextStep{IndicatorID: s.ID, Indicator: s.Indicator, Verdict: s.Verdict, Losing: s.Losing, Actions: []apiAction{}}
		for _, a := range s.Actions {
			aa := apiAction{Text: a.Text, Urgent: a.Urgent, Items: append([]string{}, a.Items...), More: a.More, Link: a.Link}
			if a.Due != "" {
				due := a.Due
				aa.Due = &due
			}
			as.Actions = append(as.Actions, aa)
		}
		out.NextSteps = append(out.NextSteps, as)
	}
	return out
}

type apiIncidentList struct {
	GeneratedAt string        `json:"generated_at"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	Incidents   []apiIncident `json:"incidents"`
}

type apiIncident struct {
	ID           int64           `json:"id"`
	Target       string          `json:"target"`
	Site         string          `json:"site"`
	Scored       bool            `json:"scored"`
	Vantage      string          `json:"vantage"`
	Start        string          `json:"start"`
	ConfirmedAt  string          `json:"confirmed_at"`
	End          *string         `json:"end"`
	EndCause     string          `json:"end_cause"`
	Open         bool            `json:"open"`
	Seconds      float64         `json:"seconds"`
	Outcome      string          `json:"outcome"`
	OutcomeZH    string          `json:"outcome_text"`
	FirstError   string          `json:"first_error"`
	FailedProbes int             `json:"failed_probes"`
	Voided       bool            `json:"voided"`
	Annotations  []apiAnnotation `json:"annotations"`
	Page         string          `json:"page"`
}

type apiAnnotation struct {
	Cause string `json:"cause"`
	Note  string `json:"note"`
	By    string `json:"by"`
	At    string `json:"at"`
}

// apiIncidents lists the incidents overlapping [from, to): the days given as from and to
// (YYYY-MM-DD, Asia/Shanghai, to inclusive), by default the assessment period to now;
// open=true keeps the open ones only. Newest first.
func (p *statusPage) apiIncidents(w http.ResponseWriter, r *http.Request) {
	now := p.svc.Clock().Now()
	from := p.svc.Settings().PeriodStart(card.Now(now))
	to := now
	q := r.URL.Query()
	if s := q.Get("from"); s != "" {
		d, err := clock.ParseDate(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, "from 应为 YYYY-MM-DD 格式的日期")
			return
		}
		from = d
	}
	if s := q.Get("to"); s != "" {
		d, err := clock.ParseDate(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, "to 应为 YYYY-MM-DD 格式的日期")
			return
		}
		to = clock.NextDay(d)
	}
	if !from.Before(to) {
		apiError(w, http.StatusBadRequest, "from 应早于 to")
		return
	}
	onlyOpen := false
	if s := q.Get("open"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, "open 应为 true 或 false")
			return
		}
		onlyOpen = b
	}
	incs, err := p.svc.Ledger().Incidents(r.Context(), from, to, onlyOpen)
	if err != nil {
		p.log.Error("api: listing incidents failed", zap.Error(err))
		apiError(w, http.StatusInternalServerError, "读取台账失败")
		return
	}
	writeAPI(w, http.StatusOK, incidentsJSON(incs, now, from, to))
}

func incidentsJSON(incs []ledger.Incident, now, from, to time.Time) apiIncidentList {
	out := apiIncidentList{GeneratedAt: clock.Stamp(now), From: clock.Stamp(from), To: clock.Stamp(to), Incidents: []apiIncident{}}
	for k := len(incs) - 1; k >= 0; k-- {
		i := incs[k]
		end := i.EndedAt
		if i.Open() {
			end = now
		}
		ai := apiIncident{ID: i.ID, Target: i.Target, Site: i.Site, Scored: i.Scored, Vantage: i.Vantage, Start: clock.Stamp(i.StartedAt),
			ConfirmedAt: clock.Stamp(i.ConfirmedAt), End: stampPtr(i.EndedAt), EndCause: i.EndCause, Open: i.Open(),
			Seconds: end.Sub(i.StartedAt).Seconds(), Outcome: i.Outcome, OutcomeZH: zh.OutcomeName(i.Outcome), FirstError: i.FirstError,
			FailedProbes: i.FailedProbes, Voided: i.Voided(), Annotations: []apiAnnotation{}, Page: "/incidents/" + strconv.FormatInt(i.ID, 10)}
		for _, a := range i.Annotations {
			ai.Annotations = append(ai.Annotations, apiAnnotation{Cause: a.Cause, Note: a.Note, By: a.By, At: clock.Stamp(a.At)})
		}
		out.Incidents = append(out.Incidents, ai)
	}
	return out
}

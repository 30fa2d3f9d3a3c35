package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creditwatch/creditwatch/internal/availability"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// The states of a target, in one word each.
const (
	StateUp         = "up"
	StateRecovering = "recovering"
	StateDown       = "down"
	StateChallenged = "challenged"
	StateUnknown    = "unknown"
)

// targetState is a target's current state in one word, read from the latest probe snapshot
// alone (metrics.Portal): the state, the last result and whether an incident is open come
// from the same snapshot, so the page cannot say 不可访问 beside a good last probe.
type targetState struct {
	Code  string // one of the State constants
	Word  string
	Class string // CSS class
	Note  string // what the word leaves out, "" if nothing
}

func stateOf(p *metrics.Portal) targetState {
	switch {
	case p == nil || !p.Probed && !p.IncidentOpen:
		return targetState{StateUnknown, "未监测", "unknown", "尚未探测"}
	case !p.Probed:
		// The ledger's open incident, and no probe since creditwatch started.
		return targetState{StateDown, "不可访问", "down", "事件进行中，启动后尚未探测"}
	case p.Outcome == "challenged":
		s := targetState{StateChallenged, "WAF 拦截", "risk", ""}
		switch {
		case p.IncidentOpen:
			s.Class, s.Note = "down", "事件进行中"
		case p.Success:
			s.Note = "挑战页按配置不计为失败"
		}
		return s
	case p.Success && p.IncidentOpen:
		return targetState{StateRecovering, "事件进行中·恢复确认中", "risk", "最近一次探测正常，待连续正常后确认恢复"}
	case p.Success:
		return targetState{StateUp, "正常", "up", ""}
	case p.IncidentOpen:
		return targetState{StateDown, "不可访问", "down", "事件进行中"}
	}
	return targetState{StateDown, "不可访问", "risk", "尚未确认为事件"}
}

// targetView is one target's row of the status page.
type targetView struct {
	Name, URL string
	State     targetState
	// The last probe since start.
	LastProbe  time.Time
	Outcome    string
	StatusCode int
	LastError  string
	Seconds    float64 // the last probe's response time
	// OpenIncident is the open incident's number, 0 if none (or none known to the ledger).
	OpenIncident int64
	OpenSince    time.Time
	// Uptime over the last 24 hours, 30 days and the assessment period to date: up ÷
	// watched, nil when nothing was watched.
	Uptime24h, Uptime30d, UptimePeriod *float64
	Days                               []dayCell
	Spark                              sparkline
	CertExpiry                         time.Time
	CertDays                           int
	CertClass                          string
	Incidents, Risks                   int
	Content, ContentClass              string
}

// HistoryDays is how many days the daily bar shows.
const HistoryDays = 90

// dayCell is one day of a target's daily bar.
type dayCell struct {
	Date           string
	X              int
	Class          string // up, partial, down, nodata
	Uptime         *float64
	Watched, Down  time.Duration
	Probes, Failed int
	MeanSeconds    float64
}

// Title is the day's tooltip.
func (d dayCell) Title() string {
	if d.Watched == 0 {
		return d.Date + "：无数据（未监测）"
	}
	s := fmt.Sprintf("%s：可用率 %s，已监测 %s", d.Date, zh.Percent(*d.Uptime), zh.FormatDuration(d.Watched))
	if d.Down > 0 {
		s += "，不可访问 " + zh.FormatDuration(d.Down)
	}
	if d.Probes > 0 {
		s += fmt.Sprintf("；探测 %d 次", d.Probes)
		if d.Failed > 0 {
			s += fmt.Sprintf("（失败 %d 次）", d.Failed)
		}
		if d.Probes > d.Failed {
			s += "，平均响应 " + millis(d.MeanSeconds)
		}
	}
	return s
}

func dayClass(watched, down time.Duration) string {
	switch {
	case watched == 0:
		return "nodata"
	case down == 0:
		return "up"
	case down*10 < watched:
		return "partial"
	}
	return "down"
}

// dayBar splits the last HistoryDays days (today included, up to now) of one target.
func dayBar(tt availability.Time, stats map[string]ledger.DayStats, now time.Time) []dayCell {
	first := clock.Day(now).AddDate(0, 0, 1-HistoryDays)
	cells := make([]dayCell, 0, HistoryDays)
	for i, day := 0, first; i < HistoryDays; i, day = i+1, clock.NextDay(day) {
		end := clock.NextDay(day)
		if end.After(now) {
			end = now
		}
		w, up, down, _ := tt.Split(day, end)
		date := clock.Date(day)
		st := stats[date]
		cells = append(cells, dayCell{Date: date, X: i * barStep, Class: dayClass(w, down), Uptime: availability.Ratio(up, w),
			Watched: w, Down: down, Probes: st.Probes, Failed: st.Probes - st.Good, MeanSeconds: st.MeanSeconds})
	}
	return cells
}

// The daily bar's geometry, in SVG units.
const (
	barStep   = 5
	barWidth  = 4
	barHeight = 24
)

// sparkline is the response time of the good probes over the last 24 hours, in buckets.
type sparkline struct {
	Path            string // an SVG path; "" when no probe was good
	Fails           []int  // x of the buckets with a failed probe
	MeanMS, MaxMS   float64
	Probes, Failed  int
	Width, Height   int
	From, To        time.Time
	BucketMinutes   int
	HaveMeasurement bool
}

// Title is the sparkline's tooltip.
func (s sparkline) Title() string {
	if !s.HaveMeasurement {
		return "过去24小时无正常探测，无响应时间"
	}
	t := fmt.Sprintf("过去24小时（每%d分钟平均）：平均响应 %s，最慢 %s；探测 %d 次", s.BucketMinutes, ms(s.MeanMS), ms(s.MaxMS), s.Probes)
	if s.Failed > 0 {
		t += fmt.Sprintf("，失败 %d 次（红色标记）", s.Failed)
	}
	return t
}

const (
	sparkBuckets = 96
	sparkBucket  = 15 * time.Minute
	sparkWidth   = 288
	sparkHeight  = 32
	sparkJoin    = 4 // buckets: an hour
)

// sparkWindow is the sparkline's 24 hours: whole buckets up to the one now is in.
func sparkWindow(now time.Time) (from, to time.Time) {
	to = now.Truncate(sparkBucket).Add(sparkBucket)
	return to.Add(-sparkBuckets * sparkBucket), now
}

func sparklineOf(buckets []ledger.ResponseBucket, from, to time.Time) sparkline {
	s := sparkline{Width: sparkWidth, Height: sparkHeight, From: from, To: to, BucketMinutes: int(sparkBucket / time.Minute)}
	var sum float64
	var good int
	for _, b := range buckets {
		s.Probes += b.Probes
		s.Failed += b.Failed
		if n := b.Probes - b.Failed; n > 0 {
			sum += b.MeanSeconds * float64(n)
			good += n
			s.MaxMS = max(s.MaxMS, b.MaxSeconds*1000)
		}
	}
	if good == 0 {
		for _, b := range buckets {
			if b.Failed > 0 {
				s.Fails = append(s.Fails, xOf(b.Start, from))
			}
		}
		return s
	}
	s.HaveMeasurement, s.MeanMS = true, sum/float64(good)*1000
	top := 0.0
	for _, b := range buckets {
		top = max(top, b.MeanSeconds)
	}
	// The line joins the buckets with good probes; it breaks where a bucket had only failed
	// probes, or where nothing was probed for more than an hour.
	var path strings.Builder
	prev := -sparkBuckets
	for _, b := range buckets {
		x := xOf(b.Start, from)
		i := int(b.Start.Sub(from) / sparkBucket)
		if b.Failed > 0 {
			s.Fails = append(s.Fails, x)
		}
		if b.Probes == b.Failed {
			prev = -sparkBuckets
			continue
		}
		y := float64(sparkHeight-2) - b.MeanSeconds/top*float64(sparkHeight-6)
		if i-prev > sparkJoin {
			// A new segment; l0 0 draws a lone point as a dot (round caps).
			fmt.Fprintf(&path, "M%d %.1f l0 0 ", x, y)
		} else {
			fmt.Fprintf(&path, "L%d %.1f ", x, y)
		}
		prev = i
	}
	s.Path = strings.TrimSpace(path.String())
	return s
}

func xOf(start, from time.Time) int {
	return int(start.Sub(from)/sparkBucket) * sparkWidth / sparkBuckets
}

func earliest(ts ...time.Time) time.Time {
	out := ts[0]
	for _, t := range ts[1:] {
		if t.Before(out) {
			out = t
		}
	}
	return out
}

func millis(seconds float64) string { return ms(seconds * 1000) }

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) + " ms" }

// certState says how soon a certificate expires.
func certState(expiry, now time.Time) (days int, class string) {
	if expiry.IsZero() {
		return 0, "unknown"
	}
	days = int(expiry.Sub(now).Hours() / 24)
	switch {
	case !expiry.After(now):
		return days, "down"
	case days < 14:
		return days, "risk"
	}
	return days, "up"
}

// dayHistory keeps each settled day's probe counts and mean response time, so that a page
// view reads the probes of the days not settled yet (today, and yesterday for a while)
// rather than 90 days of them. A day is settled once the longest probe that can have
// started in it has been recorded.
type dayHistory struct {
	mu   sync.Mutex
	days map[string]map[string]ledger.DayStats // date → target → stats
}

// stats returns the probe stats of the days in [from, to) by date and target.
func (h *dayHistory) stats(ctx context.Context, l *ledger.Ledger, from, to time.Time, settle time.Duration) (map[string]map[string]ledger.DayStats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.days == nil {
		h.days = map[string]map[string]ledger.DayStats{}
	}
	for date := range h.days {
		if date < clock.Date(from) {
			delete(h.days, date)
		}
	}
	// Settled days missing from the cache are read in one go.
	var missFrom, missTo time.Time
	for day := from; day.Before(to); day = clock.NextDay(day) {
		if !clock.NextDay(day).Add(settle).Before(to) {
			break
		}
		if _, ok := h.days[clock.Date(day)]; !ok {
			if missFrom.IsZero() {
				missFrom = day
			}
			missTo = clock.NextDay(day)
		}
	}
	if !missFrom.IsZero() {
		got, err := l.ProbeDays(ctx, missFrom, missTo)
		if err != nil {
			return nil, err
		}
		for day := missFrom; day.Before(missTo); day = clock.NextDay(day) {
			h.days[clock.Date(day)] = map[string]ledger.DayStats{}
		}
		for _, ds := range got {
			h.days[ds.Day][ds.Target] = ds
		}
	}
	out := make(map[string]map[string]ledger.DayStats, len(h.days)+2)
	unsettled := to
	for date, m := range h.days {
		out[date] = m
	}
	for day := from; day.Before(to); day = clock.NextDay(day) {
		if _, ok := out[clock.Date(day)]; !ok {
			unsettled = day
			break
		}
	}
	if unsettled.Before(to) {
		got, err := l.ProbeDays(ctx, unsettled, to)
		if err != nil {
			return nil, err
		}
		for _, ds := range got {
			if out[ds.Day] == nil {
				out[ds.Day] = map[string]ledger.DayStats{}
			}
			out[ds.Day][ds.Target] = ds
		}
	}
	return out, nil
}

// sparkHistory keeps the sparkline's settled quarter-hours (every target's bucket of each),
// so that a page view reads the probes of the quarter-hours not settled yet rather than the
// last 24 hours of them (with 1,000 targets, 96,000 rolled-up rows a view). A quarter-hour
// is settled as a day is (dayHistory).
type sparkHistory struct {
	mu      sync.Mutex
	buckets map[int64][]ledger.ResponseBucket // bucket start, Unix ms → the targets' buckets
}

// read returns the buckets of sparkBucket from from, aligned on them, up to to: the
// targets' buckets in order of start.
func (h *sparkHistory) read(ctx context.Context, l *ledger.Ledger, from, to time.Time, settle time.Duration) ([]ledger.ResponseBucket, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.buckets == nil {
		h.buckets = map[int64][]ledger.ResponseBucket{}
	}
	for at := range h.buckets {
		if at < from.UnixMilli() {
			delete(h.buckets, at)
		}
	}
	// Settled buckets missing from the cache are read in one go.
	var missFrom, missTo time.Time
	missing := map[int64]bool{}
	at := from
	for ; !at.Add(sparkBucket + settle).After(to); at = at.Add(sparkBucket) {
		if _, ok := h.buckets[at.UnixMilli()]; !ok {
			if missFrom.IsZero() {
				missFrom = at
			}
			missTo = at.Add(sparkBucket)
			missing[at.UnixMilli()] = true
		}
	}
	unsettled := at
	if !missFrom.IsZero() {
		got, err := l.ResponseTimes(ctx, missFrom, missTo, sparkBucket)
		if err != nil {
			return nil, err
		}
		for k := range missing {
			h.buckets[k] = []ledger.ResponseBucket{}
		}
		for _, rb := range got {
			if k := rb.Start.UnixMilli(); missing[k] {
				h.buckets[k] = append(h.buckets[k], rb)
			}
		}
	}
	var out []ledger.ResponseBucket
	for b := from; b.Before(unsettled); b = b.Add(sparkBucket) {
		out = append(out, h.buckets[b.UnixMilli()]...)
	}
	if unsettled.Before(to) {
		got, err := l.ResponseTimes(ctx, unsettled, to, sparkBucket)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// settleTime is how long after a day ends its probes are all recorded: the longest timeout
// of the targets, and a minute.
func settleTime(cfg *config.Config) time.Duration {
	d := time.Minute
	for _, t := range cfg.Portal.Targets {
		d = max(d, t.Timeout.D()+time.Minute)
	}
	return d
}

// targetViews builds the targets' rows: the state from the probe snapshot, the uptime and
// daily bar from the watched time and incidents, the sparkline from the last day's probes.
func (g *gatherer) targetViews(ctx context.Context) ([]targetView, error) {
	now := g.now
	barFrom := clock.Day(now).AddDate(0, 0, 1-HistoryDays)
	from := earliest(barFrom, g.periodStart, now.Add(-30*24*time.Hour))
	w, err := availability.LoadLive(ctx, g.ledger, from, now)
	if err != nil {
		return nil, err
	}
	times := w.TimesOf(g.incidents, now)
	stats, err := g.history.stats(ctx, g.ledger, barFrom, now, settleTime(g.cfg))
	if err != nil {
		return nil, err
	}
	byTarget := map[string]map[string]ledger.DayStats{}
	for date, m := range stats {
		for target, ds := range m {
			if byTarget[target] == nil {
				byTarget[target] = map[string]ledger.DayStats{}
			}
			byTarget[target][date] = ds
		}
	}
	sf, st := sparkWindow(now)
	buckets, err := g.sparks.read(ctx, g.ledger, sf, st, settleTime(g.cfg))
	if err != nil {
		return nil, err
	}
	sparks := map[string][]ledger.ResponseBucket{}
	for _, b := range buckets {
		sparks[b.Target] = append(sparks[b.Target], b)
	}
	open := map[string]ledger.Incident{}
	for _, i := range g.incidents {
		if i.Open() {
			open[i.Target] = i
		}
	}
	var out []targetView
	for _, t := range g.cfg.Portal.Targets {
		p, _ := g.store.Portal(t.Name)
		v := targetView{Name: t.Name, URL: t.URL, State: stateOf(p)}
		if p != nil {
			v.Incidents, v.Risks = p.IncidentsTotal, p.RiskTotal
			if p.Probed {
				v.LastProbe, v.Outcome, v.StatusCode, v.LastError = p.LastProbe, p.Outcome, p.StatusCode, p.LastError
				for _, s := range p.PhaseSeconds {
					v.Seconds += s
				}
				v.CertExpiry = p.CertExpiry
			}
			if p.IncidentOpen {
				v.OpenSince = p.OpenSince
				if i, ok := open[t.Name]; ok {
					v.OpenIncident = i.ID
				}
			}
		}
		v.CertDays, v.CertClass = certState(v.CertExpiry, now)
		tt := times[t.Name]
		v.Uptime24h = tt.Uptime(now.Add(-24*time.Hour), now)
		v.Uptime30d = tt.Uptime(now.Add(-30*24*time.Hour), now)
		v.UptimePeriod = tt.Uptime(g.periodStart, now)
		v.Days = dayBar(tt, byTarget[t.Name], now)
		v.Spark = sparklineOf(sparks[t.Name], sf, st)
		v.Content, v.ContentClass = contentState(g.store, t.Name)
		out = append(out, v)
	}
	return out, nil
}

package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
func dayBar(tt availability.Time, stats units[string, ledger.DayStats], now time.Time) []dayCell {
	first := clock.Day(now).AddDate(0, 0, 1-HistoryDays)
	cells := make([]dayCell, 0, HistoryDays)
	for i, day := 0, first; i < HistoryDays; i, day = i+1, clock.NextDay(day) {
		end := clock.NextDay(day)
		if end.After(now) {
			end = now
		}
		w, up, down, _ := tt.Split(day, end)
		date := clock.Date(day)
		st, _ := stats.get(date)
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

// settledCache keeps, per target, what the ledger says of the units of time (days of the
// daily bar, quarter-hours of the sparkline) that are settled: a unit is settled once the
// longest probe that can have started in it has been recorded. A view reads the units not
// settled yet (today, the last quarter-hour) afresh, and a target's settled units once: the
// first time the target is shown, in one query with the other targets shown, then each unit
// as it settles. Only the targets shown are read: a page of 25 targets of 1,000 reads 25
// targets' days, not 90,000 rows.
type settledCache[K cmp.Ordered, V any] struct {
	mu   sync.Mutex
	rows map[string]*settledRow[K, V]
}

type settledRow[K cmp.Ordered, V any] struct {
	to    time.Time // the settled units before it are in units
	units map[K]V   // never changed once made: a view may be reading it
}

// unitFetch reads the units in [from, to) of the targets named, by target and key.
type unitFetch[K cmp.Ordered, V any] func(ctx context.Context, from, to time.Time, names []string) (map[string]map[K]V, error)

// units are one target's units in a view: the settled ones kept, the others read afresh. A
// unit without probes is in neither.
type units[K cmp.Ordered, V any] struct{ settled, fresh map[K]V }

func (u units[K, V]) get(k K) (V, bool) {
	if v, ok := u.fresh[k]; ok {
		return v, true
	}
	v, ok := u.settled[k]
	return v, ok
}

// read returns the units in [from, to) of the targets named: those before settled from the
// cache, read from the ledger where missing; those after it read afresh. first is the key
// of the unit from is the start of: units before it are dropped.
func (c *settledCache[K, V]) read(ctx context.Context, from, settled, to time.Time, first K, names []string, fetch unitFetch[K, V]) (map[string]units[K, V], error) {
	out := make(map[string]units[K, V], len(names))
	if err := c.settled(ctx, from, settled, first, names, fetch, out); err != nil {
		return nil, err
	}
	if settled.Before(to) {
		got, err := fetch(ctx, settled, to, names)
		if err != nil {
			return nil, err
		}
		for name, m := range got {
			u := out[name]
			u.fresh = m
			out[name] = u
		}
	}
	return out, nil
}

func (c *settledCache[K, V]) settled(ctx context.Context, from, settled time.Time, first K, names []string, fetch unitFetch[K, V], out map[string]units[K, V]) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = map[string]*settledRow[K, V]{}
	}
	// The targets that lack the same units are read in one query: on a first view, every
	// target shown; later, those whose units settled since.
	need := map[int64][]string{} // the first unit lacking, Unix ms → targets
	for _, name := range names {
		row := c.rows[name]
		switch {
		case row == nil || row.to.Before(from):
			need[from.UnixMilli()] = append(need[from.UnixMilli()], name)
		case row.to.Before(settled):
			need[row.to.UnixMilli()] = append(need[row.to.UnixMilli()], name)
		}
	}
	for start, group := range need {
		var got map[string]map[K]V
		if a := time.UnixMilli(start).In(from.Location()); a.Before(settled) {
			var err error
			if got, err = fetch(ctx, a, settled, group); err != nil {
				return err
			}
		}
		for _, name := range group {
			m := make(map[K]V, len(got[name])+HistoryDays)
			if row := c.rows[name]; row != nil && !row.to.Before(from) {
				for k, v := range row.units {
					if k >= first {
						m[k] = v
					}
				}
			}
			for k, v := range got[name] {
				m[k] = v
			}
			c.rows[name] = &settledRow[K, V]{to: settled, units: m}
		}
	}
	for _, name := range names {
		if row := c.rows[name]; row != nil {
			out[name] = units[K, V]{settled: row.units}
		}
	}
	return nil
}

// dayHistory keeps each target's settled days of the daily bar (probe counts and mean
// response time), by date.
type dayHistory = settledCache[string, ledger.DayStats]

// sparkHistory keeps each target's settled quarter-hours of the sparkline, by start (Unix ms).
type sparkHistory = settledCache[int64, ledger.ResponseBucket]

// dayStats reads the daily bar's days of the targets named.
func (g *gatherer) dayStats(ctx context.Context, names []string) (map[string]units[string, ledger.DayStats], error) {
	now := g.now
	from := clock.Day(now).AddDate(0, 0, 1-HistoryDays)
	// A day is settled once the longest probe that can have started in it is recorded.
	settle, settled := settleTime(g.cfg), from
	for settled.Before(now) && clock.NextDay(settled).Add(settle).Before(now) {
		settled = clock.NextDay(settled)
	}
	return g.history.read(ctx, from, settled, now, clock.Date(from), names, func(ctx context.Context, a, z time.Time, names []string) (map[string]map[string]ledger.DayStats, error) {
		got, err := g.ledger.ProbeDays(ctx, a, z, names...)
		if err != nil {
			return nil, err
		}
		out := map[string]map[string]ledger.DayStats{}
		for _, ds := range got {
			if out[ds.Target] == nil {
				out[ds.Target] = map[string]ledger.DayStats{}
			}
			out[ds.Target][ds.Day] = ds
		}
		return out, nil
	})
}

// sparkBuckets reads the sparkline's quarter-hours of the targets named.
func (g *gatherer) sparkBuckets(ctx context.Context, names []string) (map[string]units[int64, ledger.ResponseBucket], error) {
	from, to := sparkWindow(g.now)
	settle, settled := settleTime(g.cfg), from
	for !settled.Add(sparkBucket + settle).After(to) {
		settled = settled.Add(sparkBucket)
	}
	return g.sparks.read(ctx, from, settled, to, from.UnixMilli(), names, func(ctx context.Context, a, z time.Time, names []string) (map[string]map[int64]ledger.ResponseBucket, error) {
		got, err := g.ledger.ResponseTimes(ctx, a, z, sparkBucket, names...)
		if err != nil {
			return nil, err
		}
		out := map[string]map[int64]ledger.ResponseBucket{}
		for _, b := range got {
			if out[b.Target] == nil {
				out[b.Target] = map[int64]ledger.ResponseBucket{}
			}
			out[b.Target][b.Start.UnixMilli()] = b
		}
		return out, nil
	})
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

// targetViews builds the rows of the configured targets named (every one when none is), in
// config order, but for their heavy parts (detail adds them): the state from the probe
// snapshot, the uptime from the watched time and incidents, the certificate and the page
// content. It needs g.incidents.
func (g *gatherer) targetViews(ctx context.Context, names ...string) ([]targetView, error) {
	now := g.now
	barFrom := clock.Day(now).AddDate(0, 0, 1-HistoryDays)
	from := earliest(barFrom, g.periodStart, now.Add(-30*24*time.Hour))
	w, err := availability.LoadLive(ctx, g.ledger, from, now)
	if err != nil {
		return nil, err
	}
	g.times = w.TimesOf(g.incidents, now)
	open := map[string]ledger.Incident{}
	for _, i := range g.incidents {
		if i.Open() {
			open[i.Target] = i
		}
	}
	out := make([]targetView, 0, len(g.cfg.Portal.Targets))
	for _, t := range g.cfg.Portal.Targets {
		if len(names) > 0 && !slices.Contains(names, t.Name) {
			continue
		}
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
		tt := g.times[t.Name]
		v.Uptime24h = tt.Uptime(now.Add(-24*time.Hour), now)
		v.Uptime30d = tt.Uptime(now.Add(-30*24*time.Hour), now)
		v.UptimePeriod = tt.Uptime(g.periodStart, now)
		v.Content, v.ContentClass = contentState(g.store, t.Name)
		out = append(out, v)
	}
	return out, nil
}

// detail adds the heavy parts to the views given, read for these targets alone: the
// sparkline, and the daily bar when days is set.
func (g *gatherer) detail(ctx context.Context, views []targetView, days bool) error {
	if len(views) == 0 {
		return nil
	}
	names := make([]string, len(views))
	for i, v := range views {
		names[i] = v.Name
	}
	var stats map[string]units[string, ledger.DayStats]
	if days {
		var err error
		if stats, err = g.dayStats(ctx, names); err != nil {
			return err
		}
	}
	sparks, err := g.sparkBuckets(ctx, names)
	if err != nil {
		return err
	}
	sf, st := sparkWindow(g.now)
	for i := range views {
		v := &views[i]
		if days {
			v.Days = dayBar(g.times[v.Name], stats[v.Name], g.now)
		}
		var buckets []ledger.ResponseBucket
		for at := sf; at.Before(st); at = at.Add(sparkBucket) {
			if b, ok := sparks[v.Name].get(at.UnixMilli()); ok {
				buckets = append(buckets, b)
			}
		}
		v.Spark = sparklineOf(buckets, sf, st)
	}
	return nil
}

package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

var at = reporttest.At

func newLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func twoTargets(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`
portal:
  targets:
    - {name: healthy, url: "https://credit.example.gov.cn/", interval: 10m}
    - {name: failing, url: "https://credit.example.gov.cn/list", interval: 10m}
`), now)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// probe records probes of a target every interval over [from, to), failing where fail says.
func probe(t *testing.T, l *ledger.Ledger, target string, from, to time.Time, every time.Duration, fail func(time.Time) bool) {
	t.Helper()
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	for p := from; p.Before(to); p = p.Add(every) {
		rec := ledger.Probe{Target: target, Vantage: "puyang", StartedAt: p, Duration: 200 * time.Millisecond, Outcome: "ok",
			StatusCode: 200, Interval: every}
		if fail(p) {
			rec.Failed, rec.Outcome, rec.StatusCode, rec.Error = true, "http_status", 503, "HTTP 503, expected [200]"
		}
		if _, _, err := l.RecordProbe(context.Background(), rec, pol, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
			t.Fatal(err)
		}
	}
}

func never(time.Time) bool  { return false }
func always(time.Time) bool { return true }

func generate(t *testing.T, l *ledger.Ledger, cfg *config.Config, month string, when time.Time) *Report {
	t.Helper()
	r, err := Generate(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: month, Now: when, Renderer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A month creditwatch never ran in has no uptime, not 0 %, draws no bars, and is not frozen;
// a month before the ledger's first run has no report at all.
func TestMonthNeverWatched(t *testing.T) {
	l := newLedger(t)
	cfg := twoTargets(t)
	ctx := context.Background()
	sep, _ := l.StartRun(ctx, at("2026-09-01 00:00"), "test", "puyang")
	probe(t, l, "healthy", at("2026-09-01 00:00"), at("2026-09-02 00:00"), 10*time.Minute, never)
	l.StopRun(ctx, sep, at("2026-09-02 00:00"))
	l.StartRun(ctx, at("2026-11-01 00:00"), "test", "puyang")
	r := generate(t, l, cfg, "2026-10", now)
	if r.Meta.Frozen() {
		t.Error("a month never watched was frozen")
	}
	for _, tg := range r.Data.Targets {
		if tg.UptimeRatio != nil || tg.WatchedSeconds != 0 || tg.UnknownSeconds != 31*86400 {
			t.Errorf("%s: uptime %v, watched %v, unknown %v; want no data, 0, the whole month", tg.Name, tg.UptimeRatio, tg.WatchedSeconds, tg.UnknownSeconds)
		}
	}
	var html bytes.Buffer
	r.WriteHTML(&html)
	page := html.String()
	if !strings.Contains(page, "无数据") || strings.Contains(page, ">0.00 %<") || !strings.Contains(page, "本月监测程序从未运行") {
		t.Error("the page does not say there is no data, or shows 0.00 %")
	}
	golden(t, "testdata/never-watched.json", dataJSON(t, r))
	if _, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-08", Now: now}); !errors.Is(err, ErrNoData) {
		t.Errorf("a month before the ledger's first run: %v, want ErrNoData", err)
	}
}

func dataJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, r.Raw, "", " "); err != nil {
		t.Fatal(err)
	}
	return append(out.Bytes(), '\n')
}

// A month half watched and stopped cleanly: the watched time ends exactly at the stop, to
// the second; a target that never answered is 0 % up, not a few percent.
func TestHalfWatchedCleanStop(t *testing.T) {
	l := newLedger(t)
	cfg := twoTargets(t)
	ctx := context.Background()
	run, _ := l.StartRun(ctx, at("2026-10-01 00:00"), "test", "puyang")
	stop := at("2026-10-16 00:00").Add(8 * time.Second)
	probe(t, l, "healthy", at("2026-10-01 00:00"), stop, 10*time.Minute, never)
	probe(t, l, "failing", at("2026-10-01 00:00"), stop, 10*time.Minute, always)
	if err := l.StopRun(ctx, run, stop); err != nil {
		t.Fatal(err)
	}
	r := generate(t, l, cfg, "2026-10", now)
	want := (15*24*time.Hour + 8*time.Second).Seconds()
	for _, tg := range r.Data.Targets {
		if tg.WatchedSeconds != want || tg.UnknownSeconds != 31*86400-want {
			t.Errorf("%s watched %v s, unknown %v s; want %v and %v", tg.Name, tg.WatchedSeconds, tg.UnknownSeconds, want, 31*86400-want)
		}
		wantUp := map[string]float64{"healthy": 1, "failing": 0}[tg.Name]
		if tg.UptimeRatio == nil || *tg.UptimeRatio != wantUp {
			t.Errorf("%s uptime %v, want %v", tg.Name, tg.UptimeRatio, wantUp)
		}
	}
	if d := r.Data.Targets[1].Days[15]; d.Date != "2026-10-16" || d.WatchedSeconds != 8 {
		t.Errorf("16 October: %+v, want 8 s watched", d)
	}
	if d := r.Data.Targets[1].Days[20]; d.UptimeRatio != nil {
		t.Errorf("21 October, not watched: uptime %v, want none", *d.UptimeRatio)
	}
	golden(t, "testdata/half-watched.json", dataJSON(t, r))
}

// An incident annotated as creditwatch's own mistake is listed, struck through, with who,
// when and why, and costs nothing: its time is unknown, not down.
func TestMonitorErrorIsVoid(t *testing.T) {
	l, cfg := octoberLedger(t)
	ctx := context.Background()
	incs, _ := l.Incidents(ctx, time.Time{}, time.Time{}, false)
	if _, err := l.Annotate(ctx, ledger.Annotation{IncidentID: incs[0].ID, Cause: ledger.CauseMonitorError,
		Note: "body_contains 配置笔误", By: "王工", At: at("2026-10-08 11:00")}); err != nil {
		t.Fatal(err)
	}
	r := generate(t, l, cfg, "2026-10", now)
	inc := r.Data.Incidents[0]
	if !inc.Voided || len(inc.Annotations) != 1 || inc.Annotations[0].By != "王工" || len(r.Data.Outages) != 0 {
		t.Errorf("incident = %+v, outages %d", inc, len(r.Data.Outages))
	}
	tg := r.Data.Targets[0]
	if tg.DownSeconds != 0 || tg.UnknownSeconds != (2*time.Hour+40*time.Minute).Seconds() {
		t.Errorf("target down %v, unknown %v; want 0 and the 2-hour gap plus the 40 voided minutes", tg.DownSeconds, tg.UnknownSeconds)
	}
	for _, ind := range r.Data.Indicators {
		if ind.ID == "portal_accessibility" && *ind.Month != 2 {
			t.Errorf("portal_accessibility = %v, want 2", *ind.Month)
		}
	}
	var html bytes.Buffer
	r.WriteHTML(&html)
	for _, want := range []string{`<tr class="voided">`, "监测程序自身错误（不计分）", "body_contains 配置笔误（王工，2026-10-08 11:00:00）"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	golden(t, "testdata/monitor-error.json", dataJSON(t, r))
}

// A month's report computed at its end and again a month later, after later probes,
// recoveries and reports, has the same data byte for byte.
func TestMonthComputedLaterIsTheSame(t *testing.T) {
	l := newLedger(t)
	cfg := twoTargets(t)
	ctx := context.Background()
	l.StartRun(ctx, at("2026-10-31 20:00"), "test", "puyang")
	// An outage that began on the 31st and is still going on at midnight.
	failing := func(p time.Time) bool { return !p.Before(at("2026-10-31 23:00")) && p.Before(at("2026-11-01 00:20")) }
	probe(t, l, "healthy", at("2026-10-31 20:00"), at("2026-11-01 00:00"), 10*time.Minute, failing)
	rec := ledger.PublicityRecord{Kind: publicity.Penalty, ID: "濮罚〔2026〕9号", Source: "test", UpdatedAt: at("2026-10-31 10:00"),
		Fields: map[string]string{}, Assessment: publicity.Assessment{Department: "局", DecidedOn: at("2026-10-28 00:00")}}
	l.StorePublicity(ctx, []ledger.PublicityRecord{rec}, nil)
	atEnd, err := Build(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: at("2026-11-01 00:00").Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	// November: the outage ends, the record is reported (late), more probes.
	probe(t, l, "healthy", at("2026-11-01 00:00"), at("2026-11-02 00:00"), 10*time.Minute, failing)
	rec.UpdatedAt, rec.Assessment.Reported, rec.Assessment.ReportedOn = at("2026-11-20 10:00"), true, at("2026-11-20 00:00")
	l.StorePublicity(ctx, []ledger.PublicityRecord{rec}, nil)
	later, err := Build(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: at("2026-12-01 09:00")})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(atEnd)
	b, _ := json.Marshal(later)
	if !bytes.Equal(a, b) {
		t.Errorf("October as of its end changed a month later:\n%s\n%s", firstDiff(a, b), "")
	}
	if len(atEnd.Incidents) != 1 || atEnd.Incidents[0].End != "" || atEnd.Incidents[0].FailedProbes != 6 {
		t.Errorf("incident at the month's end = %+v, want open with 6 failed probes", atEnd.Incidents)
	}
	// Read back frozen, the whole report is the same bytes.
	first := generate(t, l, cfg, "2026-10", at("2026-11-01 09:00"))
	again := generate(t, l, cfg, "2026-10", at("2026-12-01 09:00"))
	var h1, h2 bytes.Buffer
	first.WriteHTML(&h1)
	again.WriteHTML(&h2)
	if !bytes.Equal(h1.Bytes(), h2.Bytes()) {
		t.Error("the frozen report rendered a month later differs")
	}
}

func firstDiff(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			lo := max(0, i-80)
			return string(a[lo:min(len(a), i+80)]) + "\n" + string(b[lo:min(len(b), i+80)])
		}
	}
	return "lengths differ"
}

package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestTargetState(t *testing.T) {
	for _, c := range []struct {
		name      string
		p         *metrics.Portal
		code, cls string
	}{
		{"never probed", nil, StateUnknown, "unknown"},
		{"configured, not probed yet", &metrics.Portal{}, StateUnknown, "unknown"},
		{"an incident open at start, not probed since", &metrics.Portal{IncidentOpen: true}, StateDown, "down"},
		{"up", &metrics.Portal{Probed: true, Success: true, Outcome: "ok"}, StateUp, "up"},
		// The case the issue found: 不可访问（事件进行中） beside 最近结果 正常 200.
		{"good probe, incident open", &metrics.Portal{Probed: true, Success: true, Outcome: "ok", IncidentOpen: true}, StateRecovering, "risk"},
		{"failing, no incident yet", &metrics.Portal{Probed: true, Outcome: "timeout"}, StateDown, "risk"},
		{"failing, incident open", &metrics.Portal{Probed: true, Outcome: "timeout", IncidentOpen: true}, StateDown, "down"},
		{"challenged, counted as failure", &metrics.Portal{Probed: true, Outcome: "challenged"}, StateChallenged, "risk"},
		{"challenged, not counted", &metrics.Portal{Probed: true, Success: true, Outcome: "challenged"}, StateChallenged, "risk"},
		{"challenged, incident open", &metrics.Portal{Probed: true, Outcome: "challenged", IncidentOpen: true}, StateChallenged, "down"},
	} {
		got := stateOf(c.p)
		words := map[string]string{StateUp: "正常", StateRecovering: "事件进行中·恢复确认中", StateDown: "不可访问",
			StateChallenged: "WAF 拦截", StateUnknown: "未监测"}
		if got.Code != c.code || got.Class != c.cls || got.Word != words[c.code] {
			t.Errorf("%s: %+v, want %s (%s, %s)", c.name, got, c.code, words[c.code], c.cls)
		}
	}
}

func gatherFixture(t *testing.T, f *fixture) *statusData {
	t.Helper()
	p := &statusPage{svc: f, log: nilLogger()}
	d, err := p.gatherer().gather(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func targetOf(t *testing.T, d *statusData, name string) targetView {
	t.Helper()
	for _, v := range d.Targets {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no target %s", name)
	return targetView{}
}

// The fixture's figures, worked out by hand.
func TestStatusFigures(t *testing.T) {
	f := newFixture(t)
	d := gatherFixture(t, f)
	cp := targetOf(t, d, "credit-portal")
	// Watched: the last 10 days (240 h) and 60 to 50 days ago (240 h). Down: 2 h three days
	// ago and 3 h today.
	for name, c := range map[string]struct {
		got  *float64
		want float64
	}{
		"24h": {cp.Uptime24h, 21.0 / 24}, "30d": {cp.Uptime30d, 235.0 / 240}, "period": {cp.UptimePeriod, 475.0 / 480},
	} {
		if c.got == nil || abs(*c.got-c.want) > 1e-9 {
			t.Errorf("credit-portal uptime %s = %v, want %v", name, deref(c.got), c.want)
		}
	}
	if cp.State.Code != StateRecovering || cp.OpenIncident != 2 || cp.CertClass != "risk" || cp.CertDays != 10 || cp.Outcome != "ok" {
		t.Errorf("credit-portal: %+v", cp)
	}
	if n := targetOf(t, d, "news"); n.State.Code != StateUnknown || n.Uptime24h != nil || n.Uptime30d != nil || n.UptimePeriod != nil {
		t.Errorf("news, never watched: %+v", n)
	}
	// The daily bar: 90 days to today; grey where nothing was watched.
	if len(cp.Days) != HistoryDays || cp.Days[HistoryDays-1].Date != "2026-11-27" || cp.Days[0].Date != "2026-08-30" {
		t.Fatalf("days from %s to %s (%d)", cp.Days[0].Date, cp.Days[len(cp.Days)-1].Date, len(cp.Days))
	}
	classes := map[string]string{}
	for _, day := range cp.Days {
		classes[day.Date] = day.Class
	}
	for date, want := range map[string]string{
		"2026-08-30": "nodata", "2026-09-27": "nodata", "2026-09-28": "up", "2026-10-08": "up", "2026-10-09": "nodata",
		"2026-11-16": "nodata", "2026-11-17": "up", "2026-11-24": "partial", "2026-11-26": "up", "2026-11-27": "down",
	} {
		if classes[date] != want {
			t.Errorf("%s is %s, want %s", date, classes[date], want)
		}
	}
	today := cp.Days[HistoryDays-1]
	if today.Probes != 18 || today.Failed != 5 || today.Watched != 9*time.Hour || today.Down != 3*time.Hour {
		t.Errorf("today: %+v", today)
	}
	if !strings.Contains(today.Title(), "2026-11-27：可用率 66.67 %，已监测 9小时，不可访问 3小时；探测 18 次（失败 5 次）") {
		t.Errorf("today's tooltip: %s", today.Title())
	}
	// The sparkline breaks where every probe failed and marks those buckets.
	if !cp.Spark.HaveMeasurement || len(cp.Spark.Fails) != 5 || strings.Count(cp.Spark.Path, "M") != 2 || cp.Spark.Probes != 47 {
		t.Errorf("sparkline: %+v", cp.Spark)
	}
	if w := targetOf(t, d, "waf-page"); w.State.Code != StateChallenged || w.Spark.HaveMeasurement || w.Spark.Path != "" {
		t.Errorf("waf-page: %+v", w)
	}
	// Imports: the export directory with its rejected file.
	if len(d.Imports.Sources) != 1 || d.Imports.Sources[0].Done != 1 || d.Imports.Sources[0].Failed != 1 ||
		d.Imports.RejectedTotal != 1 || d.Imports.Rejected[0].Name != hostileFile {
		t.Errorf("imports: %+v", d.Imports)
	}
	if d.City != "安阳市" || !strings.HasPrefix(d.LedgerTitle, "安阳市") {
		t.Errorf("city %q, ledger title %q", d.City, d.LedgerTitle)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// What to do next names the records, cases and targets, with their deadlines.
func TestNextSteps(t *testing.T) {
	d := gatherFixture(t, newFixture(t))
	steps := map[string]nextStep{}
	for _, s := range d.NextSteps {
		steps[s.ID] = s
	}
	has := func(id, text string, items ...string) {
		t.Helper()
		for _, a := range steps[id].Actions {
			if strings.Contains(a.Text, text) {
				for _, it := range items {
					if !strings.Contains(strings.Join(a.Items, "\n"), it) {
						t.Errorf("%s: %q lacks the item %q: %v", id, a.Text, it, a.Items)
					}
				}
				return
			}
		}
		t.Errorf("%s has no action %q: %+v", id, text, steps[id])
	}
	has("publicity_rates", "立即补报逾期未报的 1 条记录", "安罚〔2026〕1号（"+hostileDept+"，期限 2026-11-11）")
	has("publicity_rates", "在期限前上报 1 条即将到期的记录", "安罚〔2026〕2号（"+hostileDept+"，期限 2026-11-27）")
	has("publicity_rates", "更正并重新上报 2 条不合规记录", "安罚〔2026〕4号（"+hostileDept+"：统一社会信用代码无效）")
	has("objection_handling_time", "1 件异议临近 5 个工作日的办理期限", "异议 YY-<b>7</b>（已受理 4 个工作日，须于 2026-11-30 前办结）")
	has("repair_timeliness", "1 件信用修复临近 3 个工作日的办理期限", "信用修复 XF-2（已受理 2 个工作日，须于 2026-11-30 前办结）")
	has("portal_accessibility", "确认 credit-portal")
	has("portal_accessibility", "waf-page 被网站防火墙拦截")
	has("portal_accessibility", "本周期已有 2 起计分的不可访问情形")
	has("", "1 个导出文件被拒收", "penalties / "+hostileFile)
	if s := steps["uscc_error_rate"]; len(s.Actions) != 1 || !strings.HasSuffix(s.Actions[0].Text, "（同上）") || len(s.Actions[0].Items) != 0 {
		t.Errorf("the code error rate's points repeat the gate's list: %+v", s)
	}
	if _, ok := steps["repair_compliance"]; ok {
		t.Error("repair_compliance, at its maximum with nothing coming due, has next steps")
	}
	if s := steps["publicity_rates"]; !s.Losing || s.Verdict != "未达标" {
		t.Errorf("publicity_rates: %+v", s)
	}
}

func TestDeadlineAfter(t *testing.T) {
	fri := time.Date(2026, 11, 27, 0, 0, 0, 0, clock.Shanghai)
	sat := fri.AddDate(0, 0, 1)
	cal := (&nextStepInputs{}).cal()
	for _, c := range []struct {
		today    time.Time
		limit, n int
		want     string
	}{
		{fri, 5, 4, "2026-11-30"}, {fri, 5, 0, "2026-12-04"}, {fri, 5, 5, "2026-11-27"}, {fri, 5, 6, ""},
		{sat, 5, 5, ""}, {sat, 3, 2, "2026-11-30"},
	} {
		got := ""
		if d := deadlineAfter(cal, c.today, c.limit, c.n); !d.IsZero() {
			got = clock.Date(d)
		}
		if got != c.want {
			t.Errorf("deadlineAfter(%s, %d, %d) = %q, want %q", clock.Date(c.today), c.limit, c.n, got, c.want)
		}
	}
}

type response struct {
	code        int
	contentType string
	body        string
}

func do(h http.Handler, path string) response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return response{rec.Code, rec.Header().Get("Content-Type"), string(b)}
}

func TestStatusHandlers(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	for _, c := range []struct {
		path, contentType string
		code              int
		contains          []string
	}{
		{"/", "text/html", 200, []string{"安阳市社会信用平台监测", "《安阳市创建第三批社会信用体系建设示范城市工作台账》", `id="next-steps"`}},
		{"/publicity/issues.csv", "text/csv", 200, []string{"\ufeff问题,类别,决定书文号", "逾期未报,行政处罚,安罚〔2026〕1号"}},
		{"/publicity/issues.csv?issue=late", "text/csv", 200, []string{"迟报,行政处罚,安罚〔2026〕3号"}},
		{"/publicity/issues.csv?issue=bogus", "text/plain", 400, []string{"overdue"}},
		{"/api/v1/status", "application/json", 200, []string{`"state": "recovering"`}},
		{"/api/v1/score", "application/json", 200, []string{`"indicator_id": "publicity_rates"`}},
		{"/api/v1/incidents", "application/json", 200, []string{`"id": 2`, `"id": 1`}},
		{"/api/v1/incidents?open=true", "application/json", 200, []string{`"id": 2`}},
		{"/api/v1/incidents?from=2026-11-25&to=2026-11-26", "application/json", 200, []string{`"incidents": []`}},
		{"/api/v1/incidents?from=2026-13-01", "application/json", 400, []string{"from 应为"}},
		{"/api/v1/incidents?from=2026-11-27&to=2026-11-01", "application/json", 400, []string{"from 应早于 to"}},
		{"/api/v1/incidents?open=maybe", "application/json", 400, []string{"open 应为"}},
		{"/badge/score", "image/svg+xml", 200, []string{"可监测指标 17 分：已扣 2 分，2 项门槛未达标"}},
		{"/badge/credit-portal/uptime", "image/svg+xml", 200, []string{"97.92 %"}},
		{"/badge/credit-portal/uptime?window=24h", "image/svg+xml", 200, []string{"87.50 %"}},
		{"/badge/credit-portal/uptime?window=period", "image/svg+xml", 200, []string{"98.96 %"}},
		{"/badge/news/uptime", "image/svg+xml", 200, []string{"无数据"}},
		{"/badge/credit-portal/uptime?window=1y", "text/plain", 400, []string{"window"}},
		{"/badge/nope/uptime", "text/plain", 404, []string{"没有该监测目标"}},
		{"/badge/%3Cscript%3E/uptime", "text/plain", 404, nil},
	} {
		r := do(h, c.path)
		if r.code != c.code || !strings.HasPrefix(r.contentType, c.contentType) {
			t.Errorf("GET %s: %d %s, want %d %s\n%.300s", c.path, r.code, r.contentType, c.code, c.contentType, r.body)
			continue
		}
		for _, want := range c.contains {
			if !strings.Contains(r.body, want) {
				t.Errorf("GET %s lacks %q:\n%.2000s", c.path, want, r.body)
			}
		}
		if strings.Contains(r.body, "濮阳") {
			t.Errorf("GET %s names 濮阳 though the city is 安阳市", c.path)
		}
	}
	// The incidents' newest first; the open one only when asked.
	var list apiIncidentList
	json.Unmarshal([]byte(do(h, "/api/v1/incidents?open=true").body), &list)
	if len(list.Incidents) != 1 || !list.Incidents[0].Open || list.Incidents[0].End != nil {
		t.Errorf("open incidents: %+v", list.Incidents)
	}
}

// Before the first score card the page and the API say so; they never show a blank card.
func TestStatusBeforeTheFirstCard(t *testing.T) {
	f := newFixture(t)
	f.store = metrics.NewStore()
	h := f.handler()
	for _, path := range []string{"/", "/api/v1/status", "/api/v1/score"} {
		if r := do(h, path); r.code != http.StatusServiceUnavailable {
			t.Errorf("GET %s before the first card: %d", path, r.code)
		}
	}
	if r := do(h, "/badge/score"); r.code != 200 || !strings.Contains(r.body, "评分中") {
		t.Errorf("the score badge before the first card: %d %s", r.code, r.body)
	}
}

// Every outside text on the page is escaped: target URLs, department names, case numbers,
// file names and errors.
func TestStatusPageEscapesFixture(t *testing.T) {
	f := newFixture(t)
	body := do(f.handler(), "/").body
	for _, raw := range []string{hostileDept, hostileFile, "<script>x</script>", "YY-<b>7</b>", "is not a date <b>"} {
		if strings.Contains(body, raw) {
			t.Errorf("the page contains %q unescaped", raw)
		}
	}
	for _, escaped := range []string{"&lt;img src=x onerror=alert(1)&gt;市商务局", "&lt;script&gt;alert(&#34;文件&#34;)&lt;/script&gt;.csv",
		"YY-&lt;b&gt;7&lt;/b&gt;"} {
		if !strings.Contains(body, escaped) {
			t.Errorf("the page lacks %q", escaped)
		}
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var count func(*html.Node) int
	count = func(n *html.Node) int {
		c := 0
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "img") {
			c++
		}
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			c += count(k)
		}
		return c
	}
	if n := count(doc); n != 0 {
		t.Errorf("%d script or img elements on the page", n)
	}
}

// The CSV has every record behind the counts, as the office opens it: a BOM, a header, and
// no cell a spreadsheet would run as a formula.
func TestIssuesCSV(t *testing.T) {
	f := newFixture(t)
	r := do(f.handler(), "/publicity/issues.csv")
	if !strings.HasPrefix(r.body, "\ufeff") {
		t.Fatal("no BOM")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || rows[0][0] != "问题" {
		t.Fatalf("%d rows: %v", len(rows), rows)
	}
	issues := map[string]int{}
	for _, row := range rows[1:] {
		issues[row[0]]++
		if row[2] == formulaID {
			t.Errorf("the formula-like number is left as a formula: %v", row)
		}
		if row[0] == "不合规" && row[2] == "'"+formulaID && row[7] != "统一社会信用代码无效" {
			t.Errorf("faulty record's rules: %v", row)
		}
		if row[8] != "2026-11-27" || row[3] != hostileDept {
			t.Errorf("row %v", row)
		}
	}
	if issues["逾期未报"] != 1 || issues["即将到期未报"] != 1 || issues["迟报"] != 1 || issues["不合规"] != 2 {
		t.Errorf("issues %v", issues)
	}
	if !strings.Contains(r.body, "'"+strings.ReplaceAll(formulaID, `"`, `""`)) {
		t.Errorf("the formula-like number is not quoted with an apostrophe:\n%s", r.body)
	}
}

func TestAPIMatchesSchemas(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	for path, schema := range map[string]string{
		"/api/v1/status": "status", "/api/v1/score": "score", "/api/v1/incidents": "incidents",
		"/api/v1/incidents?open=true": "incidents",
	} {
		r := do(h, path)
		if r.code != 200 {
			t.Fatalf("GET %s: %d", path, r.code)
		}
		s := loadSchema(t, filepath.Join("testdata", "api", schema+".schema.json"))
		if errs := validate(s, []byte(r.body)); len(errs) > 0 {
			t.Errorf("GET %s does not match %s.schema.json:\n%s", path, schema, strings.Join(errs, "\n"))
		}
	}
	// Without any publicity record, publicity is null; a target never probed has nulls.
	g := newFixture(t)
	g.l = emptyLedger(t)
	g.rescore(t)
	r := do(g.handler(), "/api/v1/status")
	if errs := validate(loadSchema(t, "testdata/api/status.schema.json"), []byte(r.body)); len(errs) > 0 || !strings.Contains(r.body, `"publicity": null`) {
		t.Errorf("status of an empty ledger: %v\n%.500s", errs, r.body)
	}
}

func emptyLedger(t *testing.T) *ledger.Ledger {
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// A badge is an SVG document whatever its text holds.
func TestBadgesAreValidSVG(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	docs := map[string][]byte{
		"hostile": badgeSVG(`<a href="x">&'credit'</a>`, "99.99 %", badgeGreen),
		"score":   []byte(do(h, "/badge/score").body),
		"uptime":  []byte(do(h, "/badge/credit-portal/uptime").body),
	}
	for name, doc := range docs {
		dec := xml.NewDecoder(bytes.NewReader(doc))
		var root string
		var texts []string
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not XML: %v\n%s", name, err, doc)
			}
			switch x := tok.(type) {
			case xml.StartElement:
				if root == "" {
					root = x.Name.Local
					if x.Name.Space != "http://www.w3.org/2000/svg" {
						t.Errorf("%s: namespace %q", name, x.Name.Space)
					}
				}
				if x.Name.Local == "script" || x.Name.Local == "a" {
					t.Errorf("%s has a %s element", name, x.Name.Local)
				}
			case xml.CharData:
				texts = append(texts, string(x))
			}
		}
		if root != "svg" {
			t.Errorf("%s: root element %q", name, root)
		}
		if name == "hostile" && !strings.Contains(strings.Join(texts, ""), `<a href="x">&'credit'</a>`) {
			t.Errorf("the hostile label was not kept as text: %q", texts)
		}
	}
	if !strings.Contains(string(docs["score"]), "门槛未达标") || !strings.Contains(string(docs["score"]), badgeRed) {
		t.Errorf("the score badge does not show the failing gates: %s", docs["score"])
	}
}

// The days already settled are read from the ledger once, for the targets shown alone;
// today's probes are read afresh.
func TestDayHistory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := &statusPage{svc: f, log: nilLogger()}
	from := clock.Day(fixtureNow).AddDate(0, 0, 1-HistoryDays)
	// A probe on the first day of the bar, to be forgotten once the window has moved on.
	if err := f.l.ImportProbes(ctx, []ledger.Probe{{Target: "credit-portal", StartedAt: from.Add(time.Hour), Outcome: "ok",
		Interval: time.Second}}); err != nil {
		t.Fatal(err)
	}
	stats := func(p *statusPage, names ...string) map[string]units[string, ledger.DayStats] {
		t.Helper()
		got, err := p.gatherer().dayStats(ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	probes := func(m map[string]units[string, ledger.DayStats], target, date string) int {
		ds, _ := m[target].get(date)
		return ds.Probes
	}
	first := stats(p, "credit-portal")
	row := p.history.rows["credit-portal"]
	if len(p.history.rows) != 1 || row == nil || !row.to.Equal(clock.Day(fixtureNow)) {
		t.Fatalf("kept %d targets, credit-portal's days to %v; want credit-portal's alone, every day but today", len(p.history.rows), row)
	}
	if _, ok := row.units["2026-11-27"]; ok {
		t.Error("today, not settled, is kept")
	}
	if probes(first, "credit-portal", clock.Date(from)) != 1 {
		t.Errorf("the first day of the bar: %d probes", probes(first, "credit-portal", clock.Date(from)))
	}
	// A probe of today and one of yesterday recorded now (a backfill): today's shows, the
	// settled day keeps what it had.
	yesterday, today := fixtureNow.Add(-24*time.Hour), fixtureNow.Add(-time.Minute)
	if err := f.l.ImportProbes(ctx, []ledger.Probe{{Target: "credit-portal", StartedAt: yesterday, Outcome: "ok", Interval: time.Second},
		{Target: "credit-portal", StartedAt: today, Outcome: "ok", Interval: time.Second}}); err != nil {
		t.Fatal(err)
	}
	again := stats(p, "credit-portal")
	if probes(again, "credit-portal", "2026-11-27") != probes(first, "credit-portal", "2026-11-27")+1 {
		t.Errorf("today's probes not read afresh: %d then %d", probes(first, "credit-portal", "2026-11-27"), probes(again, "credit-portal", "2026-11-27"))
	}
	if probes(again, "credit-portal", "2026-11-26") != probes(first, "credit-portal", "2026-11-26") {
		t.Error("a settled day was read again")
	}
	fresh := stats(&statusPage{svc: f, log: nilLogger()}, "credit-portal")
	if probes(fresh, "credit-portal", "2026-11-26") != probes(first, "credit-portal", "2026-11-26")+1 {
		t.Error("the backfill is not in the ledger")
	}
	// Another target shown later has its days read then, the first one's are kept.
	if both := stats(p, "credit-portal", "backup-portal"); probes(both, "backup-portal", "2026-11-26") != 48 ||
		probes(both, "credit-portal", "2026-11-26") != probes(first, "credit-portal", "2026-11-26") || len(p.history.rows) != 2 {
		t.Errorf("backup-portal's 26 November: %d probes; %d targets kept", probes(both, "backup-portal", "2026-11-26"), len(p.history.rows))
	}
	// Days that have left the window are forgotten.
	f.clk.Advance(5 * 24 * time.Hour)
	stats(p, "credit-portal")
	for date := range p.history.rows["credit-portal"].units {
		if date < clock.Date(from.AddDate(0, 0, 5)) {
			t.Errorf("%s kept after the window moved", date)
		}
	}
}

// Goldens of the page's sections: what people read, exactly. Times the ledger stamps with
// the wall clock (imports) and the fixture's temporary directory are masked.
func TestStatusPageGoldens(t *testing.T) {
	f := newFixture(t)
	body := do(f.handler(), "/").body
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	wallClock := regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?`)
	for _, id := range []string{"targets", "next-steps", "incidents", "imports", "publicity-issues"} {
		n := byID(doc, id)
		if n == nil {
			t.Errorf("no #%s", id)
			continue
		}
		var b strings.Builder
		html.Render(&b, n)
		got := strings.ReplaceAll(b.String(), f.cfg.Publicity.Exports[0].Dir, "INBOX")
		if id == "imports" {
			got = wallClock.ReplaceAllStringFunc(got, func(s string) string {
				if t, err := time.ParseInLocation("2006-01-02 15:04:05", s, clock.Shanghai); err == nil && t.After(fixtureNow) {
					return "WALL-CLOCK"
				}
				return s
			})
		}
		got += "\n"
		path := filepath.Join("testdata", "status", id+".golden.html")
		if *update {
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestStatusPageGoldens -update)", err)
		}
		if got != string(want) {
			t.Errorf("#%s differs from %s (go test -run TestStatusPageGoldens -update rewrites it):\n%s", id, path, firstDiff(string(want), got))
		}
	}
}

func byID(n *html.Node, id string) *html.Node {
	if n.Type == html.ElementNode {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				return n
			}
		}
	}
	for k := n.FirstChild; k != nil; k = k.NextSibling {
		if found := byID(k, id); found != nil {
			return found
		}
	}
	return nil
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\nwant " + a + "\ngot  " + b
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

func nilLogger() *zap.Logger { return zap.NewNop() }

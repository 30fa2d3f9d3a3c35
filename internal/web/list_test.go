package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"golang.org/x/net/html"

	"github.com/creditwatch/creditwatch/internal/metrics"
)

// The targets table's order, when there are pages: those with a problem first, the worst
// first, each by name. On one page, the config's order.
func TestListTargetsOrder(t *testing.T) {
	view := func(name, state, content, cert string, open int64) targetView {
		return targetView{Name: name, URL: "https://" + name + ".example.gov.cn/", State: targetState{Code: state},
			ContentClass: content, CertClass: cert, OpenIncident: open}
	}
	all := []targetView{
		view("zeta", StateUp, "up", "up", 0),
		view("alpha", StateUp, "up", "up", 0),
		view("waf", StateChallenged, "unknown", "up", 0),
		view("stale", StateUp, "risk", "up", 0),
		view("down-b", StateDown, "unknown", "unknown", 7),
		view("failing", StateDown, "unknown", "up", 0), // failing, no incident yet
		view("recovering", StateRecovering, "up", "up", 3),
		view("defaced", StateUp, "down", "up", 0),
		view("expired", StateUp, "up", "down", 0),
		view("expiring", StateUp, "up", "risk", 0), // a certificate expiring soon is no problem yet
		view("new", StateUnknown, "unknown", "unknown", 0),
	}
	names := func(l *targetList) []string {
		var out []string
		for _, v := range l.Shown {
			out = append(out, v.Name)
		}
		return out
	}
	l, err := listTargets(all, listQuery{page: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(l), []string{"zeta", "alpha", "waf", "stale", "down-b", "failing", "recovering", "defaced", "expired",
		"expiring", "new"}; !slices.Equal(got, want) {
		t.Errorf("one page: %v, want the config's order %v", got, want)
	}
	if l.Problem != 7 || l.Total != 11 || l.Matched != 11 || l.Content != 2 || l.Pages != 1 || l.Nav != nil {
		t.Errorf("list: %+v", l)
	}
	counts := map[string]int{}
	for _, c := range l.Counts {
		counts[c.Code] = c.N
	}
	if want := map[string]int{StateUp: 6, StateDown: 2, StateRecovering: 1, StateChallenged: 1, StateUnknown: 1}; fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	// With more than a page of them.
	for i := range pageSize {
		all = append(all, view(fmt.Sprintf("m-%02d", i), StateUp, "up", "up", 0))
	}
	if l, err = listTargets(all, listQuery{page: 1}); err != nil {
		t.Fatal(err)
	}
	if got, want := names(l)[:13], []string{"defaced", "down-b", "failing", "recovering", "expired", "stale", "waf", "alpha",
		"expiring", "m-00", "m-01", "m-02", "m-03"}; !slices.Equal(got, want) || l.Pages != 2 {
		t.Errorf("two pages: %v…, want %v…", got, want)
	}
	if l, err = listTargets(all, listQuery{page: 2}); err != nil || !slices.Equal(names(l), []string{"m-16", "m-17", "m-18", "m-19", "m-20", "m-21", "m-22", "m-23", "m-24", "new", "zeta"}) {
		t.Errorf("page 2: %v, %v", names(l), err)
	}
	if all[0].Name != "zeta" {
		t.Error("listing reordered the targets it was given")
	}
}

// Pages, the filter and the page links.
func TestListTargetsPages(t *testing.T) {
	var all []targetView
	for i := range 260 {
		all = append(all, targetView{Name: fmt.Sprintf("t-%03d", i), URL: fmt.Sprintf("https://Site%d.example.gov.cn/", i%7),
			State: targetState{Code: StateUp}})
	}
	links := func(l *targetList) string {
		var s []string
		for _, n := range l.Nav {
			switch {
			case n.Current:
				s = append(s, "["+n.Text+"]")
			default:
				s = append(s, n.Text)
			}
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		name         string
		q            listQuery
		first, last  string
		shown, pages int
		matched      int
		nav, link    string // the links, the first that goes somewhere
	}{
		{"first page", listQuery{page: 1}, "t-000", "t-024", 25, 11, 260, "[1] 2 3 … 11 下一页", "/?page=2#targets"},
		{"a middle page", listQuery{page: 6}, "t-125", "t-149", 25, 11, 260, "上一页 1 … 4 5 [6] 7 8 … 11 下一页", "/?page=5#targets"},
		{"the last page", listQuery{page: 11}, "t-250", "t-259", 10, 11, 260, "上一页 1 … 9 10 [11]", "/?page=10#targets"},
		{"by name", listQuery{page: 1, filter: "t-1"}, "t-100", "t-124", 25, 4, 100, "[1] 2 3 4 下一页", "/?page=2&q=t-1#targets"},
		{"by address, any case", listQuery{page: 2, filter: "site3.EXAMPLE"}, "t-178", "t-255", 12, 2, 37, "上一页 1 [2]", "/?q=site3.EXAMPLE#targets"},
		{"nothing kept", listQuery{page: 1, filter: "nope"}, "", "", 0, 1, 0, "", ""},
	} {
		l, err := listTargets(all, c.q)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(l.Shown) != c.shown || l.Pages != c.pages || l.Matched != c.matched || links(l) != c.nav {
			t.Errorf("%s: %d shown of %d, %d pages, links %q; want %d of %d, %d pages, %q", c.name, len(l.Shown), l.Matched, l.Pages,
				links(l), c.shown, c.matched, c.pages, c.nav)
			continue
		}
		if c.shown > 0 && (l.Shown[0].Name != c.first || l.Shown[c.shown-1].Name != c.last || l.First() != (c.q.page-1)*pageSize+1 ||
			l.Last() != l.First()+c.shown-1) {
			t.Errorf("%s: %s to %s (%d–%d), want %s to %s", c.name, l.Shown[0].Name, l.Shown[len(l.Shown)-1].Name, l.First(), l.Last(),
				c.first, c.last)
		}
		link := ""
		for _, n := range l.Nav {
			if n.Href != "" {
				link = n.Href
				break
			}
		}
		if link != c.link {
			t.Errorf("%s: the first link goes to %s, want %s", c.name, link, c.link)
		}
	}
	if _, err := listTargets(all, listQuery{page: 12}); err == nil || err.Error() != "没有第 12 页：共 11 页" {
		t.Errorf("past the last page: %v", err)
	}
	if _, err := listTargets(nil, listQuery{page: 2}); err == nil {
		t.Error("page 2 of nothing")
	}
}

func TestParseListQuery(t *testing.T) {
	for _, c := range []struct {
		query string
		want  listQuery
		err   string // a part of the error, naming the parameter
	}{
		{"", listQuery{page: 1}, ""},
		{"page=3&q=+credit+", listQuery{page: 3, filter: "credit"}, ""},
		{"q=信用", listQuery{page: 1, filter: "信用"}, ""},
		{"page=0", listQuery{}, "page 应为从 1 起的整数"},
		{"page=-2", listQuery{}, "page 应为"},
		{"page=two", listQuery{}, `page 应为从 1 起的整数（收到 "two"）`},
		{"q=" + strings.Repeat("信", maxQuery+1), listQuery{}, "q 过长"},
	} {
		v, _ := url.ParseQuery(c.query)
		got, err := parseListQuery(v)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q: %+v, %v; want %+v", c.query, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one saying %q", c.query, err, c.err)
		}
	}
}

// manyFixture is the fixture with 56 targets more (site-00 to site-55, 60 in all, three
// pages): site-07 down with an incident open, site-31 defaced, site-42's list stale,
// site-50's certificate expired, the other sites up.
func manyFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	base := f.cfg.Portal.Targets[1]
	for i := range 56 {
		tg := base
		tg.Name, tg.URL = fmt.Sprintf("site-%02d", i), fmt.Sprintf("https://site-%02d.example.gov.cn/", i)
		f.cfg.Portal.Targets = append(f.cfg.Portal.Targets, tg)
		p := &metrics.Portal{Target: tg.Name, Probed: true, Success: true, Outcome: "ok", StatusCode: 200,
			LastProbe: fixtureNow.Add(-time.Minute), CertExpiry: fixtureNow.AddDate(0, 3, 0)}
		switch i {
		case 7:
			p.Success, p.Outcome, p.StatusCode, p.IncidentOpen, p.OpenSince = false, "timeout", 0, true, fixtureNow.Add(-time.Hour)
		case 31:
			f.store.SetContent(&metrics.Content{Target: tg.Name, Confirmed: map[string]int{"keyword": 1}, Seen: map[string]int{"keyword": 1}})
		case 42:
			f.store.SetContent(&metrics.Content{Target: tg.Name, HasAge: true, Age: 9, MaxAge: 5, Stale: true})
		case 50:
			p.CertExpiry = fixtureNow.Add(-time.Hour)
		}
		f.store.SetPortal(p)
	}
	return f
}

// shownTargets are the names of the target cards of a page, in order.
func shownTargets(t *testing.T, body string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "section" {
			for _, a := range n.Attr {
				if a.Key == "data-target" {
					out = append(out, a.Val)
				}
			}
		}
		for k := n.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(doc)
	return out
}

// The status page shows a page of targets, problems first, and reads the daily bars and
// sparklines of those alone.
func TestStatusPagePaged(t *testing.T) {
	f := manyFixture(t)
	p := &statusPage{svc: f, log: zap.NewNop()}
	// The order the page should list: the problems, then the others by name.
	var rest []string
	for _, tg := range f.cfg.Portal.Targets {
		if !slices.Contains([]string{"credit-portal", "site-07", "site-31", "site-42", "site-50", "waf-page"}, tg.Name) {
			rest = append(rest, tg.Name)
		}
	}
	slices.Sort(rest)
	order := append([]string{"credit-portal", "site-07", "site-31", "site-42", "site-50", "waf-page"}, rest...)
	var sites []string
	for _, name := range order {
		if strings.HasPrefix(name, "site-") {
			sites = append(sites, name)
		}
	}

	r := do(p, "/")
	if r.code != 200 {
		t.Fatalf("GET /: %d %s", r.code, r.body)
	}
	if got := shownTargets(t, r.body); !slices.Equal(got, order[:pageSize]) {
		t.Errorf("page 1 shows %v,\nwant %v", got, order[:pageSize])
	}
	for _, want := range []string{`<span class="down" data-count="down">不可访问 1</span>`, `data-count="recovering">恢复确认中 1`,
		`data-count="up">正常 56`, `data-count="content">页面内容异常 2`, "共 60 个目标，每页 25 个，本页为第 1–25 个（第 1 / 3 页）。有问题的目标",
		`<a href="/?page=2#targets" rel="next">下一页</a>`, `<b aria-current="page">1</b>`,
		`<a class="name" href="/targets/site-07">site-07</a>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page 1 lacks %s", want)
		}
	}
	if strings.Count(r.body, `<svg class="bar"`) != pageSize || strings.Count(r.body, `<svg class="spark"`) != pageSize {
		t.Errorf("%d bars and %d sparklines on a page of %d", strings.Count(r.body, `<svg class="bar"`), strings.Count(r.body, `<svg class="spark"`), pageSize)
	}
	if len(p.history.rows) != pageSize || len(p.sparks.rows) != pageSize {
		t.Errorf("the days of %d targets and the sparklines of %d were read for a page of %d", len(p.history.rows), len(p.sparks.rows), pageSize)
	}
	for _, name := range order[pageSize:] {
		if p.history.rows[name] != nil {
			t.Errorf("%s, not shown, had its days read", name)
		}
	}
	// The next-steps section still speaks of every target, shown or not.
	if !strings.Contains(r.body, "恢复 site-07") {
		t.Error("next steps lack site-07")
	}

	for _, c := range []struct {
		path  string
		code  int
		shown []string
		has   string
	}{
		{"/?page=3", 200, order[50:], "每页 25 个，本页为第 51–60 个（第 3 / 3 页）"},
		{"/?q=site&page=2", 200, sites[25:50], "名称或地址含“site”的目标共 56 个，每页 25 个，本页为第 26–50 个（第 2 / 3 页）"},
		// One page of them: the config's order.
		{"/?q=SITE-4", 200, []string{"site-40", "site-41", "site-42", "site-43", "site-44", "site-45", "site-46", "site-47", "site-48", "site-49"},
			"名称或地址含“SITE-4”的目标共 10 个；点击名称查看详情"},
		{"/?q=example.gov.cn/news", 200, []string{"news"}, "共 1 个"},
		{"/?q=nothing-like-it", 200, nil, "没有名称或地址含“nothing-like-it”的监测目标"},
		{"/?page=4", 404, nil, "没有第 4 页：共 3 页"},
		{"/?page=0", 400, nil, "page 应为从 1 起的整数"},
		{"/?page=abc", 400, nil, `page 应为从 1 起的整数（收到 "abc"）`},
		{"/?q=" + strings.Repeat("x", maxQuery+1), 400, nil, "q 过长"},
	} {
		r := do(f.handler(), c.path)
		if r.code != c.code || !strings.Contains(r.body, c.has) {
			t.Errorf("GET %s: %d, want %d saying %q:\n%.300s", c.path, r.code, c.code, c.has, r.body)
			continue
		}
		if c.code == 200 {
			if got := shownTargets(t, r.body); !slices.Equal(got, c.shown) {
				t.Errorf("GET %s shows %v, want %v", c.path, got, c.shown)
			}
		}
	}
}

// /api/v1/status: a page of targets in config order, with totals and the next page; the
// days only when asked; a bad parameter is a 400 naming it.
func TestAPIStatusPaged(t *testing.T) {
	f := manyFixture(t)
	h := f.handler()
	var names []string
	for _, tg := range f.cfg.Portal.Targets {
		names = append(names, tg.Name)
	}
	schema := loadSchema(t, "testdata/api/status.schema.json")
	type page struct {
		Targets []struct {
			Name          string
			State         string
			Days          []json.RawMessage
			ResponseTimes struct{ Probes int } `json:"response_times"`
		}
		Total  int     `json:"targets_total"`
		Offset int     `json:"targets_offset"`
		Limit  int     `json:"targets_limit"`
		Next   *string `json:"targets_next"`
	}
	for _, c := range []struct {
		query        string
		names        []string
		total, limit int
		next         string
		days         bool
	}{
		{"", names, 60, 100, "", true},
		{"?limit=10&offset=20", names[20:30], 60, 10, "/api/v1/status?limit=10&offset=30", true},
		{"?limit=10&offset=55", names[55:], 60, 10, "", true},
		{"?offset=60", nil, 60, 100, "", true},
		{"?offset=500", nil, 60, 100, "", true},
		{"?state=down,recovering", []string{"credit-portal", "site-07"}, 2, 100, "", true},
		{"?state=challenged&days=false", []string{"waf-page"}, 1, 100, "", false},
		{"?q=Site-0&limit=4&days=0", names[4:8], 10, 4, "/api/v1/status?days=false&limit=4&offset=4&q=Site-0", false},
		{"?q=site-0&limit=4&offset=8&days=1", names[12:14], 10, 4, "", true},
		{"?q=example.gov.cn/news&state=unknown", []string{"news"}, 1, 100, "", true},
	} {
		r := do(h, "/api/v1/status"+c.query)
		if r.code != 200 {
			t.Errorf("GET %s: %d %s", c.query, r.code, r.body)
			continue
		}
		if errs := validate(schema, []byte(r.body)); len(errs) > 0 {
			t.Errorf("GET %s does not match status.schema.json:\n%s", c.query, strings.Join(errs, "\n"))
		}
		var got page
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		var gotNames []string
		for _, tg := range got.Targets {
			gotNames = append(gotNames, tg.Name)
			if c.days != (len(tg.Days) == HistoryDays) || !c.days && len(tg.Days) != 0 {
				t.Errorf("GET %s: %s has %d days", c.query, tg.Name, len(tg.Days))
			}
		}
		next := ""
		if got.Next != nil {
			next = *got.Next
		}
		if !slices.Equal(gotNames, c.names) || got.Total != c.total || got.Limit != c.limit || next != c.next {
			t.Errorf("GET %s: %v of %d (limit %d, next %q),\nwant %v of %d (limit %d, next %q)", c.query, gotNames, got.Total, got.Limit,
				next, c.names, c.total, c.limit, c.next)
		}
	}
	// The sparkline's figures are there without the days.
	var backup page
	json.Unmarshal([]byte(do(h, "/api/v1/status?q=backup-portal&days=false").body), &backup)
	if len(backup.Targets) != 1 || backup.Targets[0].ResponseTimes.Probes != 47 {
		t.Errorf("backup-portal without days: %+v", backup.Targets)
	}

	for _, c := range []struct{ query, says string }{
		{"limit=0", `limit 应为 1 到 1000 之间的整数（收到 "0"）`},
		{"limit=1001", "limit 应为 1 到 1000 之间的整数"},
		{"limit=ten", "limit 应为"},
		{"offset=-1", `offset 应为不小于 0 的整数（收到 "-1"）`},
		{"offset=1.5", "offset 应为"},
		{"state=broken", `state 应为 up、recovering、down、challenged、unknown 中的一个或几个，以逗号分隔（收到 "broken"）`},
		{"state=up,", "state 应为"},
		{"days=maybe", `days 应为 true 或 false（收到 "maybe"）`},
		{"q=" + strings.Repeat("q", maxQuery+1), "q 过长"},
	} {
		r := do(h, "/api/v1/status?"+c.query)
		var e struct{ Error string }
		if r.code != 400 || !strings.HasPrefix(r.contentType, "application/json") || json.Unmarshal([]byte(r.body), &e) != nil ||
			!strings.Contains(e.Error, c.says) {
			t.Errorf("GET /api/v1/status?%s: %d %s %s, want 400 saying %q", c.query, r.code, r.contentType, r.body, c.says)
		}
	}
}

// targetSchema is /api/v1/targets/{target}'s schema, made of the status and incidents
// schemas' definitions.
func targetSchema(t *testing.T) map[string]any {
	st := loadSchema(t, "testdata/api/status.schema.json")
	inc := loadSchema(t, "testdata/api/incidents.schema.json")
	defs := map[string]any{}
	for _, s := range []map[string]any{st, inc} {
		for k, v := range s["$defs"].(map[string]any) {
			if _, dup := defs[k]; dup {
				t.Fatalf("both schemas define %s", k)
			}
			defs[k] = v
		}
	}
	return map[string]any{"type": "object", "additionalProperties": false, "$defs": defs,
		"required": []any{"generated_at", "period_start", "target", "incidents"},
		"properties": map[string]any{
			"generated_at": map[string]any{"$ref": "#/$defs/time"}, "period_start": map[string]any{"$ref": "#/$defs/time"},
			"target": map[string]any{"$ref": "#/$defs/target"}, "incidents": inc["properties"].(map[string]any)["incidents"],
		}}
}

// A target's page and JSON: its card in full, its incidents.
func TestTargetView(t *testing.T) {
	f := newFixture(t)
	h := f.handler()
	r := do(h, "/targets/credit-portal")
	if r.code != 200 || !strings.HasPrefix(r.contentType, "text/html") {
		t.Fatalf("GET /targets/credit-portal: %d %s", r.code, r.body)
	}
	for _, want := range []string{"<h1>credit-portal · 监测目标详情</h1>", `<section class="target" data-target="credit-portal">`,
		`<td><a href="/incidents/2">2</a></td>`, `<td><a href="/incidents/1">1</a></td>`, `href="/api/v1/targets/credit-portal"`,
		"事件进行中·恢复确认中", "近24小时平均响应 201 ms", `href="/badge/credit-portal/uptime"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the target page lacks %s", want)
		}
	}
	if n := strings.Count(r.body, `class="day-`); n != HistoryDays {
		t.Errorf("%d days on the bar", n)
	}
	if strings.Index(r.body, `/incidents/2"`) > strings.Index(r.body, `/incidents/1"`) {
		t.Error("the incidents are not newest first")
	}
	if strings.Contains(r.body, "<script>x</script>") {
		t.Error("the target's address is not escaped")
	}
	if r := do(h, "/targets/backup-portal"); r.code != 200 || !strings.Contains(r.body, "近90天及本考核周期未发生不可访问事件") {
		t.Errorf("backup-portal's page: %d", r.code)
	}

	r = do(h, "/api/v1/targets/credit-portal")
	if r.code != 200 {
		t.Fatalf("GET /api/v1/targets/credit-portal: %d %s", r.code, r.body)
	}
	if errs := validate(targetSchema(t), []byte(r.body)); len(errs) > 0 {
		t.Errorf("/api/v1/targets/credit-portal does not match its schema:\n%s", strings.Join(errs, "\n"))
	}
	var one struct {
		Target struct {
			Name  string
			State string
			Days  []json.RawMessage
		}
		Incidents []struct{ ID int64 }
	}
	json.Unmarshal([]byte(r.body), &one)
	if one.Target.Name != "credit-portal" || one.Target.State != StateRecovering || len(one.Target.Days) != HistoryDays ||
		len(one.Incidents) != 2 || one.Incidents[0].ID != 2 {
		t.Errorf("credit-portal: %+v", one)
	}
	// The same target as /api/v1/status says it.
	var st struct{ Targets []json.RawMessage }
	json.Unmarshal([]byte(do(h, "/api/v1/status?q=credit-portal").body), &st)
	var whole struct{ Target json.RawMessage }
	json.Unmarshal([]byte(r.body), &whole)
	if len(st.Targets) != 1 || compactJSON(t, st.Targets[0]) != compactJSON(t, whole.Target) {
		t.Errorf("/api/v1/targets and /api/v1/status differ:\n%s\n%s", st.Targets, whole.Target)
	}

	for _, c := range []struct{ path, contentType, says string }{
		{"/targets/nope", "text/plain", "没有该监测目标"},
		{"/api/v1/targets/nope", "application/json", `"error": "没有该监测目标"`},
	} {
		if r := do(h, c.path); r.code != 404 || !strings.HasPrefix(r.contentType, c.contentType) || !strings.Contains(r.body, c.says) {
			t.Errorf("GET %s: %d %s %s", c.path, r.code, r.contentType, r.body)
		}
	}
}

func compactJSON(t *testing.T, b []byte) string {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

package collectors

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/sim"
)

// pages serves the simulator's home page with the content fault of each request in turn
// (the last one repeats).
type pages struct {
	mu    sync.Mutex
	kinds []string
	n     int
}

func (p *pages) set(kinds ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kinds, p.n = kinds, 0
}

func (p *pages) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	kind := p.kinds[min(p.n, len(p.kinds)-1)]
	p.n++
	p.mu.Unlock()
	body, _ := sim.PortalPage(kind)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(body)
}

// contentRig is a portal target probed on a fake clock, a minute apart.
type contentRig struct {
	t     *testing.T
	deps  Deps
	clk   *clock.Fake
	pages *pages
	url   string
	edit  func(*config.Target)
	p     *Portal
}

func newContentRig(t *testing.T, edit func(*config.Target)) *contentRig {
	r := &contentRig{t: t, deps: testDeps(t), clk: clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, clock.Shanghai)), pages: &pages{kinds: []string{sim.FaultOK}}, edit: edit}
	r.deps.Now = r.clk.Now
	r.url = serve(t, r.pages.ServeHTTP)
	r.restart()
	if err := Seed(context.Background(), []Collector{r.p}, r.deps); err != nil {
		t.Fatal(err)
	}
	return r
}

// restart is a new process: a new probe reading its state from the ledger.
func (r *contentRig) restart() { r.p = testPortal(r.t, r.url, r.deps, r.edit) }

// probe runs one probe per page kind, a minute apart.
func (r *contentRig) probe(kinds ...string) {
	r.t.Helper()
	for _, k := range kinds {
		r.pages.set(k)
		r.clk.Advance(time.Minute)
		if err := r.p.Collect(context.Background()); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *contentRig) incidents() []ledger.SecurityIncident {
	r.t.Helper()
	incs, err := r.deps.Ledger.SecurityIncidentsAsOf(context.Background(), r.clk.Now().Add(time.Millisecond), time.Time{})
	if err != nil {
		r.t.Fatal(err)
	}
	return incs
}

func (r *contentRig) metric(name string) float64 { return series(r.deps.Store)[name] }

// TestDefacementNeedsTwoProbes: a sign on one flaky fetch between clean pages never opens an
// incident; the same sign on two consecutive probes opens one, with its evidence, counted
// and exported; it stays one incident while the sign lasts and ends when it is gone.
func TestDefacementNeedsTwoProbes(t *testing.T) {
	r := newContentRig(t, nil)
	r.probe(sim.FaultOK, sim.FaultDefaceKeyword, sim.FaultOK, sim.FaultDefaceScript, sim.FaultOK)
	if incs := r.incidents(); len(incs) != 0 {
		t.Fatalf("single signs opened incidents: %+v", incs)
	}
	r.probe(sim.FaultDefaceKeyword)
	if got := r.metric(`creditwatch_defacement_signs{rule="keyword",target="credit-portal"}`); got != 0 {
		t.Errorf("an unconfirmed sign is exported: %v", got)
	}
	r.probe(sim.FaultDefaceKeyword)
	incs := r.incidents()
	if len(incs) != 1 {
		t.Fatalf("incidents after two probes with a keyword: %+v", incs)
	}
	inc := incs[0]
	if inc.Kind != ledger.SecurityDefacement || strings.Join(inc.Rules, ",") != "keyword" || inc.Evidence == nil ||
		!strings.Contains(inc.Evidence.Signs[0].Evidence, "澳门新葡京") || len(inc.Evidence.PageSHA256) != 64 ||
		inc.StartedAt.Equal(inc.ConfirmedAt) || !inc.Open() {
		t.Errorf("incident: %+v", inc)
	}
	if got := r.metric(`creditwatch_defacement_signs{rule="keyword",target="credit-portal"}`); got < 1 {
		t.Errorf("defacement_signs{keyword} = %v once confirmed", got)
	}
	if got := r.metric(`creditwatch_security_incidents_total`); got != 1 {
		t.Errorf("security_incidents_total = %v", got)
	}
	r.probe(sim.FaultDefaceKeyword, sim.FaultDefaceKeyword)
	if incs := r.incidents(); len(incs) != 1 {
		t.Errorf("a lasting sign opened %d incidents", len(incs))
	}
	r.probe(sim.FaultOK)
	if incs := r.incidents(); incs[0].Open() {
		t.Error("the incident did not end with its sign")
	}
	if got := r.metric(`creditwatch_defacement_signs{rule="keyword",target="credit-portal"}`); got != 0 {
		t.Errorf("defacement_signs{keyword} = %v after the page was restored", got)
	}
	if c, err := r.deps.Ledger.VerifyChain(context.Background()); err != nil || !c.OK() {
		t.Errorf("chain: %+v, %v", c, err)
	}
}

// TestEverySignConfirms: each defacement fault of the simulator, seen twice, opens an
// incident of its rules.
func TestEverySignConfirms(t *testing.T) {
	want := map[string]string{
		sim.FaultDefaceKeyword:    "keyword",
		sim.FaultDefaceScript:     "foreign_script",
		sim.FaultDefaceIframe:     "foreign_frame",
		sim.FaultDefaceLink:       "foreign_link",
		sim.FaultDefaceHiddenLink: "foreign_link,hidden_link",
		sim.FaultDefaceTitle:      "title_changed",
		// The whole page replaced lacks the expected text: a failed probe whose page is still
		// looked at for its own signs, not against the baseline.
		sim.FaultDefacePage: "keyword,foreign_link",
		sim.FaultRedesign:   "structure_changed",
	}
	for kind, rules := range want {
		t.Run(kind, func(t *testing.T) {
			r := newContentRig(t, nil)
			r.probe(sim.FaultOK, kind, kind)
			incs := r.incidents()
			if len(incs) != 1 || strings.Join(incs[0].Rules, ",") != rules {
				t.Errorf("incidents: %+v, want one of %s", incs, rules)
			}
		})
	}
}

// TestAllowedOriginsAndOwnTerms: an origin on the target's allow-list is no sign; a term of
// its must_not_contain is.
func TestAllowedOriginsAndOwnTerms(t *testing.T) {
	r := newContentRig(t, func(tg *config.Target) {
		tg.Defacement.AllowOrigins = []string{"cdn.tj-stat.example"}
		tg.Defacement.MustNotContain = []string{"信用动态"}
	})
	r.probe(sim.FaultOK, sim.FaultDefaceScript, sim.FaultDefaceScript)
	incs := r.incidents()
	if len(incs) != 1 || strings.Join(incs[0].Rules, ",") != "must_not_contain" {
		t.Errorf("incidents: %+v, want only must_not_contain (the page's own news heading)", incs)
	}
}

// TestRedesignAccepted: a redesign seen twice opens an incident; once the office accepts the
// page as the new baseline, the same page opens no new incident.
func TestRedesignAccepted(t *testing.T) {
	r := newContentRig(t, nil)
	r.probe(sim.FaultOK, sim.FaultRedesign, sim.FaultRedesign)
	if incs := r.incidents(); len(incs) != 1 {
		t.Fatalf("redesign before acceptance: %+v", incs)
	}
	if _, err := r.deps.Ledger.AcceptLatestPage(context.Background(), "credit-portal", "李四", r.clk.Now()); err != nil {
		t.Fatal(err)
	}
	r.probe(sim.FaultRedesign, sim.FaultRedesign, sim.FaultRedesign)
	incs := r.incidents()
	if len(incs) != 1 || incs[0].Open() {
		t.Errorf("after acceptance: %+v, want the one incident, ended", incs)
	}
}

// TestContentStateSurvivesRestart: a sign seen before a restart and after it is two
// consecutive probes; a confirmed sign is not confirmed again after a restart.
func TestContentStateSurvivesRestart(t *testing.T) {
	r := newContentRig(t, nil)
	r.probe(sim.FaultOK, sim.FaultDefaceIframe)
	r.restart()
	r.probe(sim.FaultDefaceIframe)
	if incs := r.incidents(); len(incs) != 1 {
		t.Fatalf("a streak across a restart: %+v", incs)
	}
	r.restart()
	r.probe(sim.FaultDefaceIframe, sim.FaultDefaceIframe)
	if incs := r.incidents(); len(incs) != 1 {
		t.Errorf("after a second restart: %d incidents", len(incs))
	}
}

// TestDailyNewsNeverCountsInProbes: a news list probed every day for two months, its items
// new each day, opens no incident and stays fresh.
func TestDailyNewsNeverCountsInProbes(t *testing.T) {
	day := time.Date(2026, 9, 1, 9, 0, 0, 0, clock.Shanghai)
	clk := clock.NewFake(day)
	d := testDeps(t)
	d.Now = clk.Now
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(sim.NewsList(clk.Now()))
	})
	p := testPortal(t, url, d, func(tg *config.Target) { tg.Freshness = &config.Freshness{Selector: "span.date", MaxAgeWorkdays: 3} })
	for i := 0; i < 60; i++ {
		if err := p.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if c, _ := d.Store.Content("credit-portal"); c == nil || !c.HasAge || c.Age > 1 || c.Stale {
			t.Fatalf("day %d: freshness %+v", i, c)
		}
		clk.Advance(24 * time.Hour)
	}
	if n, _ := d.Ledger.CountSecurityIncidents(context.Background()); n != 0 {
		t.Errorf("a daily news list opened %d security incidents", n)
	}
}

// TestStaleList: a list whose newest item is 45 days old is stale, in the metric and the
// ledger.
func TestStaleList(t *testing.T) {
	now := time.Date(2026, 11, 16, 9, 0, 0, 0, clock.Shanghai)
	d := testDeps(t)
	d.Now = func() time.Time { return now }
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(sim.StaleList(now, 45)) })
	p := testPortal(t, url, d, func(tg *config.Target) { tg.Freshness = &config.Freshness{MaxAgeWorkdays: 10} })
	if err := p.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 2026-10-02 to 2026-11-16: 29 working days (creditwatch check workdays).
	if got := series(d.Store)[`creditwatch_content_age_workdays{target="credit-portal"}`]; got != 29 {
		t.Errorf("content_age_workdays = %v, want 29", got)
	}
	fs, _ := d.Ledger.FreshnessAsOf(context.Background(), now.Add(time.Second))
	if len(fs) != 1 || fs[0].NewestOn != "2026-10-02" || fs[0].MaxAgeWorkdays != 10 {
		t.Errorf("freshness in the ledger: %+v", fs)
	}
}

// TestUnreadablePageCounted: a page nested 100,000 deep is recorded as probed, counted as
// unreadable, and never a sign.
func TestUnreadablePageCounted(t *testing.T) {
	deep := "<html><title>信用</title><body>" + strings.Repeat("<div>", 100000) + "</body></html>"
	d := testDeps(t)
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(deep)) })
	p := testPortal(t, url, d, nil)
	for i := 0; i < 3; i++ {
		if err := p.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	m := series(d.Store)
	if m[`creditwatch_source_errors_total{reason="unreadable_page",source="credit-portal"}`] != 3 || m[`creditwatch_probe_success{target="credit-portal"}`] != 1 {
		t.Errorf("metrics: unreadable %v, success %v", m[`creditwatch_source_errors_total{reason="unreadable_page",source="credit-portal"}`],
			m[`creditwatch_probe_success{target="credit-portal"}`])
	}
	if n, _ := d.Ledger.CountProbes(context.Background(), "credit-portal"); n != 3 {
		t.Errorf("probes recorded = %d", n)
	}
	if n, _ := d.Ledger.CountSecurityIncidents(context.Background()); n != 0 {
		t.Errorf("security incidents = %d", n)
	}
}

package card

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

func (f *fixture) reportCheck(code, result string, when time.Time) {
	f.t.Helper()
	c := ledger.ReportCheck{Code: code, CheckedAt: when, Result: result, Edition: "2022", Format: "html"}
	if result == ledger.ReportNonconforming {
		c.Reasons = []ledger.Reason{{Code: "missing_section", Message: "缺少「信用承诺信息」部分"}}
	}
	if result == ledger.ReportFetchError {
		c.ErrorClass = "timeout"
	}
	if _, err := f.l.RecordReportCheck(context.Background(), c, f.set.PeriodStart(when.Add(time.Millisecond))); err != nil {
		f.t.Fatal(err)
	}
}

// TestReportConformance: 3 non-conforming of 10 reports give 1 point of 4; a code found
// non-conforming twice counts once; fetch errors never count; without a report read the
// indicator is unknown, with the reason.
func TestReportConformance(t *testing.T) {
	f := newFixture(t)
	day := at("2026-05-11 09:00")
	if r := result(t, f.card(day), "portal_report_conformance"); r.Known || r.Input.Reason != "" {
		t.Errorf("before any check: %+v", r)
	}
	f.reportCheck("91410900MA45A0011B", ledger.ReportFetchError, day)
	if r := result(t, f.card(day.Add(time.Minute)), "portal_report_conformance"); r.Known || r.Input.Reason == "" {
		t.Errorf("after a fetch error only: known %t, reason %q", r.Known, r.Input.Reason)
	}
	for i := 0; i < 10; i++ {
		res := ledger.ReportConforming
		if i < 3 {
			res = ledger.ReportNonconforming
		}
		f.reportCheck(fmt.Sprintf("C%02d", i), res, day.Add(time.Duration(i+1)*time.Minute))
	}
	f.reportCheck("C00", ledger.ReportNonconforming, day.Add(time.Hour)) // the same code again
	f.reportCheck("C05", ledger.ReportFetchError, day.Add(time.Hour))
	c := f.card(day.Add(2 * time.Hour))
	r := result(t, c, "portal_report_conformance")
	if !r.Known || r.Points != 1 || r.Input.Count != 3 {
		t.Errorf("3 non-conforming of 10: known %t, points %v, count %v", r.Known, r.Points, r.Input.Count)
	}
	if len(c.Reports.Nonconforming) != 3 || c.Reports.Nonconforming[0].Checks != 2 || c.Reports.FetchErrors["timeout"] != 2 ||
		c.Reports.Nonconforming[0].Reasons[0].Message == "" {
		t.Errorf("reports: %+v", c.Reports)
	}
	if r := result(t, f.card(day.Add(90*time.Second)), "portal_report_conformance"); r.Points != 3 {
		t.Errorf("as of 09:01:30 (one non-conforming so far): %v points", r.Points)
	}
	if r := result(t, f.card(at("2027-01-01 09:00")), "portal_report_conformance"); r.Known {
		t.Errorf("the next year, before any check: %+v", r)
	}
}

// content records one defacement check of a target at when.
func (f *fixture) content(target string, scored bool, when time.Time, confirmed []string, still ...string) {
	f.t.Helper()
	var signs []ledger.Sign
	for _, r := range confirmed {
		signs = append(signs, ledger.Sign{Rule: r, Evidence: "…" + r, Message: r})
	}
	if _, err := f.l.RecordContent(context.Background(), ledger.ContentObservation{Target: target, Site: "portal", Scored: scored,
		At: when, FirstSeen: when.Add(-time.Minute), Confirmed: signs, StillConfirmed: still}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) accept(target string, when time.Time) {
	f.t.Helper()
	page := &ledger.PageCandidate{SHA256: "ab", SeenAt: when, Title: "信用濮阳", JSON: "{}"}
	if _, err := f.l.RecordContent(context.Background(), ledger.ContentObservation{Target: target, At: when, Page: page}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.l.AcceptLatestPage(context.Background(), target, "李四", when); err != nil {
		f.t.Fatal(err)
	}
}

func securityPoints(t *testing.T, c *Card) string {
	t.Helper()
	r := result(t, c, "security_incidents")
	if !r.Known {
		return "unknown"
	}
	return fmt.Sprint(r.Points)
}

// TestSecurityIncidents: the indicator is 2 while the pages are checked without incident,
// 0 for the period once a defacement is confirmed or the office records an incident dated
// in it; a redesign the office accepts counts until the acceptance and not after; an
// unscored site's defacement costs nothing.
func TestSecurityIncidents(t *testing.T) {
	f := newFixture(t)
	if got := securityPoints(t, f.card(at("2026-03-01 08:00"))); got != "unknown" {
		t.Errorf("before any page was checked: %s", got)
	}
	f.probes("home", ledger.Scoring{Site: "portal", Scored: true}, at("2026-03-01 08:00"), time.Minute, "...")
	steps := []struct {
		name string
		do   func()
		at   string
		want string
	}{
		{"pages checked, nothing found", func() {}, "2026-03-01 09:00", "2"},
		{"a staging site defaced", func() { f.content("staging", false, at("2026-03-02 10:00"), []string{"keyword"}, "keyword") }, "2026-03-02 11:00", "2"},
		{"a redesign confirmed", func() {
			f.content("home", true, at("2026-03-03 10:00"), []string{"structure_changed"}, "structure_changed")
		}, "2026-03-03 11:00", "0"},
		{"the redesign accepted", func() { f.accept("home", at("2026-03-03 12:00")) }, "2026-03-03 12:30", "2"},
		{"as of before the acceptance", func() {}, "2026-03-03 11:59", "0"},
		{"the redesign's signs gone", func() { f.content("home", true, at("2026-03-03 12:01"), nil) }, "2026-03-03 13:00", "2"},
		{"a keyword confirmed", func() { f.content("home", true, at("2026-04-01 10:00"), []string{"keyword"}, "keyword") }, "2026-04-01 11:00", "0"},
		{"the keyword removed", func() { f.content("home", true, at("2026-04-01 12:00"), nil) }, "2026-04-01 13:00", "0"},
		{"an acceptance later does not void it", func() { f.accept("home", at("2026-04-02 10:00")) }, "2026-04-02 11:00", "0"},
		{"the next year", func() {}, "2027-01-01 00:10", "unknown"},
	}
	for _, s := range steps {
		s.do()
		if got := securityPoints(t, f.card(at(s.at))); got != s.want {
			t.Errorf("%s: as of %s, %s points, want %s", s.name, s.at, got, s.want)
		}
	}
	c := f.card(at("2026-04-02 11:00"))
	if len(c.Security.Incidents) != 3 || c.Security.Counted != 1 || c.Security.Incidents[1].VoidedBy == nil ||
		c.Security.Incidents[0].Counts || !c.Security.Incidents[2].Counts {
		t.Errorf("incidents: %+v", c.Security.Incidents)
	}
}

// TestRecordedSecurityIncidents: an incident the office records counts in the period of its
// date, from the moment it is recorded.
func TestRecordedSecurityIncidents(t *testing.T) {
	f := newFixture(t)
	f.probes("home", ledger.Scoring{Site: "portal", Scored: true}, at("2026-01-05 08:00"), time.Minute, "...")
	ctx := context.Background()
	if _, err := f.l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: at("2025-12-30 00:00"), Kind: ledger.SecurityNotified,
		Ref: "豫网信通〔2026〕1号", By: "张三", At: at("2026-01-06 10:00")}); err != nil {
		t.Fatal(err)
	}
	if got := securityPoints(t, f.card(at("2026-01-07 00:00"))); got != "2" {
		t.Errorf("an incident dated in the previous year costs this year: %s", got)
	}
	if _, err := f.l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: at("2026-01-05 00:00"), Kind: ledger.SecurityIntrusion,
		Ref: "共享平台入侵", By: "张三", At: at("2026-01-08 10:00")}); err != nil {
		t.Fatal(err)
	}
	for when, want := range map[string]string{"2026-01-08 09:59": "2", "2026-01-08 10:01": "0", "2026-06-30 10:00": "0"} {
		if got := securityPoints(t, f.card(at(when))); got != want {
			t.Errorf("as of %s: %s points, want %s", when, got, want)
		}
	}
}

// TestListPages: a list page whose newest item is older than its limit is stale.
func TestListPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, fr := range []ledger.Freshness{
		{Target: "news", CheckedAt: at("2026-10-12 09:00"), NewestOn: "2026-10-12", MaxAgeWorkdays: 10},
		{Target: "sgs", CheckedAt: at("2026-10-12 09:00"), NewestOn: "2026-08-28", MaxAgeWorkdays: 10},
		{Target: "empty", CheckedAt: at("2026-10-12 09:00"), MaxAgeWorkdays: 10},
	} {
		if err := f.l.RecordFreshness(ctx, fr); err != nil {
			t.Fatal(err)
		}
	}
	c := f.card(at("2026-10-13 09:00"))
	got := map[string]ListPage{}
	for _, p := range c.ListPages {
		got[p.Target] = p
	}
	if p := got["news"]; p.Age != 1 || p.Stale {
		t.Errorf("news: %+v", p)
	}
	// 8/28 to 10/13: 28 working days on the official calendar (creditwatch check workdays).
	if p := got["sgs"]; !p.Stale || p.Age != 28 {
		t.Errorf("sgs: %+v", p)
	}
	if p := got["empty"]; !p.Stale || p.Unknown == "" {
		t.Errorf("a page without a date: %+v", p)
	}
	if len(c.Stale()) != 2 {
		t.Errorf("stale: %+v", c.Stale())
	}
}

package ledger

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

func yearStart(t time.Time) time.Time { return clock.YearStart(clock.LastDay(t)) }

func check(code, result string, at time.Time, reasons ...string) ReportCheck {
	c := ReportCheck{Code: code, URL: "https://credit.example.gov.cn/report?code=" + code, CheckedAt: at, Result: result,
		Edition: "2022", Format: "html", BodySHA256: "ab12"}
	for _, r := range reasons {
		c.Reasons = append(c.Reasons, Reason{Code: r, Message: "缺少" + r})
	}
	if result == ReportFetchError {
		c.ErrorClass, c.Error = "timeout", "context deadline exceeded"
	}
	return c
}

// TestReportChecksCountOncePerCodePerPeriod: a code found non-conforming twice counts once in
// a period and again in the next; a fetch error is not a non-conformance; figures as of an
// instant ignore checks made later.
func TestReportChecksCountOncePerCodePerPeriod(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	dec := time.Date(2026, 12, 30, 10, 0, 0, 0, clock.Shanghai)
	jan := time.Date(2027, 1, 4, 10, 0, 0, 0, clock.Shanghai)
	steps := []struct {
		c     ReportCheck
		first bool
	}{
		{check("A", ReportNonconforming, dec, "missing_section"), true},
		{check("A", ReportNonconforming, dec.Add(time.Hour), "missing_section"), false},
		{check("B", ReportConforming, dec), false},
		{check("C", ReportFetchError, dec), false},
		{check("A", ReportNonconforming, jan, "wrong_code"), true},
	}
	for i, s := range steps {
		first, err := l.RecordReportCheck(ctx, s.c, yearStart(s.c.CheckedAt.Add(time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		if first != s.first {
			t.Errorf("step %d (%s %s): first in period = %t, want %t", i, s.c.Code, s.c.Result, first, s.first)
		}
	}
	n, err := l.CountNonconforming(ctx, func(at time.Time) time.Time { return clock.YearStart(clock.Day(at)) })
	if err != nil || n != 2 {
		t.Errorf("non-conforming reports counted = %d, %v; want 2 (A in 2026, A in 2027)", n, err)
	}
	totals, _ := l.ReportTotals(ctx)
	if totals[ReportNonconforming] != 3 || totals[ReportConforming] != 1 || totals[ReportFetchError] != 1 {
		t.Errorf("totals = %v", totals)
	}
	f, err := l.ReportFiguresAsOf(ctx, yearStart(dec), dec.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Nonconforming) != 1 || f.Nonconforming[0].Code != "A" || f.NonconformingChecks["A"] != 1 || f.CodesChecked != 2 ||
		f.FetchErrors["timeout"] != 1 || f.Checks[ReportConforming] != 1 {
		t.Errorf("figures as of 10:30 = %+v", f)
	}
	if f.Nonconforming[0].Reasons[0].Code != "missing_section" {
		t.Errorf("reasons = %+v", f.Nonconforming[0].Reasons)
	}
	if f, _ := l.ReportFiguresAsOf(ctx, yearStart(dec), dec); len(f.Nonconforming) != 0 || len(f.Checks) != 0 {
		t.Errorf("figures as of 10:00, before any check: %+v", f)
	}
}

func TestContentIncidentsOpenAndEnd(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	obs := func(at time.Time, confirmed []Sign, still ...string) ContentChange {
		t.Helper()
		ch, err := l.RecordContent(ctx, ContentObservation{Target: "home", Site: "portal", Scored: true, Vantage: "v", URL: "https://x/",
			At: at, PageSHA256: "9f", State: `{"n":1}`, Confirmed: confirmed, FirstSeen: at.Add(-30 * time.Second), StillConfirmed: still})
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	kw := Sign{Rule: "keyword", Evidence: "澳门新葡京", Message: "页面出现涉赌关键词"}
	title := Sign{Rule: "title_changed", Evidence: "基线标题…", Message: "页面标题与基线不一致"}
	if ch := obs(t0, []Sign{kw}, "keyword"); ch.Opened == nil || ch.Opened.ID != 1 || len(ch.Ended) != 0 {
		t.Fatalf("confirming a keyword: %+v", ch)
	}
	if ch := obs(t0.Add(time.Minute), []Sign{title}, "keyword", "title_changed"); ch.Opened == nil || len(ch.Ended) != 0 {
		t.Fatalf("confirming a title change: %+v", ch)
	}
	if ch := obs(t0.Add(2*time.Minute), nil, "title_changed"); ch.Opened != nil || len(ch.Ended) != 1 || ch.Ended[0] != 1 {
		t.Fatalf("the keyword gone: %+v", ch)
	}
	if ch := obs(t0.Add(3*time.Minute), nil); len(ch.Ended) != 1 || ch.Ended[0] != 2 {
		t.Fatalf("the title restored: %+v", ch)
	}
	incs, err := l.SecurityIncidentsAsOf(ctx, t0.Add(150*time.Second), t0.Add(-time.Hour))
	if err != nil || len(incs) != 2 {
		t.Fatalf("as of 2.5 min: %+v, %v", incs, err)
	}
	if incs[0].Open() || !incs[1].Open() || incs[0].Evidence.Signs[0].Evidence != "澳门新葡京" || incs[0].StartedAt != t0.Add(-30*time.Second) {
		t.Errorf("as of 2.5 min, the keyword's incident has ended and the title's not yet: %+v", incs)
	}
	if n, _ := l.CountSecurityIncidents(ctx); n != 2 {
		t.Errorf("count = %d", n)
	}
	c, err := l.VerifyChain(ctx)
	if err != nil || !c.OK() || c.Rows["security incident"] != 2 {
		t.Errorf("chain: %+v, %v", c, err)
	}
}

func TestRecordedSecurityIncident(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, clock.Shanghai)
	now := day.Add(10 * time.Hour)
	if _, err := l.RecordSecurityIncident(ctx, SecurityRecord{Date: day.AddDate(0, 0, 1), Kind: SecurityNotified, Ref: "豫网信通〔2026〕3号",
		By: "张三", At: now}); err == nil || !strings.Contains(err.Error(), "after today") {
		t.Errorf("a date after today: %v", err)
	}
	if _, err := l.RecordSecurityIncident(ctx, SecurityRecord{Date: day, Kind: "hacked", Ref: "x", By: "张三", At: now}); err == nil {
		t.Error("an unknown kind was recorded")
	}
	id, err := l.RecordSecurityIncident(ctx, SecurityRecord{Date: day.AddDate(0, 0, -3), Kind: SecurityNotified,
		Ref: "豫网信通〔2026〕3号", Note: "共享平台存在弱口令被入侵", By: "张三", At: now})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := l.SecurityIncident(ctx, id)
	if s == nil || s.OccurredOn != "2026-02-27" || s.Source != SecurityRecorded || !s.Scored || s.By != "张三" {
		t.Errorf("recorded: %+v", s)
	}
	if incs, _ := l.SecurityIncidentsAsOf(ctx, now, day.AddDate(0, 0, -10)); len(incs) != 0 {
		t.Errorf("known before it was recorded: %+v", incs)
	}
	if incs, _ := l.SecurityIncidentsAsOf(ctx, now.Add(time.Millisecond), day.AddDate(0, 0, -10)); len(incs) != 1 {
		t.Errorf("not known once recorded: %+v", incs)
	}
}

func TestAcceptLatestPage(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	if _, err := l.AcceptLatestPage(ctx, "home", "李四", t0); !errors.Is(err, ErrNoPageSeen) {
		t.Errorf("accepting before any page: %v", err)
	}
	first := &PageCandidate{SHA256: "aa", SeenAt: t0, Title: "信用濮阳", JSON: `{"version":1}`}
	if ch, err := l.RecordContent(ctx, ContentObservation{Target: "home", At: t0, State: "{}", Page: first, FirstBaseline: first}); err != nil || ch.Baseline != 1 {
		t.Fatalf("first baseline: %+v, %v", ch, err)
	}
	redesign := &PageCandidate{SHA256: "bb", SeenAt: t0.Add(time.Hour), Title: "信用濮阳（新版）", JSON: `{"version":1,"title":"x"}`}
	if _, err := l.RecordContent(ctx, ContentObservation{Target: "home", At: t0.Add(time.Hour), Page: redesign}); err != nil {
		t.Fatal(err)
	}
	b, err := l.AcceptLatestPage(ctx, "home", "李四", t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != 2 || b.PageSHA256 != "bb" || b.By != "李四" || b.Reason != BaselineAccepted || b.Title != "信用濮阳（新版）" {
		t.Errorf("accepted: %+v", b)
	}
	if id, _ := l.BaselineID(ctx, "home"); id != 2 {
		t.Errorf("baseline in force = %d", id)
	}
	if bs, _ := l.Baselines(ctx, t0.Add(2*time.Hour)); len(bs) != 1 {
		t.Errorf("baselines as of the acceptance: %d, want only the first", len(bs))
	}
	// What a score reads: the office's acceptances only, without the page structure.
	if as, _ := l.Acceptances(ctx, t0.Add(2*time.Hour)); len(as) != 0 {
		t.Errorf("acceptances before the acceptance: %+v", as)
	}
	if as, _ := l.Acceptances(ctx, t0.Add(3*time.Hour)); len(as) != 1 || as[0].ID != 2 || as[0].Reason != BaselineAccepted || as[0].JSON != "" || as[0].By != "李四" {
		t.Errorf("acceptances after it: %+v, want the acceptance alone, no structure", as)
	}
	st, _ := l.LoadContentState(ctx, "home")
	if st.State != "{}" || st.Page == nil || st.Page.SHA256 != "bb" {
		t.Errorf("state: %+v", st)
	}
}

func TestFreshnessAsOf(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	for _, f := range []Freshness{{"news", t0, "2026-02-27", 10}, {"sgs", t0, "2026-01-10", 10}, {"news", t0.Add(24 * time.Hour), "2026-03-02", 10}} {
		if err := l.RecordFreshness(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := l.FreshnessAsOf(ctx, t0.Add(time.Hour))
	if len(got) != 2 || got[0].Target != "news" || got[0].NewestOn != "2026-02-27" || got[1].NewestOn != "2026-01-10" {
		t.Errorf("as of t0+1h: %+v", got)
	}
	if got, _ := l.FreshnessAsOf(ctx, t0.Add(25*time.Hour)); got[0].NewestOn != "2026-03-02" {
		t.Errorf("as of the next day: %+v", got)
	}
}

// TestContentChainShowsEdits: the content evidence rows are checked against the chain.
func TestContentChainShowsEdits(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("the sqlite3 shell is needed (Debian package sqlite3; the test command installs it)")
	}
	ctx := context.Background()
	original := filepath.Join(t.TempDir(), "content.db")
	l := openTemp(t, original)
	if _, err := l.RecordReportCheck(ctx, check("A", ReportNonconforming, t0, "missing_section"), yearStart(t0)); err != nil {
		t.Fatal(err)
	}
	page := &PageCandidate{SHA256: "aa", SeenAt: t0, Title: "信用濮阳", JSON: `{}`}
	if _, err := l.RecordContent(ctx, ContentObservation{Target: "home", At: t0, State: "{}", Page: page, FirstBaseline: page,
		Confirmed: []Sign{{Rule: "keyword", Evidence: "百家乐"}}, StillConfirmed: []string{"keyword"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordContent(ctx, ContentObservation{Target: "home", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordSecurityIncident(ctx, SecurityRecord{Date: t0, Kind: SecurityIntrusion, Ref: "R-1", By: "张三", At: t0}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	tests := map[string]struct{ edit, want string }{
		"untouched":                  {"", ""},
		"a report's reasons cleared": {`UPDATE report_checks SET reasons = '[]'`, "non-conforming report check 1 differs"},
		"a report check made good":   {`UPDATE report_checks SET result = 'conforming'`, "non-conforming report check 1 is in the chain"},
		"an incident deleted":        {`DELETE FROM security_incidents WHERE id = 2`, "security incident 2 is in the chain"},
		"an incident's end moved":    {`UPDATE security_incidents SET ended_at = ended_at + 1 WHERE id = 1`, "security incident 1 differs from its security_incident_ended event"},
		"an incident reopened":       {`UPDATE security_incidents SET ended_at = NULL WHERE id = 1`, "ended in the chain but is open"},
		"evidence edited":            {`UPDATE security_incidents SET evidence = replace(evidence, '百家乐', '') WHERE id = 1`, "security incident 1 differs"},
		"a baseline's author edited": {`UPDATE baselines SET by = '王五'`, "baseline 1 differs"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := copyLedger(t, original)
			if tc.edit != "" {
				editLedger(t, path, tc.edit)
			}
			c, err := openTemp(t, path).VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !c.OK() || c.Rows["security incident"] != 2 || c.Rows["baseline"] != 1 || c.Rows["non-conforming report check"] != 1 {
					t.Errorf("untouched ledger: %+v", c)
				}
				return
			}
			if c.OK() || !strings.Contains(strings.Join(c.Problems, "\n"), tc.want) {
				t.Errorf("problems = %q, want one with %q", c.Problems, tc.want)
			}
		})
	}
}

// TestStopWatchingEndsSecurityIncidents: a target removed from the config while its page
// still showed a confirmed sign: the incident ends then, chained, and its state is forgotten.
func TestStopWatchingEndsSecurityIncidents(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	feed(t, l, "home", "..", 0)
	if _, err := l.RecordContent(ctx, ContentObservation{Target: "home", At: t0, State: `{"x":1}`,
		Confirmed: []Sign{{Rule: "keyword"}}, StillConfirmed: []string{"keyword"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.StopWatching(ctx, "home", "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	s, _ := l.SecurityIncident(ctx, 1)
	if s.Open() || !s.EndedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("incident after the target was removed: %+v", s)
	}
	if st, _ := l.LoadContentState(ctx, "home"); st.State != "" {
		t.Errorf("content state kept: %+v", st)
	}
	if c, err := l.VerifyChain(ctx); err != nil || !c.OK() {
		t.Errorf("chain: %+v, %v", c, err)
	}
}

package sim

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/deface"
)

func TestReportScenarioErrors(t *testing.T) {
	tests := map[string]struct{ doc, want string }{
		"format":  {"reports: {format: docx}", `reports.format: "docx" is neither html nor pdf`},
		"edition": {"reports: {edition: '2019'}", `reports.edition: unknown credit report edition "2019"`},
		"defect":  {"reports: {defects: {91410900MA45Y7K353: smudged}}", `reports.defects[91410900MA45Y7K353]: unknown defect "smudged"`},
		"ratio":   {"reports: {defect_ratio: 1.5}", "reports.defect_ratio: 1.5 is not between 0 and 1"},
		"unknown": {"reports: {colour: red}", "field colour not found"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseScenario([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDefectChoice: listed codes get their defect; the ratio picks the same codes every
// time, about as many as asked, and only content defects.
func TestDefectChoice(t *testing.T) {
	listed := codes.CompleteUSCC("91410900MA45Y7K3")
	sc := ReportScenario{Defects: map[string]string{listed: DefectTruncatedPDF}, DefectRatio: 0.3}
	if got := sc.DefectOf(listed); got != DefectTruncatedPDF {
		t.Errorf("listed code: %s", got)
	}
	defective := 0
	for i := range 1000 {
		code := codes.CompleteUSCC(fmt.Sprintf("9141090000%c%05d", 'A'+i%20, i))
		d := sc.DefectOf(code)
		if d != sc.DefectOf(code) {
			t.Fatal("not deterministic")
		}
		if d != DefectNone {
			defective++
			if !contains(contentDefects, d) {
				t.Errorf("ratio chose %s", d)
			}
		}
	}
	if defective < 250 || defective > 350 {
		t.Errorf("%d of 1000 defective at ratio 0.3", defective)
	}
	if (ReportScenario{}).DefectOf(listed) != DefectNone {
		t.Error("the default scenario serves a defective report")
	}
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

var httpClient = &http.Client{Timeout: 5 * time.Second}

// TestServeReports fetches reports from a running simulator and checks them: a record's
// code gets the record's name, scripted defects come out as the check sees them.
func TestServeReports(t *testing.T) {
	good, bad, pdf := codes.CompleteUSCC("91410900MA45Y7K3"), codes.CompleteUSCC("91410900MA45Y7K4"), codes.CompleteUSCC("91410900MA45Y7K5")
	sc, err := ParseScenario([]byte("platform: {penalties: 3, as_of: 2026-11-27}\nreports:\n  defects: {" + bad + ": swapped_order, " + pdf + ": truncated_pdf}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start("127.0.0.1:0", sc, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ed, _ := creditreport.EditionByName("2022")
	recordCode := codes.CompleteUSCC("91410900P0000001")
	tests := map[string]struct {
		query, code, name, want string
	}{
		"conforming html":       {query: "code=" + good, code: good, want: "conforming"},
		"conforming pdf":        {query: "format=pdf&code=" + good, code: good, want: "conforming"},
		"a record's name":       {query: "code=" + recordCode, code: recordCode, name: "濮阳市龙都化工有限公司第1分公司", want: "conforming"},
		"scripted swap":         {query: "code=" + bad, code: bad, want: creditreport.ReasonSectionOrder},
		"scripted truncation":   {query: "code=" + pdf, code: pdf, want: creditreport.ClassPDFTruncated},
		"defect by query":       {query: "defect=gbk&code=" + good, code: good, want: "conforming"},
		"not a report by query": {query: "defect=not_report&code=" + good, code: good, want: creditreport.ClassNotReport},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			resp, err := httpClient.Get(strings.TrimSuffix(s.URL(), "/") + "/report?" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			res, err := creditreport.CheckReader(resp.Body, resp.Header.Get("Content-Type"), "", creditreport.Request{Code: tc.code, KnownName: tc.name, Edition: ed}, creditreport.Limits{})
			got := "conforming"
			switch {
			case err != nil:
				got = creditreport.ErrorClass(err)
			case !res.Conforming:
				got = res.Reasons[0].Code
			}
			if got != tc.want {
				t.Errorf("got %s, want %s (%+v %v)", got, tc.want, res, err)
			}
		})
	}
}

// TestServeContentPages fetches the home page under each content fault, the news list and
// the stale list, and runs the defacement and freshness checks on them.
func TestServeContentPages(t *testing.T) {
	var seq strings.Builder
	seq.WriteString("platform: {as_of: 2026-11-27}\nlists: {stale_days: 40}\nsequence:\n  - {kind: ok, count: 1}\n")
	for _, k := range ContentFaults {
		seq.WriteString("  - {kind: " + k + ", count: 1}\n")
	}
	sc, err := ParseScenario([]byte(seq.String()))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start("127.0.0.1:0", sc, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	fetch := func(path string) *deface.Page {
		st, body, err := get(t, strings.TrimSuffix(s.URL(), "/")+path)
		if err != nil || st != 200 {
			t.Fatalf("%s: %d %v", path, st, err)
		}
		p, err := deface.Parse([]byte(body), "text/html", s.URL())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := deface.NewBaseline(fetch("/"))
	for _, k := range ContentFaults {
		if signs := deface.Detect(fetch("/"), deface.Policy{}, &base); len(signs) == 0 {
			t.Errorf("%s: no sign", k)
		}
	}
	if signs := deface.Detect(fetch("/-/sim/pages/"+FaultDefaceScript), deface.Policy{}, &base); len(signs) != 1 || signs[0].Rule != deface.RuleForeignScript {
		t.Errorf("/-/sim/pages/deface_script: %+v", signs)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, clock.Shanghai)
	for path, want := range map[string]string{"/xydt/": "2026-11-27", "/sgs/": "2026-10-18"} {
		newest, found, err := deface.NewestDate(fetch(path), ".news-list .date", now)
		if err != nil || !found || newest.Format(time.DateOnly) != want {
			t.Errorf("%s: newest %v %v %v, want %s", path, newest, found, err, want)
		}
	}
}

package collectors

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/sim"
)

var reportDay = time.Date(2026, 5, 11, 13, 0, 0, 0, clock.Shanghai)

// testCodes are valid codes (GB 32100) of enterprises of the simulated city.
var testCodes = []string{"91410900MA45A0011B", "91410900MA45A002X3", "91410900MA45A00383", "91410900MA45A0046X", "91410900MA45A0054Q",
	"91410900MA45A0062K", "91410900MA45A0070E", "91410900MA45A0089B", "91410900MA45A00976", "91410900MA45A010XN"}

const testName = "濮阳市诚信测试有限公司"

// reportServer serves the simulator's reports: ?code=, &defect= and &format= as the
// simulator reads them, each code's defect from defects when the query names none.
func reportServer(t *testing.T, defects map[string]string) string {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		defect := q.Get("defect")
		if defect == "" {
			defect = defects[q.Get("code")]
		}
		if defect == "" {
			defect = sim.DefectNone
		}
		body, ct, err := sim.RenderReport(q.Get("code"), testName, "2022", defect, q.Get("format"), reportDay)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Write(body)
	})
}

func reportConfig(t *testing.T, doc string) config.CreditReports {
	t.Helper()
	cfg, err := config.Parse([]byte("credit_reports:\n"+doc), reportDay)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.CreditReports
}

// holdName stores a publicity record naming the code's subject, so the check knows its name.
func holdName(t *testing.T, l *ledger.Ledger, codes ...string) {
	t.Helper()
	var recs []ledger.PublicityRecord
	for i, c := range codes {
		recs = append(recs, ledger.PublicityRecord{Kind: publicity.Penalty, ID: fmt.Sprintf("濮罚〔2026〕%d号", i+1), Source: "test",
			UpdatedAt: reportDay.Add(-time.Hour), Fields: map[string]string{},
			Assessment: publicity.Assessment{SubjectCode: c, SubjectName: testName, CodeValid: true, Department: "市监局"}})
	}
	if err := l.StorePublicity(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
}

func reportDeps(t *testing.T) Deps {
	d := testDeps(t)
	d.Now = func() time.Time { return reportDay }
	return d
}

// TestReportDefectsThroughTheCollector: each report the simulator can serve, fetched and
// judged: a content defect is non-conforming with its reason; a report that cannot be
// fetched or read is a fetch error of its class, never a non-conformance.
func TestReportDefectsThroughTheCollector(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write([]byte("<html><body>"))
	zw.Write(bytes.Repeat([]byte("信用"), 20<<20)) // 120 MB of text in a few hundred KB
	zw.Close()
	gzipped := func(body []byte) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		return b.Bytes()
	}
	good, _, _ := sim.RenderReport(testCodes[0], testName, "2022", sim.DefectNone, "html", reportDay)
	tests := map[string]struct {
		query   string           // added to the simulator's URL
		handler http.HandlerFunc // instead of the simulator
		result  string
		detail  string // a reason code, or a fetch error's class
	}{
		"conforming html":        {query: "", result: ledger.ReportConforming},
		"conforming pdf":         {query: "&format=pdf", result: ledger.ReportConforming},
		"conforming gbk page":    {query: "&defect=gbk", result: ledger.ReportConforming},
		"missing section":        {query: "&defect=missing_section", result: ledger.ReportNonconforming, detail: "missing_section"},
		"swapped order":          {query: "&defect=swapped_order", result: ledger.ReportNonconforming, detail: "section_order"},
		"swapped order in a pdf": {query: "&defect=swapped_order&format=pdf", result: ledger.ReportNonconforming, detail: "section_order"},
		"wrong code":             {query: "&defect=wrong_code", result: ledger.ReportNonconforming, detail: "wrong_code"},
		"missing report number":  {query: "&defect=missing_number", result: ledger.ReportNonconforming, detail: "missing_report_number"},
		"missing report date":    {query: "&defect=missing_date", result: ledger.ReportNonconforming, detail: "missing_issue_date"},
		"another name":           {query: "&defect=wrong_name", result: ledger.ReportNonconforming, detail: "wrong_name"},
		"missing note":           {query: "&defect=missing_note", result: ledger.ReportNonconforming, detail: "missing_note"},
		"truncated pdf":          {query: "&defect=truncated_pdf", result: ledger.ReportFetchError, detail: "pdf_truncated"},
		"broken xref":            {query: "&defect=broken_xref", result: ledger.ReportFetchError, detail: "pdf_broken"},
		"not a report":           {query: "&defect=not_report", result: ledger.ReportFetchError, detail: "not_report"},
		"http 503": {handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "busy", 503) },
			result: ledger.ReportFetchError, detail: "http_status"},
		"waf 412": {handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(412) },
			result: ledger.ReportFetchError, detail: "challenged"},
		"slow": {handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, result: ledger.ReportFetchError, detail: "timeout"},
		"gzip": {handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(good))
		}, result: ledger.ReportConforming},
		"gzip bomb": {handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}, result: ledger.ReportFetchError, detail: "too_large"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := reportDeps(t)
			holdName(t, d.Ledger, testCodes[0])
			base := reportServer(t, nil)
			if tc.handler != nil {
				base = serve(t, tc.handler)
			}
			cfg := reportConfig(t, fmt.Sprintf("  url_template: %q\n  codes: [%s]\n  interval: 10s\n  timeout: 1s\n  max_body_bytes: 4194304\n",
				base+"report?code={code}"+tc.query, testCodes[0]))
			c, err := NewCreditReports(cfg, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			checks, err := d.Ledger.ReportChecks(context.Background(), reportDay.Add(-time.Hour), reportDay.Add(time.Hour), 0)
			if err != nil || len(checks) != 1 {
				t.Fatalf("checks: %+v, %v", checks, err)
			}
			chk := checks[0]
			if chk.Result != tc.result {
				t.Fatalf("result %s, want %s (%+v)", chk.Result, tc.result, chk)
			}
			switch tc.result {
			case ledger.ReportNonconforming:
				if len(chk.Reasons) != 1 || chk.Reasons[0].Code != tc.detail || chk.Reasons[0].Message == "" {
					t.Errorf("reasons %+v, want only %s", chk.Reasons, tc.detail)
				}
			case ledger.ReportFetchError:
				if chk.ErrorClass != tc.detail || chk.Error == "" || len(chk.Reasons) != 0 {
					t.Errorf("fetch error %q (%s), want class %s", chk.ErrorClass, chk.Error, tc.detail)
				}
			case ledger.ReportConforming:
				if len(chk.Reasons) != 0 || chk.Name != testName || len(chk.BodySHA256) != 64 {
					t.Errorf("conforming check: %+v", chk)
				}
			}
		})
	}
}

// TestThreeOfTenNonconforming: ten fixed codes, three of them with defective reports, checked
// twice: three non-conforming reports, one point of four; the counters continue across a
// restart.
func TestThreeOfTenNonconforming(t *testing.T) {
	d := reportDeps(t)
	base := reportServer(t, map[string]string{testCodes[1]: sim.DefectMissingSection, testCodes[4]: sim.DefectWrongCode,
		testCodes[7]: sim.DefectSwappedOrder})
	cfg := reportConfig(t, fmt.Sprintf("  url_template: %q\n  codes: [%s]\n", base+"report?code={code}", strings.Join(testCodes, ", ")))
	c, err := NewCreditReports(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := Seed(context.Background(), []Collector{c}, d); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := c.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{
		`creditwatch_report_checks_total{result="conforming"}`:    14,
		`creditwatch_report_checks_total{result="nonconforming"}`: 6,
		`creditwatch_report_checks_total{result="fetch_error"}`:   0,
		`creditwatch_report_nonconforming_total`:                  3,
	}
	for k, v := range want {
		if got := series(d.Store)[k]; got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	set := card.Settings{Calendar: d.calendar()}
	cd, err := card.Period(context.Background(), d.Ledger, set, reportDay.Add(time.Second), card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := cd.Result("portal_report_conformance"); !r.Known || r.Points != 1 {
		t.Errorf("portal_report_conformance = %v (known %t), want 1", r.Points, r.Known)
	}
	restarted := d
	restarted.Store = metrics.NewStore()
	if err := Seed(context.Background(), []Collector{c}, restarted); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got := series(restarted.Store)[k]; got != v {
			t.Errorf("after a restart, %s = %v, want %v", k, got, v)
		}
	}
	// A reload without credit_reports drops the report series.
	Run(context.Background(), c, restarted)
	if err := Seed(context.Background(), nil, restarted); err != nil {
		t.Fatal(err)
	}
	for k := range series(restarted.Store) {
		if strings.Contains(k, "report_") || strings.Contains(k, "credit_report") {
			t.Errorf("after credit_reports was removed: %s", k)
		}
	}
}

// TestDailySampleRotatesOverTheDay: the sample takes consecutive slices of the subject codes
// day after day, spread over each day; a code is checked once a day.
func TestDailySampleRotatesOverTheDay(t *testing.T) {
	var pool []ledger.SubjectCode
	for i := 0; i < 50; i++ {
		pool = append(pool, ledger.SubjectCode{Code: fmt.Sprintf("C%02d", i)})
	}
	day := clock.Day(reportDay)
	seen := map[string]bool{}
	for k := 0; k < 3; k++ {
		for _, s := range DailySample(pool, 20, day.AddDate(0, 0, k)) {
			seen[s.Code] = true
		}
	}
	if len(seen) != 50 {
		t.Errorf("three days of 20 covered %d codes of 50", len(seen))
	}
	if got := SampleDueAt(day, 10, 20); !got.Equal(day.Add(12 * time.Hour)) {
		t.Errorf("the 11th of 20 is due at %v, want noon", got)
	}

	now := day.Add(13 * time.Hour)
	d := testDeps(t)
	d.Now = func() time.Time { return now }
	holdName(t, d.Ledger, testCodes...)
	cfg := reportConfig(t, fmt.Sprintf("  url_template: %q\n  daily_sample: 4\n", reportServer(t, nil)+"report?code={code}"))
	c, err := NewCreditReports(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		cs, _ := d.Ledger.ReportChecks(context.Background(), day, day.AddDate(0, 0, 1), 0)
		return len(cs)
	}
	for _, step := range []struct {
		at   time.Duration
		want int
	}{{13 * time.Hour, 3}, {14 * time.Hour, 3}, {18*time.Hour + time.Minute, 4}} {
		now = day.Add(step.at)
		if err := c.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := count(); got != step.want {
			t.Errorf("at %v: %d sample checks, want %d (due at 0:00, 6:00, 12:00, 18:00)", step.at, got, step.want)
		}
	}
}

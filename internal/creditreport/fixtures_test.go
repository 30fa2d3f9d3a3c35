package creditreport_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/sim"
)

var update = flag.Bool("update", false, "rewrite the report fixtures from the simulator and their golden results")

// The fixtures' enterprise: a valid code and the name creditwatch holds for it.
var (
	fixtureCode = codes.CompleteUSCC("91410900MA45Y7K3")
	fixtureName = "濮阳市恒信化工有限公司"
	fixtureDate = time.Date(2026, 11, 27, 10, 0, 0, 0, clock.Shanghai)
)

// fixture is a report the simulator serves: a defect in a format. Its body is kept under
// testdata/reports/NAME.{html,pdf} and its judgement under NAME.golden.json.
type fixture struct{ defect, format string }

var fixtures = map[string]fixture{
	"conforming-html":      {sim.DefectNone, "html"},
	"conforming-pdf":       {sim.DefectNone, "pdf"},
	"gbk-html":             {sim.DefectGBK, "html"},
	"missing-section-html": {sim.DefectMissingSection, "html"},
	"missing-section-pdf":  {sim.DefectMissingSection, "pdf"},
	"swapped-order-html":   {sim.DefectSwappedOrder, "html"},
	"swapped-order-pdf":    {sim.DefectSwappedOrder, "pdf"},
	"wrong-code-html":      {sim.DefectWrongCode, "html"},
	"wrong-code-pdf":       {sim.DefectWrongCode, "pdf"},
	"missing-number-html":  {sim.DefectMissingNumber, "html"},
	"missing-number-pdf":   {sim.DefectMissingNumber, "pdf"},
	"missing-date-pdf":     {sim.DefectMissingDate, "pdf"},
	"wrong-name-html":      {sim.DefectWrongName, "html"},
	"missing-note-pdf":     {sim.DefectMissingNote, "pdf"},
	"truncated-pdf":        {sim.DefectTruncatedPDF, "pdf"},
	"broken-xref-pdf":      {sim.DefectBrokenXref, "pdf"},
	"not-report-html":      {sim.DefectNotReport, "html"},
}

func (f fixture) render(t testing.TB) ([]byte, string) {
	t.Helper()
	body, ct, err := sim.RenderReport(fixtureCode, fixtureName, creditreport.DefaultEdition, f.defect, f.format, fixtureDate)
	if err != nil {
		t.Fatal(err)
	}
	return body, ct
}

func fixturePath(name string) string {
	ext := ".html"
	if strings.HasSuffix(name, "-pdf") {
		ext = ".pdf"
	}
	return filepath.Join("testdata", "reports", name+ext)
}

func contentTypeOf(path string) string {
	if strings.HasSuffix(path, ".pdf") {
		return "application/pdf"
	}
	return "text/html" // charset from the page's meta, as portals often send it
}

// outcome is what a golden file holds: the result, or the class of the read error.
type outcome struct {
	Result     *creditreport.Result `json:"result,omitempty"`
	ErrorClass string               `json:"error_class,omitempty"`
	Error      string               `json:"error,omitempty"`
}

func judge(t testing.TB, body []byte, contentType string) outcome {
	t.Helper()
	ed, err := creditreport.EditionByName(creditreport.DefaultEdition)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := creditreport.Extract(body, contentType, creditreport.DefaultLimits())
	var res creditreport.Result
	if err == nil {
		res, err = creditreport.Check(doc, creditreport.Request{Code: fixtureCode, KnownName: fixtureName, Edition: ed})
	}
	if err != nil {
		class := creditreport.ErrorClass(err)
		if class == "" {
			t.Fatalf("error without a class: %v", err)
		}
		return outcome{ErrorClass: class, Error: err.Error()}
	}
	return outcome{Result: &res}
}

// TestReportFixtures judges every fixture and compares with its golden result: one test
// per report defect (missing section, swapped order, wrong code, missing report number,
// truncated PDF, GBK page and the rest).
func TestReportFixtures(t *testing.T) {
	for name, f := range fixtures {
		t.Run(name, func(t *testing.T) {
			path := fixturePath(name)
			if *update {
				body, _ := f.render(t)
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(judge(t, body, contentTypeOf(path)), "", "  ")
			golden := strings.TrimSuffix(path, filepath.Ext(path)) + ".golden.json"
			if *update {
				os.WriteFile(golden, append(got, '\n'), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("judgement differs from %s:\n%s", golden, got)
			}
		})
	}
}

// TestReportFixturesReproducible regenerates each fixture with the simulator: the same
// text must come out, so the committed files are what the simulator serves.
func TestReportFixturesReproducible(t *testing.T) {
	for name, f := range fixtures {
		t.Run(name, func(t *testing.T) {
			path := fixturePath(name)
			committed, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fresh, ct := f.render(t)
			if bytes.Equal(committed, fresh) {
				return
			}
			a, errA := creditreport.Extract(committed, ct, creditreport.DefaultLimits())
			b, errB := creditreport.Extract(fresh, ct, creditreport.DefaultLimits())
			if errA != nil || errB != nil || a.Text != b.Text {
				t.Errorf("%s is not what the simulator serves now; run go test ./internal/creditreport -run TestReportFixtures -update", path)
			}
		})
	}
}

// TestExpectedReasons pins the reason each defect must give, independent of golden files.
func TestExpectedReasons(t *testing.T) {
	want := map[string][]string{
		"conforming-html": nil, "conforming-pdf": nil, "gbk-html": nil,
		"missing-section-html": {creditreport.ReasonMissingSection}, "missing-section-pdf": {creditreport.ReasonMissingSection},
		"swapped-order-html": {creditreport.ReasonSectionOrder}, "swapped-order-pdf": {creditreport.ReasonSectionOrder},
		"wrong-code-html": {creditreport.ReasonWrongCode}, "wrong-code-pdf": {creditreport.ReasonWrongCode},
		"missing-number-html": {creditreport.ReasonMissingNumber}, "missing-number-pdf": {creditreport.ReasonMissingNumber},
		"missing-date-pdf": {creditreport.ReasonMissingDate}, "wrong-name-html": {creditreport.ReasonWrongName},
		"missing-note-pdf": {creditreport.ReasonMissingNote},
	}
	wantClass := map[string]string{"truncated-pdf": creditreport.ClassPDFTruncated, "broken-xref-pdf": creditreport.ClassPDFBroken,
		"not-report-html": creditreport.ClassNotReport}
	for name := range fixtures {
		t.Run(name, func(t *testing.T) {
			path := fixturePath(name)
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			o := judge(t, body, contentTypeOf(path))
			if c, ok := wantClass[name]; ok {
				if o.ErrorClass != c {
					t.Fatalf("error class %q, want %q", o.ErrorClass, c)
				}
				return
			}
			if o.Result == nil {
				t.Fatalf("unreadable: %s", o.Error)
			}
			var got []string
			for _, r := range o.Result.Reasons {
				got = append(got, r.Code)
			}
			if strings.Join(got, ",") != strings.Join(want[name], ",") || o.Result.Conforming != (len(want[name]) == 0) {
				t.Errorf("reasons %v (conforming %v), want %v", got, o.Result.Conforming, want[name])
			}
		})
	}
}

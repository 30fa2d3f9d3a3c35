package creditreport_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/testutil"
)

func pdftotext(t *testing.T, path string) string {
	t.Helper()
	tool := testutil.RequireTool(t, "pdftotext")
	if _, err := os.Stat("/usr/share/poppler/cMap/Adobe-GB1"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("poppler-data is required for pdftotext to read standard Chinese fonts; the README's test command installs it")
		}
		t.Skip("poppler-data not installed")
	}
	out, err := exec.Command(tool, "-raw", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", path, err)
	}
	return string(out)
}

func compact(s string) string { return strings.Join(strings.Fields(s), "") }

// TestPDFTextMatchesPdftotext cross-checks the pure-Go reader against poppler's pdftotext
// (-raw: content-stream order): the same text, white space aside, and the same judgement
// from either text.
func TestPDFTextMatchesPdftotext(t *testing.T) {
	paths, _ := filepath.Glob("testdata/reports/*.pdf")
	ed, _ := creditreport.EditionByName(creditreport.DefaultEdition)
	req := creditreport.Request{Code: fixtureCode, KnownName: fixtureName, Edition: ed}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			body, _ := os.ReadFile(path)
			doc, err := creditreport.Extract(body, "application/pdf", creditreport.DefaultLimits())
			if err != nil {
				t.Skipf("unreadable by design: %v", err)
			}
			poppler := pdftotext(t, path)
			// Chromium places glyphs one by one: the order of its runs is not poppler's
			// reading order, so only the judgements are compared there.
			if path != chromiumFixture && compact(doc.Text) != compact(poppler) {
				t.Errorf("text differs from pdftotext's:\nours:    %s\npoppler: %s", compact(doc.Text), compact(poppler))
			}
			ours, err1 := creditreport.Check(doc, req)
			theirs, err2 := creditreport.Check(&creditreport.Document{Format: "pdf", Text: poppler}, req)
			if err1 != nil || err2 != nil || reasons(ours) != reasons(theirs) || ours.Found.Code != theirs.Found.Code ||
				ours.Found.ReportNumber != theirs.Found.ReportNumber {
				t.Errorf("judgements differ:\nours:    %+v %v\npoppler: %+v %v", ours, err1, theirs, err2)
			}
		})
	}
}

func reasons(r creditreport.Result) string {
	var codes []string
	for _, x := range r.Reasons {
		codes = append(codes, x.Code)
	}
	return strings.Join(codes, ",")
}

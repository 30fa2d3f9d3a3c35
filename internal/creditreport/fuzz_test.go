package creditreport_test

import (
	"testing"

	"github.com/creditwatch/creditwatch/internal/creditreport"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = creditreport.Limits{MaxBodyBytes: 1 << 20, MaxDecompressedBytes: 4 << 20, MaxPages: 50, MaxTextBytes: 1 << 20}

func fuzzCheck(t *testing.T, body []byte, contentType string) {
	ed, _ := creditreport.EditionByName(creditreport.DefaultEdition)
	doc, err := creditreport.Extract(body, contentType, fuzzLimits)
	if err == nil {
		_, err = creditreport.Check(doc, creditreport.Request{Code: "91410900MA45Y7K353", KnownName: "濮阳市恒信化工有限公司", Edition: ed})
	}
	if err != nil && creditreport.ErrorClass(err) == "" {
		t.Fatalf("error without a class: %v", err)
	}
}

// FuzzHTMLReport: any page is read and judged, or refused with a class; never a panic.
// Seeds: testdata/fuzz/FuzzHTMLReport.
func FuzzHTMLReport(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCheck(t, body, "text/html") })
}

// FuzzPDFReport: any PDF is read and judged, or refused with a class; never a panic.
// Seeds: testdata/fuzz/FuzzPDFReport.
func FuzzPDFReport(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) { fuzzCheck(t, body, "application/pdf") })
}

package creditreport_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

var updateChromium = flag.Bool("update-chromium", false, "print testdata/reports/conforming-html.html to "+chromiumFixture+" with headless Chromium")

// chromiumFixture is the conforming report page printed by Chromium, as portals that
// render reports with a headless browser serve them: Type 3 fonts with a custom encoding
// and ToUnicode maps, where the simulator's PDFs use a standard Chinese font. Regenerate
// with go test ./internal/creditreport -run TestChromiumPrintedReport -update-chromium.
const chromiumFixture = "testdata/reports/chromium-conforming.pdf"

// TestChromiumPrintedReport: a report printed by Chromium reads as conforming (and
// TestPDFTextMatchesPdftotext checks its text against poppler's).
func TestChromiumPrintedReport(t *testing.T) {
	if *updateChromium {
		printWithChromium(t, "testdata/reports/conforming-html.html", chromiumFixture)
	}
	body, err := os.ReadFile(chromiumFixture)
	if err != nil {
		t.Fatal(err)
	}
	o := judge(t, body, "application/pdf")
	if o.Result == nil || !o.Result.Conforming {
		t.Fatalf("a conforming report printed by Chromium: %+v", o)
	}
}

func printWithChromium(t *testing.T, htmlPath, pdfPath string) {
	chromium := testutil.RequireTool(t, "chromium")
	page, err := os.ReadFile(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF())
	if err != nil {
		t.Fatalf("printing: %v", err)
	}
	if err := os.WriteFile(pdfPath, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}

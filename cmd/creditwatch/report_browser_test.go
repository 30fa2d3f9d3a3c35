package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditwatch/creditwatch/internal/report/reporttest"
	"github.com/creditwatch/creditwatch/internal/testutil"
)

// TestReportInChromium opens /reports/2026-10 of a running creditwatch in headless
// Chromium, reads the incident and score tables, prints the page to PDF as the office
// would, and keeps the PDF and a PNG screenshot under testdata/output/ for review.
func TestReportInChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	pdftotext := testutil.RequireTool(t, "pdftotext")
	dir := t.TempDir()
	l, _ := reporttest.October(t, filepath.Join(dir, "ledger.db"))
	l.Close()
	webAddr := freeAddr(t)
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
portal:
  targets:
    - {name: credit-portal, url: "http://%s/", interval: 1h}
storage: {path: %s}
assessment: {period_start: 2026-01-01}
`, freeAddr(t), filepath.Join(dir, "ledger.db")))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 10*time.Second, "creditwatch", func() bool { st, _, _ := httpGet("http://" + webAddr + "/-/ready"); return st == 200 })

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1100, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+webAddr+"/reports/2026-10")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#incidents")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	incidents, scores, publicity := text("#incidents tbody"), text("#scores tbody"), text("#publicity tbody")
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("img, script:not([type='application/json'])").length`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("printing: %v", err)
	}
	for _, want := range []string{"credit-portal", "2026-10-08 10:00:00", "2026-10-08 10:40:00", "40分", "页面内容不符", reporttest.HostileError, "puyang"} {
		if !strings.Contains(incidents, want) {
			t.Errorf("incident table lacks %q:\n%s", want, incidents)
		}
	}
	if !strings.Contains(scores, "地方信用门户网站可访问性好，每监测到一起不可访问情形减0.5分\t2\t1.5\t1.5") {
		t.Errorf("score table does not show portal_accessibility 2 / 1.5 this month / 1.5 for the period:\n%s", scores)
	}
	if !strings.Contains(publicity, reporttest.HostileDepartment) || injected != 0 {
		t.Errorf("outside HTML was not shown as text (%d injected elements):\n%s", injected, publicity)
	}

	out := "testdata/output"
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "report-2026-10.png"), png, 0o644)
	pdfPath := filepath.Join(out, "report-2026-10.pdf")
	os.WriteFile(pdfPath, pdf, 0o644)
	printed, err := exec.Command(pdftotext, "-layout", pdfPath, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	// Text extraction drops spaces and wraps narrow cells, so compare without white space
	// and with the department name cut where its cell wraps.
	compact := strings.Join(strings.Fields(string(printed)), "")
	for _, want := range []string{"社会信用平台月度监测报告", "第1页/共3页", "<script>alert('信用')</script>", "<imgsrc=xonerror=alert(1)>濮阳市商务"} {
		if !strings.Contains(compact, want) {
			t.Errorf("the printed PDF lacks %q", want)
		}
	}
	report(t, fmt.Sprintf("monthly report printed by Chromium to %d PDF pages; screenshot kept at cmd/creditwatch/%s/report-2026-10.png",
		strings.Count(string(printed), "\f"), out))
}

func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	l, _ := reporttest.October(t, filepath.Join(dir, "ledger.db"))
	l.Close()
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), "portal:\n  targets:\n    - {name: credit-portal, url: 'http://127.0.0.1:9/'}\nstorage: {path: "+filepath.Join(dir, "ledger.db")+"}\nassessment: {period_start: 2026-01-01}\n")
	digests := map[string]bool{}
	for _, format := range []string{"html", "json"} {
		out := filepath.Join(dir, "october."+format)
		stdout, stderr, code := runCLI(t, "report", "--month", "2026-10", "--format", format, "--out", out, "--config.file", cfg)
		if code != 0 {
			t.Fatalf("report --format %s: exit %d %s", format, code, stderr)
		}
		digests[stdout[strings.Index(stdout, "SHA-256 ")+8:strings.Index(stdout, ")")]] = true
		verified, stderr, code := runCLI(t, "report", "verify", out)
		if code != 0 || !strings.Contains(verified, "report of 2026-10, data matches its digest") {
			t.Errorf("verify %s: exit %d %s %s", format, code, verified, stderr)
		}
		data, _ := os.ReadFile(out)
		os.WriteFile(out, []byte(strings.Replace(string(data), `"failed_probes":2`, `"failed_probes":1`, 1)), 0o644)
		if _, stderr, code := runCLI(t, "report", "verify", out); code != 1 || !strings.Contains(stderr, "does not match its digest") {
			t.Errorf("a tampered %s report: exit %d %s", format, code, stderr)
		}
	}
	if len(digests) != 1 {
		t.Errorf("the HTML and JSON of one frozen month have different digests: %v", digests)
	}
	csv, _, code := runCLI(t, "report", "--month", "2026-10", "--format", "csv", "--config.file", cfg)
	if code != 0 || !strings.Contains(csv, "credit-portal,2226,2223,99.91%") {
		t.Errorf("csv: exit %d\n%s", code, csv)
	}
	if _, stderr, code := runCLI(t, "report", "--month", "2026-13", "--config.file", cfg); code != 1 || !strings.Contains(stderr, `"2026-13" is not a month`) {
		t.Errorf("bad month: exit %d %s", code, stderr)
	}
}

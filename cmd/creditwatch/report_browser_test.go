package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditwatch/creditwatch/internal/ledger"
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
	if _, err := l.Annotate(context.Background(), ledger.Annotation{IncidentID: 1, Cause: ledger.CauseMaintenance,
		Note: "机房计划割接", By: "值班员李四", At: reporttest.At("2026-10-08 12:00")}); err != nil {
		t.Fatal(err)
	}
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
	incidents, scores, publicity, appendix := text("#incidents tbody"), text("#scores tbody"), text("#publicity tbody"), text("#incident-1")
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("img, script:not([type='application/json'])").length`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Error("the screenshot is not a PNG")
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
	for _, want := range []string{"计划维护（仍计入）", "机房计划割接（值班员李四，2026-10-08 12:00:00）", "解析地址 203.0.113.7", "HTTP/1.1 200 OK"} {
		if !strings.Contains(appendix, want) {
			t.Errorf("the incident appendix lacks %q:\n%s", want, appendix)
		}
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
	for _, want := range []string{"社会信用平台月度监测报告", "第1页/共", "<script>alert('信用')</script>", "<imgsrc=xonerror=alert(1)>濮阳市商务",
		"附录：事件证据与标注", "机房计划割接"} {
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
	key := filepath.Join(dir, "signing.key")
	if out, stderr, code := runCLI(t, "keys", "generate", "--out", key); code != 0 || !strings.Contains(out, "fingerprint SHA256:") {
		t.Fatalf("keys generate: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "keys", "generate", "--out", key); code == 0 || !strings.Contains(stderr, "file exists") {
		t.Errorf("keys generate over an existing key: exit %d %s", code, stderr)
	}
	cfg = writeFile(t, cfg, "portal:\n  targets:\n    - {name: credit-portal, url: 'http://127.0.0.1:9/'}\nstorage: {path: "+filepath.Join(dir, "ledger.db")+
		"}\nassessment: {period_start: 2026-01-01}\nreports: {signing_key_file: "+key+"}\n")
	statuses := []string{}
	for _, format := range []string{"html", "json", "print"} {
		out := filepath.Join(dir, "october."+format)
		stdout, stderr, code := runCLI(t, "report", "--month", "2026-10", "--format", format, "--out", out, "--config.file", cfg)
		if code != 0 {
			t.Fatalf("report --format %s: exit %d %s", format, code, stderr)
		}
		statuses = append(statuses, stdout)
		verified, stderr, code := runCLI(t, "report", "verify", "--pubkey", key+".pub", "--ledger", "--config.file", cfg, out)
		if code != 0 || !strings.Contains(verified, "version 1: its data matches its digest") || !strings.Contains(verified, "signature: good") ||
			!strings.Contains(verified, "ledger: the digest is that of the version the ledger holds") {
			t.Errorf("verify %s: exit %d %s %s", format, code, verified, stderr)
		}
		data, _ := os.ReadFile(out)
		os.WriteFile(out, []byte(strings.Replace(string(data), `"failed_probes":2`, `"failed_probes":1`, 1)), 0o644)
		if _, stderr, code := runCLI(t, "report", "verify", out); code != 1 || !strings.Contains(stderr, "does not match its digest") {
			t.Errorf("a tampered %s report: exit %d %s", format, code, stderr)
		}
	}
	if !strings.Contains(statuses[0], "frozen now (version 1") || !strings.Contains(statuses[1], "frozen on ") ||
		!strings.Contains(statuses[0], "signed with key SHA256:") {
		t.Errorf("the report command does not say what it froze:\n%s", strings.Join(statuses, ""))
	}
	recomputed, _, code := runCLI(t, "report", "--month", "2026-10", "--recompute", "--out", filepath.Join(dir, "v2.html"), "--config.file", cfg)
	if code != 0 || !strings.Contains(recomputed, "recomputed: version 2") || !strings.Contains(recomputed, "version 1 (digest") {
		t.Errorf("recompute: exit %d %s", code, recomputed)
	}
	if out, stderr, code := runCLI(t, "ledger", "verify", "--config.file", cfg); code != 0 || !strings.Contains(out, "chain of") {
		t.Errorf("ledger verify: exit %d %s %s", code, out, stderr)
	}
	if out, stderr, code := runCLI(t, "incident", "annotate", "1", "--cause", "monitor_error", "--note", "配置笔误", "--by", "王工",
		"--config.file", cfg); code != 0 || !strings.Contains(out, "incident 1 annotated (monitor_error) by 王工") {
		t.Errorf("incident annotate: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, "incident", "annotate", "99", "--cause", "other", "--note", "x", "--by", "y",
		"--config.file", cfg); code != 1 || !strings.Contains(stderr, "no incident 99 in the ledger") {
		t.Errorf("annotating a missing incident: exit %d %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "report", "--month", "2025-10", "--config.file", cfg); code != 1 || !strings.Contains(stderr, "before creditwatch first ran") {
		t.Errorf("a month before the ledger: exit %d %s", code, stderr)
	}
	csv, _, code := runCLI(t, "report", "--month", "2026-10", "--format", "csv", "--config.file", cfg)
	if code != 0 || !strings.Contains(csv, "credit-portal,2226,2223,2671200,2668800,2400,7200,99.91 %") {
		t.Errorf("csv: exit %d\n%s", code, csv)
	}
	if _, stderr, code := runCLI(t, "report", "--month", "2026-13", "--config.file", cfg); code != 1 || !strings.Contains(stderr, `"2026-13" is not a month`) {
		t.Errorf("bad month: exit %d %s", code, stderr)
	}
}

// A damaged ledger stops serve with the file named and the way back; a backup made while it
// ran restores it.
func TestLedgerBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "ledger.db")
	l, _ := reporttest.October(t, db)
	l.Close()
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), "storage: {path: "+db+"}\n")
	backup := filepath.Join(dir, "backup.db")
	if out, stderr, code := runCLI(t, "ledger", "backup", backup, "--config.file", cfg); code != 0 || !strings.Contains(out, "ledger backed up to "+backup) {
		t.Fatalf("ledger backup: exit %d %s %s", code, out, stderr)
	}
	if out, _, code := runCLI(t, "ledger", "check", "--config.file", cfg); code != 0 || !strings.Contains(out, "integrity check: ok; chain of") {
		t.Fatalf("ledger check: exit %d %s", code, out)
	}
	os.Remove(db + "-wal")
	os.Remove(db + "-shm")
	os.WriteFile(db, []byte(strings.Repeat("damaged ", 512)), 0o600)
	_, stderr, code := runCLI(t, "serve", "--config.file", cfg, "--web.listen-address", freeAddr(t))
	if code == 0 || !strings.Contains(stderr, db+" is not a SQLite database") || !strings.Contains(stderr, "creditwatch ledger restore --from BACKUP") {
		t.Fatalf("serve on a damaged ledger: exit %d %s", code, stderr)
	}
	if data, _ := os.ReadFile(db); !strings.HasPrefix(string(data), "damaged") {
		t.Error("the damaged ledger was replaced by a new one")
	}
	if out, stderr, code := runCLI(t, "ledger", "restore", "--from", backup, "--config.file", cfg); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("ledger restore: exit %d %s %s", code, out, stderr)
	}
	if out, _, code := runCLI(t, "report", "--month", "2026-10", "--format", "csv", "--config.file", cfg); code != 0 || !strings.Contains(out, "credit-portal,2226,2223") {
		t.Errorf("the restored ledger's October: exit %d %s", code, out)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/testutil"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// TestStatusPageInChromium opens the status page of a running creditwatch in headless
// Chromium: one target up, one down with an incident, an export directory with a rejected
// file, a penalty record overdue from a department with HTML in its name. It checks that
// every element of the page is in the rendered DOM, that no outside text became markup, and
// keeps a PNG screenshot beside the monthly report's under testdata/output/.
func TestStatusPageInChromium(t *testing.T) {
	chromium := testutil.RequireTool(t, "chromium")
	dir := t.TempDir()
	db := filepath.Join(dir, "ledger.db")
	hostile := `<img src=x onerror=alert(1)>市商务局`
	// The period starts on the record's decision day, so that it counts whatever today is.
	decided := clock.Day(time.Now()).AddDate(0, 0, -20)
	storeOverdueRecord(t, db, hostile, decided)
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	bad := writeFile(t, filepath.Join(inbox, "2026-11-20 处罚.csv"), "not,a,penalty,export\n1,2,3,4\n")
	old := time.Now().Add(-time.Minute)
	os.Chtimes(bad, old, old)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html><title>信用测试</title>信用</html>"))
	}))
	defer portal.Close()
	webAddr := freeAddr(t)
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
portal:
  targets:
    - {name: credit-portal, url: "%s/", interval: 1s, timeout: 900ms, expect: {body_contains: ["信用"]}}
    - {name: backup-portal, url: "http://%s/", interval: 1s, timeout: 900ms, scored: false, site: backup}
  incident: {open_after: 2, close_after: 2}
publicity:
  exports:
    - {name: penalties, kind: penalty, dir: %s, interval: 1s}
storage: {path: %s}
assessment: {city: 测试市, period_start: %s}
`, portal.URL, freeAddr(t), inbox, db, clock.Date(decided)))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	base := "http://" + webAddr
	eventually(t, 30*time.Second, "the backup portal's incident and the rejected file", func() bool {
		code, body, _ := httpGet(base + "/api/v1/status")
		var st struct {
			Targets []struct {
				Name, State  string
				OpenIncident *int64 `json:"open_incident"`
			}
			Imports struct {
				RejectedTotal int `json:"rejected_total"`
			}
		}
		if code != 200 || json.Unmarshal(body, &st) != nil || st.Imports.RejectedTotal != 1 || len(st.Targets) != 2 {
			return false
		}
		return st.Targets[0].State == "up" && st.Targets[1].State == "down" && st.Targets[1].OpenIncident != nil
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1200, 1400))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#targets")); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	count := func(sel string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil {
			t.Fatalf("counting %s: %v", sel, err)
		}
		return n
	}
	text := func(sel string) string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent).join("\n")`, sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	for sel, want := range map[string]int{
		"section.target":                       2,
		"svg.bar rect":                         180, // 90 days of each target
		"svg.spark":                            2,
		`[data-state="up"]`:                    1,
		`[data-state="down"]`:                  1,
		".uptime-24h":                          2,
		"#rejected-files tbody tr":             1,
		"#issue-overdue table.issues tbody tr": 1,
		`a[href="/publicity/issues.csv"]`:      1,
		"#target-incidents tbody tr":           1,
		// The backup portal is not assessed: its incident is no scored outage.
		"#outages tbody tr td.muted":            1,
		"#next-steps li[data-indicator]":        -1, // at least one, checked below
		"img, script, iframe":                   0,  // no outside text became markup
		`#next-steps a[href^="/incidents/"]`:    1,
		`section.target a[href^="/incidents/"]`: 1,
	} {
		got := count(sel)
		if want < 0 && got == 0 || want >= 0 && got != want {
			t.Errorf("%s: %d elements, want %d", sel, got, want)
		}
	}
	checks := map[string][]string{
		"[data-state]":               {"正常", "不可访问"},
		"#headline":                  {"可监测指标"},
		".uptime-24h":                {"100.00 %\n0.00 %"}, // the live run counts up to now, not to its last heartbeat
		"section.target":             {"近24小时", "近30天", "本考核周期", "证书到期", "最近探测", "连接"},
		"#sources":                   {"penalties", "行政处罚"},
		"#rejected-files":            {"2026-11-20 处罚.csv"},
		"#publicity-issues":          {hostile, "逾期未报"},
		"#next-steps":                {"立即补报逾期未报的 1 条记录", "恢复 backup-portal", "1 个导出文件被拒收"},
		"h1":                         {"测试市社会信用平台监测"},
		"body > p.meta:last-of-type": {"测试市创建第三批社会信用体系建设示范城市工作台账"},
	}
	for sel, wants := range checks {
		got := text(sel)
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("%s lacks %q:\n%s", sel, want, got)
			}
		}
	}
	if body := text("body"); strings.Contains(body, "濮阳") {
		t.Error("the page names 濮阳 though the city is 测试市")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n") {
		t.Errorf("the screenshot is not a PNG (%.8q)", png)
	}
	out := "testdata/output"
	os.MkdirAll(out, 0o755)
	if err := os.WriteFile(filepath.Join(out, "status.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	report(t, fmt.Sprintf("status page rendered by Chromium (%d bars, %d sparklines); screenshot kept at cmd/creditwatch/%s/status.png",
		count("svg.bar"), count("svg.spark"), out))
}

// storeOverdueRecord puts a penalty decided on a day and never reported into a new ledger.
func storeOverdueRecord(t *testing.T, db, department string, decided time.Time) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	deadline, err := workday.Default.AddWorkdays(decided, publicity.DefaultDeadlineWorkdays)
	if err != nil {
		deadline = decided.AddDate(0, 0, 10) // a year the built-in calendar lacks
	}
	rec := ledger.PublicityRecord{Kind: publicity.Penalty, ID: "测罚〔2026〕1号", Source: "penalties", UpdatedAt: time.Now().Add(-time.Hour),
		Assessment: publicity.Assessment{Department: department, DecidedOn: decided, Deadline: deadline, Compliant: true},
		Fields:     map[string]string{}}
	if err := l.StorePublicity(ctx, []ledger.PublicityRecord{rec}, nil); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reportCodes are ten valid codes (GB 32100); the simulator makes three of their reports
// defective.
var reportCodes = []string{"91410900MA45A0011B", "91410900MA45A002X3", "91410900MA45A00383", "91410900MA45A0046X", "91410900MA45A0054Q",
	"91410900MA45A0062K", "91410900MA45A0070E", "91410900MA45A0089B", "91410900MA45A00976", "91410900MA45A010XN"}

// TestCreditReportsOverTheSimulator: ten reports checked every second, three of them
// non-conforming (a section missing, another code's report, sections swapped): 4 − 3 = 1
// point for portal_report_conformance, each code counted once however often it is checked;
// the status page lists them with their reasons.
func TestCreditReportsOverTheSimulator(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), fmt.Sprintf(`
reports:
  defects: {%s: missing_section, %s: wrong_code, %s: swapped_order}
`, reportCodes[1], reportCodes[4], reportCodes[7])))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, fmt.Sprintf(`credit_reports:
  url_template: "http://%s/report?code={code}"
  codes: [%s]
  interval: 1s
  timeout: 900ms
`, simAddr, strings.Join(reportCodes, ", ")))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	eventually(t, 30*time.Second, "every report checked twice", func() bool {
		fams := scrape(webAddr)
		return value(fams, "creditwatch_report_checks_total", "result", "conforming")+
			value(fams, "creditwatch_report_checks_total", "result", "nonconforming") >= 20 &&
			value(fams, "creditwatch_indicator_points", "indicator", "portal_report_conformance") >= 0
	})
	fams := scrape(webAddr)
	for name, c := range map[string]struct{ got, want float64 }{
		"points":                 {value(fams, "creditwatch_indicator_points", "indicator", "portal_report_conformance"), 1},
		"non-conforming counted": {value(fams, "creditwatch_report_nonconforming_total"), 3},
		"fetch errors":           {value(fams, "creditwatch_report_checks_total", "result", "fetch_error"), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	if nc := value(fams, "creditwatch_report_checks_total", "result", "nonconforming"); nc < 6 {
		t.Errorf("non-conforming checks = %v, want at least 6 (three codes, checked at least twice)", nc)
	}
	_, body, _ := httpGet("http://" + webAddr + "/")
	for _, want := range []string{"企业信用报告检查", reportCodes[1], "缺少「信用承诺信息」部分", "与查询的" + reportCodes[4] + "不一致", "位置不符合标准顺序"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
}

// contentScenario scripts the home page: normal, one flaky defaced answer between normal
// ones, normal again, then a keyword injected for good.
const contentScenario = `
sequence:
  - {kind: ok, count: 4}
  - {kind: deface_keyword, count: 1}
  - {kind: ok, count: 4}
  - {kind: deface_keyword, count: 100000}
`

// TestDefacementOverTheSimulator: a single defaced answer between good ones never drops the
// security indicator; a keyword seen on two consecutive probes opens one security incident,
// scores 0 for security_incidents and raises the series the paging alert reads
// (creditwatch_defacement_signs > 0). A news list that changes every day never counts, and a
// stale 双公示 list is a content warning.
func TestDefacementOverTheSimulator(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), contentScenario))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, "")
	extra := fmt.Sprintf(`
    - {name: news, url: "http://%[1]s/xydt/", interval: 200ms, timeout: 150ms, jitter: 0s, freshness: {selector: "span.date", max_age_workdays: 3}}
    - {name: sgs, url: "http://%[1]s/sgs/", interval: 200ms, timeout: 150ms, jitter: 0s, freshness: {max_age_workdays: 10}}
  incident:`, simAddr)
	writeFile(t, cfg, strings.Replace(readFile(t, cfg), "\n  incident:", extra, 1))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	eventually(t, 20*time.Second, "the flaky answer and the good ones after it", func() bool {
		return stats(t, simAddr).Requests >= 8
	})
	fams := scrape(webAddr)
	if got := value(fams, "creditwatch_indicator_points", "indicator", "security_incidents"); got != 2 {
		t.Errorf("security_incidents after one flaky defaced answer = %v, want 2", got)
	}
	if got := value(fams, "creditwatch_security_incidents_total"); got != 0 {
		t.Errorf("security incidents after one flaky defaced answer = %v, want 0", got)
	}
	eventually(t, 20*time.Second, "the defacement to be confirmed", func() bool {
		return value(scrape(webAddr), "creditwatch_security_incidents_total") == 1
	})
	eventually(t, 10*time.Second, "the score card to follow", func() bool {
		return value(scrape(webAddr), "creditwatch_indicator_points", "indicator", "security_incidents") == 0
	})
	fams = scrape(webAddr)
	if got := value(fams, "creditwatch_defacement_signs", "target", "credit-portal", "rule", "keyword"); got < 1 {
		t.Errorf("creditwatch_defacement_signs{rule=keyword} = %v: the paging alert would not fire", got)
	}
	if got := value(fams, "creditwatch_defacement_signs", "target", "news", "rule", "structure_changed"); got != 0 {
		t.Errorf("the news list shows structure signs: %v", got)
	}
	if got := value(fams, "creditwatch_content_age_workdays", "target", "news"); got < 0 || got > 1 {
		t.Errorf("the news list's age = %v working days", got)
	}
	if got := value(fams, "creditwatch_content_age_workdays", "target", "sgs"); got <= 10 {
		t.Errorf("the stale list's age = %v working days, want more than 10", got)
	}
	time.Sleep(time.Second) // more probes of the defaced page: still one incident
	if got := value(scrape(webAddr), "creditwatch_security_incidents_total"); got != 1 {
		t.Errorf("security incidents = %v, want 1 (the lasting defacement once, the news list never)", got)
	}
	_, body, _ := httpGet("http://" + webAddr + "/")
	for _, want := range []string{"已确认篡改迹象：涉赌涉黄诈骗关键词", "信息安全事件", "澳门新葡京", "计入本周期", "栏目内容更新", "未及时更新"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
}

// TestRedesignAcceptedOverTheSimulator: a redesign seen twice opens an incident; after
// creditwatch baseline accept the same page opens none, the incident stops counting and
// the ledger's chain holds.
func TestRedesignAcceptedOverTheSimulator(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), `
sequence:
  - {kind: ok, count: 4}
  - {kind: redesign, count: 100000}
`))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, "")
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 20*time.Second, "the redesign to count", func() bool {
		fams := scrape(webAddr)
		return value(fams, "creditwatch_security_incidents_total") == 1 &&
			value(fams, "creditwatch_indicator_points", "indicator", "security_incidents") == 0
	})
	out, err := exec.Command(binary, "baseline", "accept", "credit-portal", "--by", "李四", "--config.file", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "accepted by 李四") {
		t.Fatalf("baseline accept: %v\n%s", err, out)
	}
	eventually(t, 30*time.Second, "the accepted redesign to stop counting", func() bool {
		fams := scrape(webAddr)
		return value(fams, "creditwatch_indicator_points", "indicator", "security_incidents") == 2 &&
			value(fams, "creditwatch_defacement_signs", "target", "credit-portal", "rule", "structure_changed") == 0
	})
	time.Sleep(time.Second) // more probes of the redesigned page
	if got := value(scrape(webAddr), "creditwatch_security_incidents_total"); got != 1 {
		t.Errorf("security incidents after the acceptance = %v, want still 1", got)
	}
	out, err = exec.Command(binary, "ledger", "verify", "--config.file", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 baseline") && !strings.Contains(string(out), "2 baseline") {
		t.Errorf("ledger verify: %v\n%s", err, out)
	}
}

// TestSecurityRecordCommand: an incident the office records counts like a detected one, in
// the period of its date; a date after today is refused.
func TestSecurityRecordCommand(t *testing.T) {
	dir := t.TempDir()
	simAddr := freeAddr(t)
	start(t, "sim", "--listen", simAddr)
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, "")
	cw := start(t, "serve", "--config.file", cfg, "--web.listen-address", freeAddr(t))
	eventually(t, 10*time.Second, "a probe", func() bool { return fileExists(filepath.Join(dir, "ledger.db")) })
	time.Sleep(time.Second)
	cw.stop(t)
	score := func() string {
		out, err := exec.Command(binary, "score", "--config.file", cfg, "--format", "json").CombinedOutput()
		if err != nil {
			t.Fatalf("score: %v\n%s", err, out)
		}
		return string(out)
	}
	if s := score(); !strings.Contains(s, `"id": "security_incidents"`) {
		t.Fatalf("score lacks security_incidents:\n%s", s)
	}
	today := time.Now().Format(time.DateOnly)
	tomorrow := time.Now().AddDate(0, 0, 2).Format(time.DateOnly)
	out, err := exec.Command(binary, "security", "record", "--date", tomorrow, "--ref", "R-1", "--kind", "notified", "--note", "n",
		"--by", "张三", "--config.file", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "after today") {
		t.Errorf("a date after today: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "security", "record", "--date", today, "--ref", "豫网信通〔2026〕5号", "--kind", "notified",
		"--note", "共享平台弱口令被通报", "--by", "张三", "--config.file", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "recorded by 张三") {
		t.Fatalf("security record: %v\n%s", err, out)
	}
	if s := score(); !strings.Contains(securityRow(s), `"points": 0`) {
		t.Errorf("security_incidents after the record:\n%s", securityRow(s))
	}
}

// securityRow is the JSON of the security_incidents row of score's output.
func securityRow(score string) string {
	i := strings.Index(score, `"id": "security_incidents"`)
	if i < 0 {
		return ""
	}
	end := strings.Index(score[i:], "}")
	return score[i : i+end]
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

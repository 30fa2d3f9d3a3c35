package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/grafana"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/testutil"
)

// outageAt and outageFor script the portal of TestAlertingStack: down (connection refused)
// 15 s after the simulator starts, for 20 s.
const (
	outageAt  = 15 * time.Second
	outageFor = 20 * time.Second
)

const stackScenario = `
faults:
  - {kind: down, at: 15s, for: 20s}
platform:
  token: t0k
  penalties: 200
  licences: 80
  faulty_ratio: 0.05
  unreported_ratio: 0.02
  broken_pages: [3]
  cases:
    objections: 10
    objection_workdays: [3, 6]
    valid_every: 5
    open_objections: [1, 4]
    repairs: 6
    overdue_repairs: 1
    open_repairs: [2]
`

// notification is what Alertmanager posts to a webhook.
type notification struct {
	Status string `json:"status"`
	Alerts []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"alerts"`
}

type webhook struct {
	mu   sync.Mutex
	seen []struct {
		at time.Time
		n  notification
	}
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var n notification
	json.NewDecoder(r.Body).Decode(&n)
	w.mu.Lock()
	w.seen = append(w.seen, struct {
		at time.Time
		n  notification
	}{time.Now(), n})
	w.mu.Unlock()
}

// first returns when a notification of alertname with status was received.
func (w *webhook) first(alertname, status string) (time.Time, bool) {
	at, _, ok := w.firstAlert(alertname, status)
	return at, ok
}

// firstAlert returns the first notified alert of alertname with status, and its annotations.
func (w *webhook) firstAlert(alertname, status string) (time.Time, map[string]string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.seen {
		for _, a := range s.n.Alerts {
			if a.Labels["alertname"] == alertname && a.Status == status {
				return s.at, a.Annotations, true
			}
		}
	}
	return time.Time{}, nil, false
}

// alertmanagerConfig is the shipped configuration with its receivers pointed at the test's
// webhook, its WeCom receivers removed (no traffic leaves the machine) and short timers.
func alertmanagerConfig(t *testing.T, hook string) []byte {
	t.Helper()
	data, err := os.ReadFile("../../deploy/alertmanager/alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	delete(cfg, "global")
	for _, r := range cfg["receivers"].([]any) {
		rec := r.(map[string]any)
		delete(rec, "wechat_configs")
		rec["webhook_configs"] = []any{map[string]any{"url": hook, "send_resolved": true}}
	}
	route := cfg["route"].(map[string]any)
	route["group_wait"], route["group_interval"] = "1s", "1s"
	for _, r := range route["routes"].([]any) {
		sub := r.(map[string]any)
		sub["group_wait"], sub["group_interval"] = "1s", "1s"
		delete(sub, "active_time_intervals") // office hours must not hide the test's alerts
		delete(sub, "mute_time_intervals")
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAlertingStack runs creditwatch against the simulator under a real Prometheus and
// Alertmanager: the portal goes down, the on-call webhook is paged, the portal comes back
// and the resolved notification arrives. It also evaluates every dashboard query.
func TestAlertingStack(t *testing.T) {
	prometheusBin := testutil.RequireTool(t, "prometheus")
	alertmanagerBin := testutil.RequireTool(t, "prometheus-alertmanager")
	dir := t.TempDir()
	hooks := &webhook{}
	hookSrv := httptest.NewServer(hooks)
	defer hookSrv.Close()

	simAddr, tlsAddr, cwAddr, promAddr, amAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	simStart := time.Now()
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), stackScenario))
	start(t, "sim", "--listen", tlsAddr, "--tls")
	eventually(t, 10*time.Second, "the simulators", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })

	writeFile(t, filepath.Join(dir, "token"), "t0k")
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
portal:
  targets:
    - {name: credit-portal, url: "http://%s/", interval: 1s, timeout: 500ms, jitter: 0s, expect: {body_contains: ["信用"]}}
    - {name: mirror, url: "https://%s/", interval: 1s, timeout: 500ms, jitter: 0s, tls: {insecure_skip_verify: true}}
    - {name: news, url: "https://%s/xydt/", interval: 1s, timeout: 500ms, jitter: 0s, tls: {insecure_skip_verify: true},
       freshness: {selector: "span.date"}}
  incident: {open_after: 2, close_after: 2}
platform: {url: "http://%s", token_file: %s, interval: 1s, timeout: 1s}
credit_reports: {url_template: "http://%s/report?code={code}", codes: [91410900MA45A0011B, 91410900MA45A002X3], interval: 2s, timeout: 1s}
storage: {path: %s}
`, simAddr, tlsAddr, tlsAddr, simAddr, filepath.Join(dir, "token"), simAddr, filepath.Join(dir, "ledger.db")))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", cwAddr, "--vantage", "test-vantage",
		"--web.external-url", "http://"+cwAddr+"/")

	amCfg := filepath.Join(dir, "alertmanager.yml")
	os.WriteFile(amCfg, alertmanagerConfig(t, hookSrv.URL+"/oncall"), 0o644)
	am := exec.Command(alertmanagerBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=")
	runBackground(t, am, "alertmanager")

	rules, _ := filepath.Abs("../../alerts/creditwatch.rules.yml")
	promCfg := writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%s]
alerting:
  alertmanagers: [{static_configs: [{targets: ["%s"]}]}]
scrape_configs:
  - job_name: creditwatch
    static_configs: [{targets: ["%s"]}]
`, rules, amAddr, cwAddr))
	prom := exec.Command(prometheusBin, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr)
	runBackground(t, prom, "prometheus")
	eventually(t, 30*time.Second, "Prometheus to scrape creditwatch", func() bool {
		return promQuery(t, promAddr, `up{job="creditwatch"} == 1`) > 0
	})

	outage := simStart.Add(outageAt)
	var paged time.Time
	eventually(t, 60*time.Second, "the portal-unreachable page", func() bool {
		var ok bool
		paged, ok = hooks.first("CreditPortalUnreachable", "firing")
		return ok
	})
	checkPage(t, hooks, simAddr, cwAddr, outage, paged)
	delay := paged.Sub(outage)
	report(t, fmt.Sprintf("portal-unreachable alert delivered %.1f s after the outage began (probe 1 s, open_after 2, scrape and evaluation 1 s, group_wait 1 s)", delay.Seconds()))
	if delay > 2*time.Minute || delay < 0 {
		t.Errorf("delay from outage to page = %v, target under 2 minutes", delay)
	}
	eventually(t, 60*time.Second, "the resolved notification", func() bool {
		_, ok := hooks.first("CreditPortalUnreachable", "resolved")
		return ok
	})
	resolved, _ := hooks.first("CreditPortalUnreachable", "resolved")
	report(t, fmt.Sprintf("resolved notification delivered %.1f s after the portal came back", resolved.Sub(outage.Add(outageFor)).Seconds()))

	// creditwatch notify test goes through the same Alertmanager to the on-call receiver.
	sent := time.Now()
	out, stderr, code := runCLI(t, "notify", "test", "--alertmanager.url", "http://"+amAddr)
	if code != 0 || !strings.Contains(out, "http://"+amAddr+": accepted; routed to oncall\n") {
		t.Errorf("notify test: exit %d\n%s%s", code, out, stderr)
	}
	eventually(t, 30*time.Second, "the test notification", func() bool {
		_, ok := hooks.first("CreditwatchNotifyTest", "firing")
		return ok
	})
	at, ann, _ := hooks.firstAlert("CreditwatchNotifyTest", "firing")
	if ann["summary"] != "通知测试：creditwatch 告警通路 / Notification test from creditwatch" || ann["points"] != "不扣分（测试告警）" {
		t.Errorf("test notification annotations = %v", ann)
	}
	report(t, fmt.Sprintf("creditwatch notify test: accepted by Alertmanager, on-call webhook notified %.1f s later", at.Sub(sent).Seconds()))
	// An address where no Alertmanager answers is refused with exit code 3 and a way out.
	out, _, code = runCLI(t, "notify", "test", "--alertmanager.url", "http://"+freeAddr(t))
	if code != 3 || !strings.Contains(out, "NOT accepted: cannot reach Alertmanager") {
		t.Errorf("notify test without Alertmanager: exit %d\n%s", code, out)
	}

	// Every dashboard query is valid PromQL and returns series from this stack.
	time.Sleep(2 * time.Second)
	files, _ := filepath.Glob("../../grafana/dashboards/*.json")
	vars := strings.NewReplacer("$job", ".*", "$vantage", ".*", "$target", ".*", "$__rate_interval", "1m", "$__range", "1h", "$__interval", "1h")
	checked := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		exprs, err := grafana.Exprs(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range exprs {
			checked++
			if n := promQuery(t, promAddr, vars.Replace(e)); n == 0 {
				t.Errorf("%s: %q returns no series", filepath.Base(f), e)
			}
		}
	}
	report(t, fmt.Sprintf("%d dashboard queries evaluated against Prometheus, each returning series", checked))
}

// checkPage checks what the on-call engineer reads in the page: the portal's URL, the start
// of the incident in Beijing time, the outcome class and the points in Chinese, and links to
// the status page and to the runbook's section, which creditwatch serves.
func checkPage(t *testing.T, hooks *webhook, simAddr, cwAddr string, outage, paged time.Time) {
	t.Helper()
	_, ann, _ := hooks.firstAlert("CreditPortalUnreachable", "firing")
	for k, want := range map[string]string{
		"summary":     "信用门户网站 credit-portal 不可访问 / Credit portal credit-portal unreachable",
		"target_url":  "http://" + simAddr + "/",
		"outcome":     "连接失败（connect_error）",
		"points":      "0.5 分（台账五(四)1 信用门户网站可访问性，满分 2 分）",
		"status_url":  "http://" + cwAddr + "/targets/credit-portal",
		"runbook_url": "http://" + cwAddr + "/runbooks/#creditportalunreachable",
	} {
		if ann[k] != want {
			t.Errorf("page %s = %q, want %q", k, ann[k], want)
		}
	}
	started, err := time.ParseInLocation("2006-01-02 15:04:05", ann["incident_start"], clock.Shanghai)
	if err != nil || started.Before(outage.Add(-2*time.Second)) || started.After(paged) {
		t.Errorf("page incident_start = %q (%v), want Beijing time between the outage (%v) and the page (%v)",
			ann["incident_start"], err, outage.In(clock.Shanghai), paged.In(clock.Shanghai))
	}
	if want := "信用门户网站 credit-portal 自 " + ann["incident_start"] + "（北京时间）起不可访问"; !strings.HasPrefix(ann["description"], want) {
		t.Errorf("page description %q does not start with %q", ann["description"], want)
	}
	// The status link opens the page of the portal at fault, with the incident the page is about.
	if code, body, err := httpGet(ann["status_url"]); err != nil || code != 200 || !strings.Contains(string(body), "credit-portal") || !strings.Contains(string(body), "连接失败") {
		t.Errorf("the status link %s: HTTP %d, %v; names the target and the outcome: %t", ann["status_url"], code, err,
			strings.Contains(string(body), "credit-portal") && strings.Contains(string(body), "连接失败"))
	}
	code, body, err := httpGet(strings.TrimSuffix(ann["runbook_url"], "#creditportalunreachable"))
	if err != nil || code != 200 || !strings.Contains(string(body), `<h2 id="creditportalunreachable">CreditPortalUnreachable</h2>`) {
		t.Errorf("the runbook link: HTTP %d, %v; section found %t", code, err, strings.Contains(string(body), `id="creditportalunreachable"`))
	}
}

// promQuery runs an instant query and returns the number of series; invalid PromQL fails
// the test.
func promQuery(t *testing.T, addr, q string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	json.Unmarshal(body, &r)
	if r.Status == "error" {
		t.Errorf("query %q: %s", q, r.Error)
	}
	return len(r.Data.Result)
}

func runBackground(t *testing.T, cmd *exec.Cmd, name string) {
	t.Helper()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, tail(out.String(), 3000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// report logs a measurement and appends it to $CREDITWATCH_TEST_REPORT, which the test
// command prints at the end.
func report(t *testing.T, line string) {
	t.Helper()
	t.Log(line)
	if p := os.Getenv("CREDITWATCH_TEST_REPORT"); p != "" {
		f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/testutil"
)

// outages is the scripted portal of TestIncidentsMatchTheTruth, one step per probe:
// a single 503 blip (a risk event, not an incident), a three-probe refusal, a two-probe
// hang past the timeout, and a two-probe WAF 412: three incidents, one risk event.
const outages = `
sequence:
  - {kind: ok, count: 3}
  - {kind: status, status: 503, count: 1}
  - {kind: ok, count: 3}
  - {kind: down, count: 3}
  - {kind: ok, count: 3}
  - {kind: hang, count: 2}
  - {kind: ok, count: 3}
  - {kind: challenge_412, count: 2}
  - {kind: ok, count: 3}
`

const scriptedRequests = 23

func TestIncidentsMatchTheTruth(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "outages.yml"), outages))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, "")
	cw := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	eventually(t, 30*time.Second, "the script to play out and the last incident to close", func() bool {
		fams := scrape(webAddr)
		return stats(t, simAddr).Requests >= scriptedRequests+2 && fams != nil &&
			value(fams, "creditwatch_portal_incident_open", "target", "credit-portal") == 0
	})
	fams := scrape(webAddr)
	checks := map[string]struct{ got, want float64 }{
		"incidents":             {value(fams, "creditwatch_portal_incidents_total", "target", "credit-portal"), 3},
		"risk events":           {value(fams, "creditwatch_portal_risk_events_total", "target", "credit-portal"), 1},
		"points":                {value(fams, "creditwatch_indicator_points", "indicator", "portal_accessibility"), 2 - 0.5*3},
		"max points":            {value(fams, "creditwatch_indicator_max_points", "indicator", "portal_accessibility"), 2},
		"timeouts":              {value(fams, "creditwatch_probe_outcome_total", "target", "credit-portal", "outcome", "timeout"), 2},
		"challenges":            {value(fams, "creditwatch_probe_outcome_total", "target", "credit-portal", "outcome", "challenged"), 2},
		"refused":               {value(fams, "creditwatch_probe_outcome_total", "target", "credit-portal", "outcome", "connect_error"), 3},
		"http status":           {value(fams, "creditwatch_probe_outcome_total", "target", "credit-portal", "outcome", "http_status"), 1},
		"collector success":     {value(fams, "creditwatch_collector_success", "collector", "portal", "target", "credit-portal"), 1},
		"config reload success": {value(fams, "creditwatch_config_last_reload_successful"), 1},
	}
	for name, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	compareGolden(t, "testdata/metrics.golden", exposition(fams))
	cw.stop(t)

	// The score command reads the same ledger and agrees.
	out, err := exec.Command(binary, "score", "--config.file", cfg, "--format", "json").Output()
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	var card struct {
		Indicators []struct {
			ID     string   `json:"id"`
			Points *float64 `json:"points"`
		} `json:"indicators"`
		Outages []struct {
			Targets  []string `json:"targets"`
			Vantages []string `json:"vantages"`
			End      *string  `json:"end"`
		} `json:"outages"`
	}
	if err := json.Unmarshal(out, &card); err != nil {
		t.Fatalf("score output: %v\n%s", err, out)
	}
	if len(card.Outages) != 3 {
		t.Errorf("score lists %d scored outages, want 3", len(card.Outages))
	}
	for _, o := range card.Outages {
		if strings.Join(o.Vantages, ",") != "local" || strings.Join(o.Targets, ",") != "credit-portal" || o.End == nil {
			t.Errorf("scored outage %+v, want credit-portal seen by vantage local, ended", o)
		}
	}
	for _, ind := range card.Indicators {
		if ind.ID == "portal_accessibility" && (ind.Points == nil || *ind.Points != 0.5) {
			t.Errorf("score command gives portal_accessibility %v, want 0.5", fmtPoints(ind.Points))
		}
	}
}

func TestSIGKILLDuringIncident(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	// Two good probes, then 40 refused (8 s at 200 ms), then good again.
	script := "sequence:\n  - {kind: ok, count: 2}\n  - {kind: down, count: 40}\n"
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "s.yml"), script))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	cfg := writeConfig(t, dir, simAddr, "")
	first := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	var reported float64
	eventually(t, 20*time.Second, "an open incident", func() bool {
		fams := scrape(webAddr)
		reported = sum(fams, "creditwatch_probe_outcome_total")
		return value(fams, "creditwatch_portal_incident_open", "target", "credit-portal") == 1 && reported >= 6
	})
	first.kill(t)
	served := stats(t, simAddr).Requests

	l, err := ledger.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := l.CountProbes(context.Background(), "credit-portal")
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	if float64(recorded) < reported {
		t.Errorf("ledger has %d probes after SIGKILL; /metrics had already reported %v", recorded, reported)
	}
	// At most the one probe in flight at the kill may be missing.
	if recorded < served-1 {
		t.Errorf("ledger has %d probes; the portal had answered %d before the kill", recorded, served)
	}

	second := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 10*time.Second, "the restarted service", func() bool { return scrape(webAddr) != nil })
	fams := scrape(webAddr)
	if v := value(fams, "creditwatch_portal_incident_open", "target", "credit-portal"); v != 1 {
		t.Errorf("after restart incident_open = %v, want the incident still open", v)
	}
	if v := value(fams, "creditwatch_portal_incidents_total", "target", "credit-portal"); v != 1 {
		t.Errorf("after restart incidents_total = %v, want 1", v)
	}
	if v := sum(fams, "creditwatch_probe_outcome_total"); v < float64(recorded) {
		t.Errorf("after restart the outcome counters restart at %v, below the %d probes in the ledger", v, recorded)
	}
	eventually(t, 30*time.Second, "the portal to recover and the incident to close", func() bool {
		return value(scrape(webAddr), "creditwatch_portal_incident_open", "target", "credit-portal") == 0
	})
	fams = scrape(webAddr)
	if v := value(fams, "creditwatch_portal_incidents_total", "target", "credit-portal"); v != 1 {
		t.Errorf("incidents_total = %v, want the one incident counted once", v)
	}
	if v := value(fams, "creditwatch_indicator_points", "indicator", "portal_accessibility"); v != 1.5 {
		t.Errorf("portal_accessibility = %v, want 1.5", v)
	}
	second.stop(t)

	l, err = ledger.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	incs, _ := l.Incidents(context.Background(), time.Time{}, time.Time{}, false)
	if len(incs) != 1 {
		t.Fatalf("ledger incidents = %+v", incs)
	}
	if inc := incs[0]; inc.Open() || inc.FailedProbes < 39 || inc.FailedProbes > 40 {
		t.Errorf("incident = %+v, want closed with the 40 refused probes (one may have died with the process)", inc)
	}
}

// TestPromtoolCheckMetrics lints /metrics of a creditwatch watching every kind of source.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), casesScenario))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	writeFile(t, filepath.Join(dir, "token"), "t0k")
	cfg := writeConfig(t, dir, simAddr, fmt.Sprintf("platform: {url: 'http://%s', token_file: '%s', interval: 1s, timeout: 1s}\n",
		simAddr, filepath.Join(dir, "token")))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 20*time.Second, "a probe and a platform poll", func() bool {
		fams := scrape(webAddr)
		return value(fams, "creditwatch_probe_success", "target", "credit-portal") == 1 &&
			fams["creditwatch_objection_handling_workdays"] != nil && fams["creditwatch_publicity_records"] != nil
	})
	_, body, err := httpGet("http://" + webAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

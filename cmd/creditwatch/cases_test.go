package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

const casesScenario = `
platform:
  token: t0k
  penalties: 300
  licences: 100
  faulty_ratio: 0.05
  unreported_ratio: 0.02
  cases:
    objections: 20
    objection_workdays: [3, 4, 5, 6, 8]
    valid_every: 10
    open_objections: [1, 4]
    repairs: 12
    overdue_repairs: 1
    noncompliant_repairs: 1
    late_syncs: 1
    open_repairs: [2]
    reopen_at: 2500ms
`

// TestCasesOverTheSimulator polls objection and repair cases whose outcome the scenario
// fixes, and checks the five indicators' points:
//   - 20 objections handled in 3, 4, 5, 6, 8 working days (cycled): mean 5.2, so
//     objection_handling_time = 2 − 0.4 × ceil(0.2) = 1.6;
//   - 2 upheld objections (every 10th) over the publicity records published in the period;
//   - 12 repairs, 1 decided on the 4th working day: repair_timeliness = 1;
//   - 1 approved a day before the minimum period: repair_compliance = 0.5;
//   - 1 result synced the next day: repair_sync = 0.
//
// The first objection is served open, then closed: it must count once.
func TestCasesOverTheSimulator(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), casesScenario))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	writeFile(t, filepath.Join(dir, "token"), "t0k")
	// A yearly period that began 300 days ago, Shanghai time (it rolls over on the
	// anniversary of this date).
	periodStart := clock.Date(clock.Day(time.Now()).AddDate(0, 0, -300))
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
platform: {url: "http://%s", token_file: %s, interval: 1s, timeout: 1s}
storage: {path: %s}
assessment: {period_start: %s}
`, simAddr, filepath.Join(dir, "token"), filepath.Join(dir, "ledger.db"), periodStart))
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	eventually(t, 20*time.Second, "the reopened objection to be closed", func() bool {
		return value(scrape(webAddr), "creditwatch_objection_cases", "state", "closed") == 20
	})
	time.Sleep(1200 * time.Millisecond)
	fams := scrape(webAddr)

	var tr truth
	_, body, _ := httpGet("http://" + simAddr + "/-/sim/platform/truth")
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	published := 0
	for _, k := range tr {
		for _, d := range k.Departments {
			published += d.Reported
		}
	}
	share := 2 / float64(published)
	wantShare := math.Max(0, math.Min(2, 2*(5e-5-share)/4e-5))
	for id, want := range map[string]float64{
		"objection_handling_time":   1.6,
		"repair_timeliness":         1,
		"repair_compliance":         0.5,
		"repair_sync":               0,
		"publicity_objection_share": wantShare,
	} {
		if got := value(fams, "creditwatch_indicator_points", "indicator", id); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", id, got, want)
		}
	}
	for labels, want := range map[[2]string]float64{
		{"creditwatch_objection_open", "1"}: 1, {"creditwatch_objection_open", "4"}: 1, {"creditwatch_objection_open", "5+"}: 0,
	} {
		if got := value(fams, labels[0], "age_workdays", labels[1]); got != want {
			t.Errorf("%s{age_workdays=%q} = %v, want %v", labels[0], labels[1], got, want)
		}
	}
	for state, want := range map[string]float64{"on_time": 11, "overdue": 1, "non_compliant": 1, "due_soon": 1} {
		if got := value(fams, "creditwatch_repair_cases", "state", state); got != want {
			t.Errorf("repair_cases{state=%q} = %v, want %v", state, got, want)
		}
	}
	h := fams["creditwatch_objection_handling_workdays"]
	if h == nil || h.Metric[0].Histogram.GetSampleCount() != 20 || h.Metric[0].Histogram.GetSampleSum() != 104 {
		t.Errorf("handling histogram = %v, want 20 objections summing to 104 working days", h)
	}
}

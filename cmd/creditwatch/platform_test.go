package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

const platformScenario = `
platform:
  token: s3cret-token
  penalties: 1500
  licences: 700
  faulty_ratio: 0.05
  late_ratio: 0.03
  unreported_ratio: 0.02
  duplicate_every: 97
  publish_every: 400ms
  publish_count: 150
  correct_every: 3
  correct_at: 3s
  broken_pages: [4]
`

type truth map[string]struct {
	Published   int
	Departments map[string]struct{ Total, Due, Reported, Compliant, Timely int }
	Codes       struct{ Distinct, Invalid, Duplicated int }
	IDs         []string
}

// TestPlatformPollingAcrossRestarts polls the simulated platform while it publishes records
// gradually, corrects some and breaks one page; creditwatch is killed mid-way and restarted.
// At the end its metrics and ledger hold exactly what the simulator says it served.
func TestPlatformPollingAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), platformScenario))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	writeFile(t, filepath.Join(dir, "token"), "s3cret-token\n")
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
platform:
  url: http://%s
  token_file: %s
  interval: 1s
  timeout: 1s
  page_size: 100
storage:
  path: %s
`, simAddr, filepath.Join(dir, "token"), filepath.Join(dir, "ledger.db")))

	first := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 20*time.Second, "some records", func() bool {
		return value(scrape(webAddr), "creditwatch_source_records_received_total", "source", "platform", "kind", "penalty") > 300
	})
	first.kill(t)
	time.Sleep(500 * time.Millisecond)
	start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)

	var tr truth
	eventually(t, 40*time.Second, "every record and correction to be served and polled", func() bool {
		_, body, err := httpGet("http://" + simAddr + "/-/sim/platform/truth?ids=1")
		if err != nil || json.Unmarshal(body, &tr) != nil || tr["penalty"].Published < 1500 || tr["licence"].Published < 700 {
			return false
		}
		fams := scrape(webAddr)
		return value(fams, "creditwatch_uscc_codes", "state", "invalid") == float64(tr["penalty"].Codes.Invalid) &&
			sum(fams, "creditwatch_publicity_records") > 0 &&
			value(fams, "creditwatch_publicity_records", "kind", "penalty", "department", "濮阳市商务局", "state", "compliant") ==
				float64(tr["penalty"].Departments["濮阳市商务局"].Compliant)
	})
	time.Sleep(1500 * time.Millisecond) // one more poll after the last change
	fams := scrape(webAddr)
	for kind, k := range tr {
		for dept, want := range k.Departments {
			for state, n := range map[string]int{"due": want.Due, "reported": want.Reported, "compliant": want.Compliant, "timely": want.Timely} {
				if got := value(fams, "creditwatch_publicity_records", "kind", kind, "department", dept, "state", state); got != float64(n) {
					t.Errorf("%s %s %s = %v, simulator served %d", kind, dept, state, got, n)
				}
			}
		}
	}
	c := tr["penalty"].Codes
	for state, n := range map[string]int{"distinct": c.Distinct, "invalid": c.Invalid, "duplicated": c.Duplicated} {
		if got := value(fams, "creditwatch_uscc_codes", "state", state); got != float64(n) {
			t.Errorf("uscc codes %s = %v, simulator served %d", state, got, n)
		}
	}
	// The broken page may fall in either process's life; counters start again with a process.
	if v := value(fams, "creditwatch_source_errors_total", "source", "platform", "reason", "bad_json"); v < 1 &&
		!strings.Contains(first.stderr.String(), `"reason": "bad_json"`) {
		t.Errorf("the broken page was neither counted nor logged: bad_json = %v", v)
	}
	if v := value(fams, "creditwatch_indicator_gate_pass", "indicator", "publicity_rates"); v != 0 {
		t.Errorf("publicity_rates gate = %v with faulty records", v)
	}

	// The ledger holds exactly the served records, each once.
	l, err := ledger.Open(context.Background(), filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n, _ := l.CountPublicity(context.Background()); n != 2200 {
		t.Errorf("ledger holds %d publicity records, the simulator served 2200", n)
	}
	ids, err := l.PublicityIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{}, tr["penalty"].IDs...), tr["licence"].IDs...)
	sort.Strings(want)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("stored ids differ from served ids (%d vs %d)", len(ids), len(want))
	}
	if t.Failed() {
		b, _ := os.ReadFile(filepath.Join(dir, "cw.yml"))
		t.Logf("config:\n%s", b)
	}
}

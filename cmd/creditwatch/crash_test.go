package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

// crashScenario: the portal is up, down for 25 probes, up, down for 25, up (by request
// number, so the time creditwatch is dead does not move it on); the platform publishes
// records gradually and corrects some of them.
const crashScenario = `
sequence:
  - {kind: ok, count: 30}
  - {kind: down, count: 25}
  - {kind: ok, count: 30}
  - {kind: down, count: 25}
  - {kind: ok, count: 40}
platform:
  token: crash-token
  penalties: 600
  licences: 300
  faulty_ratio: 0.05
  publish_every: 300ms
  publish_count: 60
  correct_every: 5
  correct_at: 4s
`

// exportCSV is an export of n penalties whose decision numbers start with prefix.
func exportCSV(t *testing.T, prefix string, n int) []byte {
	t.Helper()
	good, err := os.ReadFile("../../internal/auditfile/testdata/penalty.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(good), "\n", 3)
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for i := 0; i < n; i++ {
		b.WriteString(strings.Replace(lines[1], "濮环罚〔2026〕101号", fmt.Sprintf("濮环罚〔2026〕%s%05d号", prefix, i), 1) + "\n")
	}
	return []byte(b.String())
}

// TestCrashesLoseNothing kills serve with SIGKILL at random moments, 24 times, while it
// probes a portal going down and up, imports eight exported files and polls the platform,
// restarting it each time. After each kill the ledger holds every probe /metrics had
// shown, and each file whole or not at all; at the end it holds exactly the scenario's
// two incidents, every probe the portal answered but the few in flight at the kills, and
// exactly the records the platform served.
func TestCrashesLoseNothing(t *testing.T) {
	const kills = 24
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rnd := rand.New(rand.NewPCG(seed, 7))
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), crashScenario))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	writeFile(t, filepath.Join(dir, "token"), "crash-token\n")
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	cfg := writeConfig(t, dir, simAddr, fmt.Sprintf(`platform:
  url: http://%s
  token_file: %s
  interval: 1s
  timeout: 1s
  page_size: 50
publicity:
  exports:
    - {name: env-bureau, kind: penalty, dir: %s, interval: 1s}
`, simAddr, filepath.Join(dir, "token"), inbox))
	// A file is dropped every third round: kills land in each one's import.
	files := map[string]int{}
	for i, prefix := range strings.Split("ABCDEFGH", "") {
		files[prefix] = 2000 + 500*(i%3)
	}
	drop := func(prefix string) {
		p := filepath.Join(inbox, prefix+".csv")
		if err := os.WriteFile(p, exportCSV(t, prefix, files[prefix]), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Minute) // settled
		os.Chtimes(p, old, old)
	}
	drop("A")

	ctx := context.Background()
	// What the kills hit, for the log: an open incident, a file being imported.
	var duringIncident, duringImport int
	check := func(round int, acknowledged float64) {
		t.Helper()
		l, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
		if err != nil {
			t.Fatalf("kill %d: the ledger cannot be opened: %v", round, err)
		}
		defer l.Close()
		probes, err := l.CountProbes(ctx, "credit-portal")
		if err != nil {
			t.Fatal(err)
		}
		if float64(probes) < acknowledged {
			t.Errorf("kill %d: the ledger holds %d probes; /metrics had shown %v before the kill", round, probes, acknowledged)
		}
		ids, err := l.PublicityIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := l.Files(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if open, _ := l.Incidents(ctx, time.Time{}, time.Time{}, true); len(open) > 0 {
			duringIncident++
		}
		for _, f := range fs {
			if f.State == "staging" || f.State == "publishing" {
				duringImport++
			}
		}
		half := false
		for prefix, n := range files {
			got := 0
			for _, id := range ids {
				if strings.HasPrefix(id, "濮环罚〔2026〕"+prefix) {
					got++
				}
			}
			state := ""
			for _, f := range fs {
				if f.Name == prefix+".csv" {
					state = f.State
				}
			}
			switch state {
			case "done":
				if got != n {
					t.Errorf("kill %d: %s.csv imported with %d of its %d records", round, prefix, got, n)
				}
			case "publishing":
				half = true // finished at the next start; readers are held off meanwhile
			default:
				if got != 0 {
					t.Errorf("kill %d: %s.csv (%q) left %d records", round, prefix, state, got)
				}
			}
		}
		if _, release, err := l.HoldPublications(ctx, 0); half != errors.Is(err, ledger.ErrPublishing) {
			t.Errorf("kill %d: a half-published file must hold readers off: %v", round, err)
		} else if err == nil {
			release()
		}
	}

	for round := 1; round <= kills; round++ {
		p := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
		eventually(t, 20*time.Second, "serve to answer", func() bool { return scrape(webAddr) != nil })
		time.Sleep(time.Duration(100+rnd.IntN(1400)) * time.Millisecond)
		acknowledged := value(scrape(webAddr), "creditwatch_probe_outcome_total", "target", "credit-portal")
		if acknowledged < 0 {
			acknowledged = 0
		}
		p.kill(t)
		check(round, acknowledged)
		if round%3 == 0 && round/3 < len(files) {
			drop(string(rune('A' + round/3)))
		}
	}

	t.Logf("of %d kills, %d hit an open incident and %d an import under way", kills, duringIncident, duringImport)

	// The last run: to the end of the scenario, every file and every record.
	final := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	var tr truth
	eventually(t, 90*time.Second, "the scenario's end, both files and every record polled", func() bool {
		st := stats(t, simAddr)
		_, body, err := httpGet("http://" + simAddr + "/-/sim/platform/truth?ids=1")
		if err != nil || json.Unmarshal(body, &tr) != nil || tr["penalty"].Published < 600 || tr["licence"].Published < 300 {
			return false
		}
		fams := scrape(webAddr)
		return st.Requests >= 150 && value(fams, "creditwatch_portal_incident_open", "target", "credit-portal") == 0 &&
			value(fams, "creditwatch_source_records_received_total", "source", "env-bureau", "kind", "penalty") >= 0
	})
	time.Sleep(2500 * time.Millisecond) // a poll after the last correction, the files imported
	served := stats(t, simAddr).Requests
	final.stop(t)

	l, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	incs, err := l.Incidents(ctx, time.Time{}, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(incs) != 2 {
		t.Errorf("incidents = %d, want the scenario's 2 (none doubled or split): %+v", len(incs), incs)
	}
	for i, inc := range incs {
		if inc.Open() || inc.FailedProbes < 25-kills || inc.FailedProbes > 25 {
			t.Errorf("incident %d: %+v, want closed with the 25 refused probes but those in flight at a kill", i, inc)
		}
	}
	probes, _ := l.CountProbes(ctx, "credit-portal")
	if probes > served || probes < served-kills {
		t.Errorf("the ledger holds %d probes; the portal answered %d, and at most %d died in flight", probes, served, kills)
	}
	ids, _ := l.PublicityIDs(ctx)
	var platform, exported []string
	for _, id := range ids {
		if strings.HasPrefix(id, "濮环罚〔2026〕") {
			exported = append(exported, id)
		} else {
			platform = append(platform, id)
		}
	}
	total := 0
	for _, n := range files {
		total += n
	}
	if len(exported) != total {
		t.Errorf("exported records = %d, want %d", len(exported), total)
	}
	want := append(append([]string{}, tr["penalty"].IDs...), tr["licence"].IDs...)
	sort.Strings(want)
	if fmt.Sprint(platform) != fmt.Sprint(want) {
		t.Errorf("platform records: %d stored, %d served, or not the same ids", len(platform), len(want))
	}
	fs, _ := l.Files(ctx)
	for _, f := range fs {
		if f.State != "done" || f.Records != files[strings.TrimSuffix(f.Name, ".csv")] {
			t.Errorf("file %+v, want done with all its records", f)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/ledger/pgtest"
)

// Three vantages (a, b, c) share one PostgreSQL ledger with a quorum of 2, probing a portal
// that tells them apart by their User-Agent. Failing for a alone gives a its incident and
// scores nothing; failing for all gives exactly one scored outage, seen by a, b and c. The
// instance that polls the platform is killed in the middle of a poll: another takes the
// lease and resumes from the cursor within one polling interval, and the ledger holds each
// served record exactly once.
func TestVantagesShareAPostgresLedger(t *testing.T) {
	url := pgtest.Database(t, pgtest.Server(t), t.Name(), "template0")
	dir := t.TempDir()
	var phase atomic.Int32 // 0: up; 1: down for a; 2: down for all
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := phase.Load(); p == 2 || p == 1 && strings.Contains(r.UserAgent(), "vantage a)") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("<html><head><title>信用濮阳</title></head><body>信用</body></html>"))
	}))
	defer portal.Close()
	simAddr := freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--scenario", writeFile(t, filepath.Join(dir, "sc.yml"), `
platform:
  token: s3cret-token
  penalties: 1500
  licences: 0
  page_delay: 200ms
`))
	eventually(t, 10*time.Second, "the simulator", func() bool { _, _, err := httpGet("http://" + simAddr + "/-/sim/stats"); return err == nil })
	writeFile(t, filepath.Join(dir, "token"), "s3cret-token\n")
	writeFile(t, filepath.Join(dir, "pd.key"), strings.Repeat("ab", 32)+"\n")
	const pollEvery = 6 * time.Second
	cfg := writeFile(t, filepath.Join(dir, "cw.yml"), fmt.Sprintf(`
portal:
  targets:
    - {name: credit-portal, url: '%s', interval: 200ms, timeout: 150ms, jitter: 0s, expect: {status: [200], body_contains: ["信用"]}}
  incident: {open_after: 2, close_after: 2, quorum: 2, merge_window: 1s}
platform:
  url: http://%s
  token_file: %s
  interval: %s
  timeout: 2s
  page_size: 10
  streams: [publicity]
storage:
  url: '%s'
  personal_data_key_file: %s
`, portal.URL, simAddr, filepath.Join(dir, "token"), pollEvery, url, filepath.Join(dir, "pd.key")))
	webs, procs := map[string]string{}, map[string]*proc{}
	for _, v := range []string{"a", "b", "c"} {
		webs[v] = freeAddr(t)
		procs[v] = start(t, "serve", "--config.file", cfg, "--web.listen-address", webs[v], "--vantage", v)
	}
	for v, addr := range webs {
		eventually(t, 20*time.Second, "vantage "+v+" probing", func() bool {
			return value(scrape(addr), "creditwatch_probe_success", "target", "credit-portal") == 1
		})
	}

	// Down for a only: a's incident, no scored outage.
	phase.Store(1)
	eventually(t, 20*time.Second, "a's incident", func() bool {
		incs := apiIncidents(t, webs["b"])
		return len(incs) == 1 && incs[0].Vantage == "a" && incs[0].Open
	})
	time.Sleep(time.Second)
	if incs := apiIncidents(t, webs["c"]); len(incs) != 1 {
		t.Fatalf("incidents while the portal fails for a alone: %+v", incs)
	}
	if o := apiOutages(t, webs["a"]); len(o) != 0 {
		t.Fatalf("scored outages while the portal fails for a alone: %+v", o)
	}

	// Down for all: one scored outage seen by a, b and c.
	phase.Store(2)
	eventually(t, 20*time.Second, "one outage seen by a, b and c", func() bool {
		o := apiOutages(t, webs["c"])
		return len(o) == 1 && len(o[0].Vantages) == 3
	})
	phase.Store(0)
	eventually(t, 20*time.Second, "the outage to end", func() bool {
		o := apiOutages(t, webs["b"])
		return len(o) == 1 && o[0].End != nil
	})
	// Every instance's status shows it, the incidents of the others too.
	for v, addr := range webs {
		eventually(t, 10*time.Second, "vantage "+v+" to show the outage", func() bool {
			o := apiOutages(t, addr)
			return len(o) == 1 && strings.Join(sorted(o[0].Vantages), ",") == "a,b,c" && len(o[0].Incidents) == 3 && o[0].End != nil
		})
	}
	outb, err := exec.Command(binary, "score", "--config.file", cfg, "--format", "json").Output()
	out := string(outb)
	if err != nil || !strings.Contains(out, `"vantages"`) {
		t.Errorf("score: %v\n%s", err, out)
	}
	var card struct {
		Outages []struct{ Vantages []string } `json:"outages"`
	}
	if json.Unmarshal([]byte(out), &card) != nil || len(card.Outages) != 1 || len(card.Outages[0].Vantages) != 3 {
		t.Errorf("score's outages %+v, want one seen by three vantages", card.Outages)
	}

	// Kill the poller in the middle of a poll (the records it stored so far are in the
	// ledger, with the cursor that follows them).
	held, err := ledger.OpenStorage(context.Background(), url, ledger.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	holder := ""
	eventually(t, 30*time.Second, "the poller in the middle of a poll", func() bool {
		n, _ := held.CountPublicity(context.Background())
		if n == 0 || n >= 1000 {
			return false
		}
		for v, addr := range webs {
			if value(scrape(addr), "creditwatch_lease_held") == 1 {
				holder = v
				return true
			}
		}
		return false
	})
	procs[holder].kill(t)
	killed := time.Now()
	var took time.Duration
	eventually(t, 2*pollEvery, "another instance to take the lease", func() bool {
		for v, addr := range webs {
			if v != holder && value(scrape(addr), "creditwatch_lease_held") == 1 {
				took = time.Since(killed)
				return true
			}
		}
		return false
	})
	t.Logf("failover: %s after SIGKILL of vantage %s's poller (polling interval %s)", took.Round(time.Millisecond), holder, pollEvery)
	if took > pollEvery {
		t.Errorf("took over after %s, more than one polling interval (%s)", took, pollEvery)
	}
	var served []string
	eventually(t, 120*time.Second, "every record polled", func() bool {
		var tr truth
		_, body, err := httpGet("http://" + simAddr + "/-/sim/platform/truth?ids=1")
		if err != nil || json.Unmarshal(body, &tr) != nil {
			return false
		}
		served = tr["penalty"].IDs
		l, err := ledger.OpenStorage(context.Background(), url, ledger.PostgresOptions{})
		if err != nil {
			return false
		}
		defer l.Close()
		n, _ := l.CountPublicity(context.Background())
		return n >= len(served) && len(served) == 1500
	})
	l, err := ledger.OpenStorage(context.Background(), url, ledger.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ids, err := l.PublicityIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(served)
	if fmt.Sprint(ids) != fmt.Sprint(served) {
		t.Errorf("the ledger holds %d records, the simulator served %d: not each exactly once", len(ids), len(served))
	}
	if t.Failed() {
		for v, p := range procs {
			t.Logf("vantage %s stderr:\n%s", v, p.stderr.String())
		}
	}
}

type outageJSON struct {
	ID        int64    `json:"id"`
	End       *string  `json:"end"`
	Vantages  []string `json:"vantages"`
	Incidents []int64  `json:"incidents"`
}

func apiOutages(t *testing.T, addr string) []outageJSON {
	t.Helper()
	var st struct {
		Outages []outageJSON `json:"outages"`
	}
	if _, body, err := httpGet("http://" + addr + "/api/v1/status"); err != nil || json.Unmarshal(body, &st) != nil {
		return nil
	}
	return st.Outages
}

type incidentJSON struct {
	ID      int64  `json:"id"`
	Vantage string `json:"vantage"`
	Open    bool   `json:"open"`
}

func apiIncidents(t *testing.T, addr string) []incidentJSON {
	t.Helper()
	var l struct {
		Incidents []incidentJSON `json:"incidents"`
	}
	if _, body, err := httpGet("http://" + addr + "/api/v1/incidents"); err != nil || json.Unmarshal(body, &l) != nil {
		return nil
	}
	return l.Incidents
}

func sorted(s []string) []string { s = append([]string{}, s...); sort.Strings(s); return s }

package metrics

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/scoring"
)

func TestCollectorExposition(t *testing.T) {
	s := exampleStore()
	f, err := os.Open("testdata/exposition.prom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := testutil.CollectAndCompare(NewCollector(s), f); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_probe_success"); n != 1 {
		t.Errorf("probe_success series = %d, want only the probed target", n)
	}
	problems, err := testutil.CollectAndLint(NewCollector(s))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestDisplayURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://www.example.gov.cn/", "https://www.example.gov.cn/"},
		{"https://user:pass@www.example.gov.cn/xydt/?page=2&token=s3cret#list", "https://www.example.gov.cn/xydt/"},
		{"http://10.0.0.8:8080/index.jsp?", "http://10.0.0.8:8080/index.jsp"},
		{"https://信用.example.cn/公示", "https://信用.example.cn/%E5%85%AC%E7%A4%BA"},
		{"://broken", ""},
		{"/relative/path", ""},
	} {
		if got := DisplayURL(tc.in); got != tc.want {
			t.Errorf("DisplayURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestKeepRejectedDropsRemovedSources(t *testing.T) {
	s := NewStore()
	s.SetSourceRejected("a", 1)
	s.SetSourceRejected("b", 3)
	s.KeepRejected(map[string]bool{"a": true})
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_source_files_rejected"); n != 1 {
		t.Errorf("rejected-file series = %d, want only the configured source's", n)
	}
}

func TestKeepPortalsDropsRemovedTargets(t *testing.T) {
	s := NewStore()
	s.SetPortal(&Portal{Target: "a"})
	s.SetPortal(&Portal{Target: "b"})
	s.RecordRun("portal", "b", true, time.Second, time.Now())
	s.KeepPortals(map[string]bool{"a": true})
	if _, ok := s.Portal("b"); ok {
		t.Error("removed target still exported")
	}
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_collector_success"); n != 0 {
		t.Errorf("removed target's collector series = %d", n)
	}
	if !strings.Contains(strings.Join(sortedKeys(s.Portals()), ","), "a") {
		t.Error("kept target lost")
	}
}

// Targets publishing at once, while the target set changes and /metrics is read: each kept
// target ends with its latest snapshot and run, a removed one with none, and a kept
// target's snapshot never goes back to an older one.
func TestConcurrentPublishing(t *testing.T) {
	s := NewStore()
	const targets, probes = 20, 200
	var wg sync.WaitGroup
	for k := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("t%02d", k)
			for i := 1; i <= probes; i++ {
				s.SetPortal(&Portal{Target: name, Probed: true, StatusCode: i, OutcomeTotals: map[string]float64{"ok": float64(i)}})
				s.RecordRun("portal", name, true, time.Duration(i), time.Unix(int64(i), 0))
				if p, ok := s.Portal(name); k < 2 && (!ok || p.StatusCode < i) {
					t.Errorf("%s: after probe %d the snapshot is %+v", name, i, p)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			testutil.CollectAndCount(NewCollector(s))
			s.KeepPortals(map[string]bool{"t00": true, "t01": true, "gone": false})
		}
	}()
	wg.Wait()
	s.KeepPortals(map[string]bool{"t00": true, "t01": true})
	for _, name := range []string{"t00", "t01"} {
		if p, ok := s.Portal(name); !ok || p.StatusCode != probes {
			t.Errorf("%s: latest snapshot %+v, want probe %d", name, p, probes)
		}
	}
	if n := len(s.Portals()); n != 2 {
		t.Errorf("%d targets kept, want 2", n)
	}
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_collector_duration_seconds"); n != 2 {
		t.Errorf("%d runs exported, want the 2 kept targets'", n)
	}
}

// exampleStore holds a little of everything the collector exposes.
func exampleStore() *Store {
	s := NewStore()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s.SetPortal(&Portal{
		Target: "credit-portal", Probed: true, Success: false, Outcome: "timeout",
		PhaseSeconds:  map[string]float64{"dns": 0.001, "connect": 0.002, "tls": 0.01, "first_byte": 0.2, "transfer": 0.05},
		OutcomeTotals: map[string]float64{"ok": 120, "timeout": 3},
		CertExpiry:    at.Add(90 * 24 * time.Hour), IncidentsTotal: 2, IncidentOpen: true, OpenSince: at, OpenOutcome: "timeout",
		RiskTotal: 1, LastProbe: at,
	})
	s.SetPortal(&Portal{Target: "mirror", OutcomeTotals: map[string]float64{}}) // not probed since start
	s.RecordRun("portal", "credit-portal", true, 250*time.Millisecond, at)
	results := scoring.Card(scoring.MustDefault(), map[string]scoring.Observation{
		"portal_incidents": {Known: true, Count: 2},
		"uscc_error_rate":  {Known: true, Value: 2e-5},
		// 3 non-conforming reports of 10, a confirmed defacement.
		"nonconforming_reports":      {Known: true, Count: 3},
		"no_intrusion_or_defacement": {Known: true, OK: false},
	}, scoring.Options{})
	s.SetCards(&card.Card{Results: results}, nil)
	s.SetReload(true, at)
	s.SetContent(&Content{Target: "credit-portal", Confirmed: map[string]int{"keyword": 2}, Seen: map[string]int{"keyword": 2, "foreign_link": 1}})
	s.SetContent(&Content{Target: "news", Confirmed: map[string]int{}, HasAge: true, Age: 12, MaxAge: 10, Stale: true})
	s.SetReports(&Reports{Checks: map[string]float64{"conforming": 7, "nonconforming": 3}, Nonconforming: 3})
	s.AddReportCheck("fetch_error", false)
	s.SetSecurityIncidents(1)
	s.SetCalendarHorizon(time.Date(2027, 12, 31, 0, 0, 0, 0, clock.Shanghai))
	s.SetTargets([]TargetInfo{
		{Target: "credit-portal", URL: "https://ops:secret@www.example-credit.gov.cn/index.html?token=abc#top", Site: "portal", Scored: true},
		{Target: "mirror", URL: "https://backup.example-credit.gov.cn/", Site: "backup", Scored: false},
	})
	s.SetLinks(Links{StatusURL: "https://creditwatch.example.gov.cn/", RunbookURL: "https://creditwatch.example.gov.cn/runbooks/"})
	s.SetSourceRejected("env-bureau", 2)
	s.SetSourceRejected("office-objections", 0)

	return s
}

// The vantage collector gives, byte for byte, what the collector wrapped with the vantage
// label gives, several targets' series included.
func TestVantageCollectorIsTheWrappedOne(t *testing.T) {
	s := exampleStore()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, name := range []string{"b-portal", "a-portal", "z-portal"} {
		s.SetPortal(&Portal{Target: name, Probed: true, Success: true, Outcome: "ok", LastProbe: at,
			PhaseSeconds: map[string]float64{"connect": 0.001}, OutcomeTotals: map[string]float64{"ok": 5, "challenged": 1}})
		s.RecordRun("portal", name, true, time.Second, at)
		s.SetContent(&Content{Target: name, Confirmed: map[string]int{"hidden_link": 1}})
	}
	s.RecordRun("imports", "office", false, time.Second, at)
	s.StartSkew("portal").Observe(0.02)
	wrapped := prometheus.NewRegistry()
	prometheus.WrapRegistererWith(prometheus.Labels{"vantage": "anyang"}, wrapped).MustRegister(NewCollector(s))
	direct := prometheus.NewRegistry()
	direct.MustRegister(NewVantageCollector(s, "anyang"))
	prometheus.WrapRegistererWith(prometheus.Labels{"vantage": "anyang"}, direct).MustRegister(s.SkewCollector())
	want, got := gatheredText(t, wrapped), gatheredText(t, direct)
	if got != want {
		t.Errorf("vantage collector:\n%s\nwrapped:\n%s", got, want)
	}
	if !strings.Contains(got, `creditwatch_probe_outcome_total{outcome="challenged",target="a-portal",vantage="anyang"} 1`) ||
		!strings.Contains(got, `creditwatch_collector_start_skew_seconds_count{collector="portal",vantage="anyang"} 1`) {
		t.Errorf("series missing:\n%s", got)
	}
}

// SetPortals publishes many targets at once; a target kept by KeepPortals has its run and
// content cells before its first probe, and they read as absent until then.
func TestSetPortalsAndReservedCells(t *testing.T) {
	s := NewStore()
	s.SetPortal(&Portal{Target: "a", OutcomeTotals: map[string]float64{"ok": 1}})
	s.SetPortals([]*Portal{{Target: "b"}, {Target: "a", OutcomeTotals: map[string]float64{"ok": 2}}, {Target: "c"}})
	for _, name := range []string{"a", "b", "c"} {
		if _, ok := s.Portal(name); !ok {
			t.Errorf("target %s not published", name)
		}
	}
	if p, _ := s.Portal("a"); p.OutcomeTotals["ok"] != 2 {
		t.Errorf("a's later state not kept: %v", p.OutcomeTotals)
	}
	s.KeepPortals(map[string]bool{"a": true, "b": true})
	if _, ok := s.Portal("c"); ok {
		t.Error("c kept")
	}
	if _, ok := s.Content("a"); ok {
		t.Error("an empty content cell reads as a content check")
	}
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_collector_success", "creditwatch_defacement_signs"); n != 0 {
		t.Errorf("%d series from empty cells", n)
	}
	s.RecordRun("portal", "a", true, time.Second, time.Now())
	if n := testutil.CollectAndCount(NewCollector(s), "creditwatch_collector_success"); n != 1 {
		t.Errorf("%d collector_success series after a's run", n)
	}
}

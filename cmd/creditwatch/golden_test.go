package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

var update = flag.Bool("update", false, "rewrite golden files")

// unstable families vary from run to run: only their series are compared, not values.
var unstable = map[string]bool{
	"creditwatch_probe_duration_seconds":                       true,
	"creditwatch_probe_last_timestamp_seconds":                 true,
	"creditwatch_collector_duration_seconds":                   true,
	"creditwatch_collector_last_success_timestamp_seconds":     true,
	"creditwatch_config_last_reload_success_timestamp_seconds": true,
	"creditwatch_build_info":                                   true,
	"creditwatch_collector_start_skew_seconds":                 true,
	"creditwatch_lease_acquired_timestamp_seconds":             true,
}

// loopbackPort is a test server's address in a label (a target's URL, the status page's):
// its port changes from run to run.
var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// exposition renders creditwatch's own series, sorted, values dropped where unstable and
// loopback ports shown as PORT.
func exposition(fams map[string]*dto.MetricFamily) string {
	var lines []string
	for name, f := range fams {
		if !strings.HasPrefix(name, "creditwatch_") {
			continue
		}
		for _, m := range f.Metric {
			var labels []string
			for _, lp := range m.Label {
				if name == "creditwatch_build_info" {
					continue
				}
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), loopbackPort.ReplaceAllString(lp.GetValue(), "127.0.0.1:PORT")))
			}
			line := name + "{" + strings.Join(labels, ",") + "}"
			// Good probes keep coming after the script ends, so their count varies.
			okCount := name == "creditwatch_probe_outcome_total" && strings.Contains(line, `outcome="ok"`)
			if !unstable[name] && !okCount {
				line += fmt.Sprintf(" %g", m.GetCounter().GetValue()+m.GetGauge().GetValue())
			}
			lines = append(lines, line)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

package grafana

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedDashboardsAreGenerated proves the JSON under dashboards/ is exactly the
// generator's output: regenerate with go run ./grafana/gen.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	files, _ := filepath.Glob("dashboards/*.json")
	if len(files) != len(All()) {
		t.Errorf("%d committed dashboards, %d generated", len(files), len(All()))
	}
	for name, b := range All() {
		want, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("dashboards", name))
		if err != nil || string(got) != string(want) {
			t.Errorf("dashboards/%s is not the generator's output (go run ./grafana/gen)", name)
		}
	}
}

func TestDashboardConventions(t *testing.T) {
	for name, b := range All() {
		out, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID        string `json:"uid"`
			Templating struct {
				List []struct{ Name string } `json:"list"`
			} `json:"templating"`
		}
		json.Unmarshal(out, &d)
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
		}
		if !vars["job"] || !vars["vantage"] || !vars["datasource"] {
			t.Errorf("%s: variables %v lack job, vantage or datasource", name, vars)
		}
		exprs, _ := Exprs(out)
		if len(exprs) < 5 {
			t.Errorf("%s: only %d queries", name, len(exprs))
		}
		for _, e := range exprs {
			if strings.Contains(e, "creditwatch_") && !strings.Contains(e, `job=~"$job"`) && !strings.Contains(e, "portal:") {
				t.Errorf("%s: %q does not filter by $job", name, e)
			}
		}
	}
}

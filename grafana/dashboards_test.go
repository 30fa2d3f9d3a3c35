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

// TestDashboardsGuidePeople: every panel says what it shows and what it costs, every
// dashboard links to the status page, the runbooks and the reports and marks incidents on
// its time series, and gates and states read as words.
func TestDashboardsGuidePeople(t *testing.T) {
	for name, b := range All() {
		out, err := Render(b)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Type, Title, Description string
				FieldConfig              struct {
					Defaults struct {
						Mappings []json.RawMessage `json:"mappings"`
					} `json:"defaults"`
				} `json:"fieldConfig"`
			} `json:"panels"`
			Links []struct {
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"links"`
			Annotations struct {
				List []struct {
					Name, Expr string
				} `json:"list"`
			} `json:"annotations"`
		}
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			if p.Type != "row" && strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s: panel %q has no description", name, p.Title)
			}
			if strings.Contains(p.Title, "门槛") && len(p.FieldConfig.Defaults.Mappings) == 0 {
				t.Errorf("%s: panel %q shows gates as numbers, not 达标/未达标", name, p.Title)
			}
		}
		links := map[string]bool{}
		for _, l := range d.Links {
			links[l.Title] = true
		}
		for _, want := range []string{"状态页", "处置手册", "月度报告"} {
			if !links[want] {
				t.Errorf("%s: no link to %s (links %v)", name, want, links)
			}
		}
		markers := 0
		for _, a := range d.Annotations.List {
			if strings.Contains(a.Expr, "creditwatch_portal_incident") {
				markers++
			}
		}
		if markers < 2 {
			t.Errorf("%s: %d incident annotations, want start and end markers", name, markers)
		}
	}
	out, _ := Render(Overview())
	if !strings.Contains(string(out), `"text": "达标"`) || !strings.Contains(string(out), `"text": "未达标"`) {
		t.Error("the overview's gates are not mapped to 达标/未达标")
	}
}

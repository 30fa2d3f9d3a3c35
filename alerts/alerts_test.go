package alerts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type testFile struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsCompleteAndTested checks the conventions of every alert and that the
// unit tests have, for each, a case where it fires and one where it stays quiet.
func TestEveryAlertIsCompleteAndTested(t *testing.T) {
	var rf ruleFile
	if err := yaml.Unmarshal(Rules, &rf); err != nil {
		t.Fatal(err)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	files, _ := filepath.Glob("tests/*.yml")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		var tf testFile
		if err := yaml.Unmarshal(data, &tf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range tf.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					firing[a.Alertname] = true
				} else {
					quiet[a.Alertname] = true
				}
			}
		}
	}
	runbook, _ := os.ReadFile("../docs/runbooks.md")
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			name := r.Alert
			if !strings.HasPrefix(name, "Creditwatch") && !strings.HasPrefix(name, "CreditPortal") {
				t.Errorf("%s: name must start with Creditwatch or CreditPortal", name)
			}
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs for, severity, summary and description", name)
			}
			if strings.Contains(r.Annotations["summary"], "{{") {
				t.Errorf("%s: the summary must be static", name)
			}
			anchor := "#" + strings.ToLower(name)
			if !strings.HasSuffix(r.Annotations["runbook_url"], "docs/runbooks.md"+anchor) {
				t.Errorf("%s: runbook_url %q does not point at docs/runbooks.md%s", name, r.Annotations["runbook_url"], anchor)
			}
			if !strings.Contains(string(runbook), "## "+name+"\n") {
				t.Errorf("%s: no section in docs/runbooks.md", name)
			}
			if !firing[name] || !quiet[name] {
				t.Errorf("%s: firing case %t, quiet case %t; both are needed", name, firing[name], quiet[name])
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d alerts", n)
	}
}

func TestPromtoolRules(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "creditwatch.rules.yml"}, append([]string{"test", "rules"}, mustGlob(t, "tests/*.yml")...)} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("no files match %s", pattern)
	}
	return m
}

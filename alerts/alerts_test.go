package alerts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/testutil"
	"github.com/creditwatch/creditwatch/internal/zh"
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
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// links is the recording rule every alert's status_url and runbook_url read.
const links = `query "links:creditwatch_web_info:last_known"`

// runbookSections are the parts every alert's section of docs/runbooks.md has.
var runbookSections = []string{"### 含义", "### 代价/扣分", "### 前三项检查", "### 联系谁"}

// TestEveryAlertIsCompleteAndTested checks the conventions of every alert, that the unit
// tests have, for each, a case where it fires and one where it stays quiet, and that every
// firing case asserts every annotation of the alert.
func TestEveryAlertIsCompleteAndTested(t *testing.T) {
	var rf ruleFile
	if err := yaml.Unmarshal(Rules, &rf); err != nil {
		t.Fatal(err)
	}
	firing, quiet := map[string]bool{}, map[string]bool{}
	asserted := map[string][]map[string]string{}
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
				for _, e := range a.ExpAlerts {
					asserted[a.Alertname] = append(asserted[a.Alertname], e.ExpAnnotations)
				}
			}
		}
	}
	runbook := runbookText(t)
	keys := map[string]map[string]bool{}
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			name := r.Alert
			if keys[name] == nil {
				keys[name] = map[string]bool{}
			}
			for k := range r.Annotations {
				keys[name][k] = true
			}
			if !strings.HasPrefix(name, "Creditwatch") && !strings.HasPrefix(name, "CreditPortal") {
				t.Errorf("%s: name must start with Creditwatch or CreditPortal", name)
			}
			if r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs for, severity, summary and description", name)
			}
			sum := r.Annotations["summary"]
			if strings.Contains(sum, "$value") || strings.Contains(sum, "query") {
				t.Errorf("%s: the summary may name the alert's labels, but not its value or a query: it heads every notice", name)
			}
			if !hasHan(strings.SplitN(sum, " / ", 2)[0]) || !strings.Contains(sum, " / ") {
				t.Errorf("%s: the summary must be Chinese first, then \" / \" and English: %q", name, sum)
			}
			if lines := strings.Split(r.Annotations["description"], "\n"); len(lines) != 2 || !hasHan(lines[0]) || lines[1] == "" || startsHan(lines[1]) {
				t.Errorf("%s: the description must be a Chinese line, then an English one: %q", name, r.Annotations["description"])
			}
			if !hasHan(r.Annotations["points"]) {
				t.Errorf("%s: points must say in Chinese what is at stake", name)
			}
			anchor := "#" + strings.ToLower(name)
			rb := r.Annotations["runbook_url"]
			if !strings.Contains(rb, links) || !strings.Contains(rb, `label "runbook_url" }}`+anchor+"{{ end }}") {
				t.Errorf("%s: runbook_url %q does not link to the served runbooks' %s", name, rb, anchor)
			}
			if st := r.Annotations["status_url"]; !strings.Contains(st, links) || !strings.Contains(st, `label "status_url"`) {
				t.Errorf("%s: status_url %q does not link to the status page", name, st)
			} else if strings.HasPrefix(name, "CreditPortal") && strings.Contains(sum, "$labels.target") &&
				!strings.Contains(st, `label "status_url" }}targets/{{ $labels.target }}{{ end }}`) {
				// The on-call engineer lands on the page of the target at fault, not on a list
				// of thousands.
				t.Errorf("%s: status_url %q does not link to the target's own page (/targets/NAME)", name, st)
			}
			for k, v := range r.Annotations {
				if strings.Contains(v, "github.com") {
					t.Errorf("%s: %s points at a code-hosting site the city's network may not reach", name, k)
				}
			}
			section := runbookSection(runbook, name)
			if section == "" {
				t.Errorf("%s: no section in docs/runbooks.md", name)
			}
			for _, want := range runbookSections {
				if !strings.Contains(section, "\n"+want+"\n") {
					t.Errorf("%s: its section in docs/runbooks.md has no %q", name, want)
				}
			}
			if !firing[name] || !quiet[name] {
				t.Errorf("%s: firing case %t, quiet case %t; both are needed", name, firing[name], quiet[name])
			}
		}
	}
	for name, want := range keys {
		for _, got := range asserted[name] {
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("%s: a firing case does not assert the annotation %s", name, k)
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d alerts", n)
	}
}

// TestOutcomeWordsMatchTheCatalogues: the alerts name outcome classes and defacement rules
// in the same words as the status page and the reports.
func TestOutcomeWordsMatchTheCatalogues(t *testing.T) {
	text := string(Rules)
	for _, tc := range []struct {
		variable string
		values   []string
		name     func(string) string
	}{
		{"$o", slices.DeleteFunc(slices.Clone(metrics.Outcomes), func(o string) bool { return o == "ok" }), zh.OutcomeName},
		{"$r", metrics.DefacementRules, zh.RuleName},
	} {
		for _, v := range tc.values {
			want := fmt.Sprintf(`eq %s %q }}%s{{`, tc.variable, v, tc.name(v))
			if !strings.Contains(text, want) {
				t.Errorf("the rules do not name %s as %s (%s)", v, tc.name(v), want)
			}
		}
	}
}

func startsHan(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.Is(unicode.Han, r)
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func runbookText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// runbookSection is the text of the section headed "## name", up to the next one.
func runbookSection(doc, name string) string {
	i := strings.Index(doc, "\n## "+name+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(name)+4:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j+1]
	}
	return rest
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

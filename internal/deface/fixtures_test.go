package deface_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/deface"
	"github.com/creditwatch/creditwatch/internal/sim"
)

var update = flag.Bool("update", false, "rewrite the page fixtures from the simulator and their golden signs")

const pageURL = "https://credit.puyang.example.gov.cn/"

// pageFixtures are the simulator's home page with each content fault, kept under
// testdata/pages/KIND.html; their signs against the normal page's baseline are kept in
// KIND.golden.json.
var pageFixtures = map[string][]string{
	sim.FaultOK:               nil,
	sim.FaultDefaceKeyword:    {deface.RuleKeyword, deface.RuleKeyword, deface.RuleKeyword, deface.RuleKeyword},
	sim.FaultDefaceScript:     {deface.RuleForeignScript},
	sim.FaultDefaceIframe:     {deface.RuleForeignFrame},
	sim.FaultDefaceLink:       {deface.RuleForeignLink},
	sim.FaultDefaceHiddenLink: {deface.RuleForeignLink, deface.RuleHiddenLink, deface.RuleForeignLink, deface.RuleHiddenLink},
	sim.FaultDefaceTitle:      {deface.RuleTitleChanged},
	sim.FaultDefacePage:       {deface.RuleKeyword, deface.RuleKeyword, deface.RuleKeyword, deface.RuleForeignLink, deface.RuleTitleChanged, deface.RuleStructureChanged},
	sim.FaultRedesign:         {deface.RuleStructureChanged},
}

func loadPage(t testing.TB, kind string) *deface.Page {
	t.Helper()
	path := filepath.Join("testdata", "pages", kind+".html")
	if *update {
		body, err := sim.PortalPage(kind)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, body, 0o644)
	}
	return parseFile(t, path)
}

func parseFile(t testing.TB, path string) *deface.Page {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := deface.Parse(body, "text/html", pageURL)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rules(signs []deface.Sign) string {
	var out []string
	for _, s := range signs {
		out = append(out, s.Rule)
	}
	return strings.Join(out, " ")
}

// TestDefacementSigns checks each defacement sign on its fixture against the accepted
// baseline of the normal page, with golden evidence.
func TestDefacementSigns(t *testing.T) {
	base := deface.NewBaseline(loadPage(t, sim.FaultOK))
	for kind, want := range pageFixtures {
		t.Run(kind, func(t *testing.T) {
			signs := deface.Detect(loadPage(t, kind), deface.Policy{}, &base)
			if got := rules(signs); got != strings.Join(want, " ") {
				t.Errorf("rules %q, want %q\n%+v", got, want, signs)
			}
			got, _ := json.MarshalIndent(signs, "", "  ")
			golden := filepath.Join("testdata", "pages", kind+".golden.json")
			if *update {
				os.WriteFile(golden, append(got, '\n'), 0o644)
			}
			wantJSON, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(wantJSON)) {
				t.Errorf("signs differ from %s:\n%s", golden, got)
			}
			for _, s := range signs {
				if len(s.Evidence) > deface.MaxEvidenceBytes+len("…") || s.Evidence == "" || s.Message == "" {
					t.Errorf("sign %s: evidence %d bytes %q, message %q", s.Rule, len(s.Evidence), s.Evidence, s.Message)
				}
			}
		})
	}
}

// TestRedesignCountsUntilAccepted: a redesign is a structure change against the old
// baseline, and nothing once the office accepts it as the new one.
func TestRedesignCountsUntilAccepted(t *testing.T) {
	old := deface.NewBaseline(loadPage(t, sim.FaultOK))
	redesign := loadPage(t, sim.FaultRedesign)
	if got := rules(deface.Detect(redesign, deface.Policy{}, &old)); got != deface.RuleStructureChanged {
		t.Fatalf("against the old baseline: %q", got)
	}
	accepted, err := deface.UnmarshalBaseline(mustJSON(t, deface.NewBaseline(redesign)))
	if err != nil {
		t.Fatal(err)
	}
	if signs := deface.Detect(redesign, deface.Policy{}, &accepted); len(signs) != 0 {
		t.Errorf("after accepting the redesign: %+v", signs)
	}
}

func mustJSON(t *testing.T, b deface.Baseline) []byte {
	t.Helper()
	data, err := deface.MarshalBaseline(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDailyNewsNeverCounts: the news list of every day of two months against the first
// day's baseline: new titles, a different number of items, never a sign.
func TestDailyNewsNeverCounts(t *testing.T) {
	first := time.Date(2026, 10, 1, 9, 0, 0, 0, clock.Shanghai)
	parse := func(day time.Time) *deface.Page {
		p, err := deface.Parse(sim.NewsList(day), "text/html; charset=utf-8", pageURL+"xydt/")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := deface.NewBaseline(parse(first))
	worst := 0.0
	for d := 1; d <= 60; d++ {
		p := parse(first.AddDate(0, 0, d))
		if signs := deface.Detect(p, deface.Policy{}, &base); len(signs) != 0 {
			t.Fatalf("day %d: %+v", d, signs)
		}
		worst = max(worst, deface.Distance(base.Profile, deface.ProfileOf(p.Root)))
	}
	if worst > deface.DefaultStructureThreshold/2 {
		t.Errorf("daily news moved the structure by %.2f, too near the threshold %.2f", worst, deface.DefaultStructureThreshold)
	}
	t.Logf("largest daily distance %.3f; redesign %.3f", worst, deface.Distance(deface.NewBaseline(loadPage(t, sim.FaultOK)).Profile,
		deface.ProfileOf(loadPage(t, sim.FaultRedesign).Root)))
}

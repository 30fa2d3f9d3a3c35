package deface

import (
	"strings"
	"testing"
)

// TestConfirmRule: a sign confirms only after confirm_after consecutive probes show it;
// a single flaky fetch (a sign between clean probes) never confirms.
func TestConfirmRule(t *testing.T) {
	sign := func(rule string) []Sign { return []Sign{{Rule: rule, Evidence: "e"}} }
	clean := []Sign(nil)
	tests := map[string]struct {
		probes       [][]Sign
		confirmAfter int
		want         string // confirmed rules per probe, "-" for none
	}{
		"one flaky fetch":               {probes: [][]Sign{clean, sign(RuleStructureChanged), clean, clean}, want: "- - - -"},
		"flaky fetches, never twice":    {probes: [][]Sign{sign(RuleTitleChanged), clean, sign(RuleTitleChanged), clean, sign(RuleTitleChanged)}, want: "- - - - -"},
		"seen twice":                    {probes: [][]Sign{clean, sign(RuleKeyword), sign(RuleKeyword), sign(RuleKeyword)}, want: "- - keyword -"},
		"default is two":                {probes: [][]Sign{sign(RuleKeyword), sign(RuleKeyword)}, confirmAfter: 0, want: "- keyword"},
		"three needed":                  {probes: [][]Sign{sign(RuleKeyword), sign(RuleKeyword), sign(RuleKeyword)}, confirmAfter: 3, want: "- - keyword"},
		"confirm_after 1":               {probes: [][]Sign{sign(RuleKeyword), clean}, confirmAfter: 1, want: "keyword -"},
		"another rule breaks no streak": {probes: [][]Sign{sign(RuleKeyword), sign(RuleTitleChanged), sign(RuleKeyword)}, want: "- - -"},
		"again after clearing":          {probes: [][]Sign{sign(RuleKeyword), sign(RuleKeyword), clean, sign(RuleKeyword), sign(RuleKeyword)}, want: "- keyword - - keyword"},
		"two rules at once":             {probes: [][]Sign{append(sign(RuleKeyword), sign(RuleHiddenLink)...), append(sign(RuleHiddenLink), sign(RuleKeyword)...)}, want: "- keyword+hidden_link"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var c Confirmation
			var got []string
			for _, p := range tc.probes {
				var confirmed []Sign
				c, confirmed = c.Observe(p, tc.confirmAfter)
				if len(confirmed) == 0 {
					got = append(got, "-")
					continue
				}
				got = append(got, ruleList(confirmed))
			}
			if strings.ReplaceAll(strings.Join(got, ","), " ", "+") != strings.ReplaceAll(tc.want, " ", ",") {
				t.Errorf("confirmed %v, want %s", got, tc.want)
			}
		})
	}
}

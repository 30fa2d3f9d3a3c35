package incident

import (
	"strings"
	"testing"
	"time"
)

// run feeds a script such as "..xx.x" ('.' good, 'x' failed) one probe per second and
// returns the incidents opened, closed and the risk events seen.
func run(script string, p Policy) (opened, closed, risks int, last State, spans []Span) {
	var s State
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range script {
		var tr Transition
		s, tr = Step(s, Result{At: t0.Add(time.Duration(i) * time.Second), Failed: c == 'x', Outcome: "timeout"}, p)
		if tr.Opened != nil {
			opened++
			s.OpenID = int64(opened)
			spans = append(spans, *tr.Opened)
		}
		if !tr.ClosedAt.IsZero() {
			closed++
			spans[len(spans)-1].End = tr.ClosedAt
		}
		if tr.Risk != nil {
			risks++
		}
	}
	return opened, closed, risks, s, spans
}

func TestStep(t *testing.T) {
	two := Policy{OpenAfter: 2, CloseAfter: 2}
	tests := map[string]struct {
		script                string
		policy                Policy
		opened, closed, risks int
		openAtEnd             bool
	}{
		"all good":                        {script: ".....", policy: two},
		"single blip is a risk event":     {script: "..x..", policy: two, risks: 1},
		"two failures open an incident":   {script: ".xx..", policy: two, opened: 1, closed: 1},
		"still open after one good probe": {script: ".xx.", policy: two, opened: 1, openAtEnd: true},
		"flapping recovery stays one":     {script: ".xxx.x.x..", policy: two, opened: 1, closed: 1},
		"two outages and a blip":          {script: ".xx...x..xxx..", policy: two, opened: 2, closed: 2, risks: 1},
		"open after one":                  {script: ".x..x..", policy: Policy{OpenAfter: 1, CloseAfter: 1}, opened: 2, closed: 2},
		"open after three, two is a risk": {script: ".xx..xxx...", policy: Policy{OpenAfter: 3, CloseAfter: 1}, opened: 1, closed: 1, risks: 1},
		"long outage counted once":        {script: "." + strings.Repeat("x", 500) + "..", policy: two, opened: 1, closed: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			opened, closed, risks, last, _ := run(tc.script, tc.policy)
			if opened != tc.opened || closed != tc.closed || risks != tc.risks {
				t.Errorf("opened/closed/risks = %d/%d/%d, want %d/%d/%d", opened, closed, risks, tc.opened, tc.closed, tc.risks)
			}
			if last.Open() != tc.openAtEnd {
				t.Errorf("open at end = %t, want %t", last.Open(), tc.openAtEnd)
			}
		})
	}
}

func TestIncidentSpansFirstFailureToFirstRecovery(t *testing.T) {
	// probes at t=0..7: good, fail, fail, fail, good, fail, good, good
	_, _, _, _, spans := run(".xxx.x..", Policy{OpenAfter: 2, CloseAfter: 2})
	if len(spans) != 1 {
		t.Fatalf("spans = %v", spans)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if got := spans[0].Start.Sub(t0); got != time.Second {
		t.Errorf("incident starts at +%v, want +1s (first failed probe)", got)
	}
	if got := spans[0].End.Sub(t0); got != 6*time.Second {
		t.Errorf("incident ends at +%v, want +6s (first probe of the closing good streak)", got)
	}
}

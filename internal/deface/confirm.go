package deface

// DefaultConfirmAfter is how many consecutive probes must show a sign before it is
// confirmed.
const DefaultConfirmAfter = 2

// Confirmation is, per rule, how many consecutive probes of a page showed its sign, and
// which rules are confirmed (an incident is open). It is stored with the page's state.
// Only probes that fetched a page are observations: a failed fetch says nothing about the
// content and is not passed in (the availability probe counts it).
type Confirmation struct {
	Streak    map[string]int  `json:"streak,omitempty"`
	Confirmed map[string]bool `json:"confirmed,omitempty"`
}

// Observe adds one probe's signs. It returns the new state and the signs that this probe
// confirmed: a rule whose sign was seen on confirmAfter consecutive probes (0 means
// DefaultConfirmAfter), once; it stays confirmed, without confirming again, while its
// sign persists, and a probe without the sign clears it. So a sign on one flaky fetch
// between clean ones never confirms.
func (c Confirmation) Observe(signs []Sign, confirmAfter int) (Confirmation, []Sign) {
	if confirmAfter <= 0 {
		confirmAfter = DefaultConfirmAfter
	}
	next := Confirmation{Streak: map[string]int{}, Confirmed: map[string]bool{}}
	first := map[string]Sign{}
	for _, s := range signs {
		if _, ok := first[s.Rule]; !ok {
			first[s.Rule] = s
		}
	}
	var confirmed []Sign
	for _, rule := range Rules() {
		s, seen := first[rule]
		if !seen {
			continue
		}
		next.Streak[rule] = c.Streak[rule] + 1
		next.Confirmed[rule] = c.Confirmed[rule] || next.Streak[rule] >= confirmAfter
		if next.Confirmed[rule] && !c.Confirmed[rule] {
			confirmed = append(confirmed, s)
		}
	}
	return next, confirmed
}

// Package incident is the per-target state machine that turns probe results into
// confirmed inaccessibility incidents and risk events. It is pure: the caller persists
// the state it returns.
package incident

import "time"

// Policy is how many consecutive results open and close an incident.
type Policy struct {
	OpenAfter  int
	CloseAfter int
}

// Result is one probe's verdict as the state machine sees it.
type Result struct {
	At      time.Time
	Failed  bool
	Outcome string
	Error   string
}

// State is a target's position in the machine; the zero value is "all good".
type State struct {
	FailStreak  int
	GoodStreak  int
	StreakStart time.Time // first failed probe of the current failure streak
	StreakOut   string    // outcome class of that probe
	StreakErr   string    // its error text
	GoodStart   time.Time // first good probe of the current recovery streak
	OpenID      int64     // ledger id of the open incident, 0 if none
}

// Open reports whether an incident is open.
func (s State) Open() bool { return s.OpenID != 0 }

// Transition says what a step changed, for the caller to write down.
type Transition struct {
	// Opened is set when this probe confirmed an incident.
	Opened *Span
	// FailedInIncident is set when this probe failed while an incident was already open.
	FailedInIncident bool
	// ClosedAt is set when this probe closed the open incident; the incident ended
	// at the first good probe of the recovery streak.
	ClosedAt time.Time
	// Risk is set when a failure streak ended without opening an incident.
	Risk *Span
}

// Span is a run of failed probes.
type Span struct {
	Start   time.Time
	End     time.Time // zero for an incident just opened
	Failed  int
	Outcome string
	Error   string
}

// Step feeds one probe result to the machine.
func Step(s State, r Result, p Policy) (State, Transition) {
	var tr Transition
	if s.Open() {
		if r.Failed {
			s.GoodStreak = 0
			tr.FailedInIncident = true
			return s, tr
		}
		if s.GoodStreak == 0 {
			s.GoodStart = r.At
		}
		s.GoodStreak++
		if s.GoodStreak >= p.CloseAfter {
			tr.ClosedAt = s.GoodStart
			s = State{}
		}
		return s, tr
	}
	if !r.Failed {
		if s.FailStreak > 0 {
			tr.Risk = &Span{Start: s.StreakStart, End: r.At, Failed: s.FailStreak, Outcome: s.StreakOut, Error: s.StreakErr}
		}
		return State{}, tr
	}
	if s.FailStreak == 0 {
		s.StreakStart, s.StreakOut, s.StreakErr = r.At, r.Outcome, r.Error
	}
	s.FailStreak++
	if s.FailStreak >= p.OpenAfter {
		tr.Opened = &Span{Start: s.StreakStart, Failed: s.FailStreak, Outcome: s.StreakOut, Error: s.StreakErr}
		// The caller sets OpenID once the incident has its ledger id.
		s.FailStreak, s.GoodStreak = 0, 0
	}
	return s, tr
}

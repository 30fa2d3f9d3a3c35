package cases

import (
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	year2026 = Period{From: day("2026-01-01"), To: day("2027-01-01")}
	now      = time.Date(2026, 11, 27, 10, 0, 0, 0, clock.Shanghai)
)

func checker() *Checker { return &Checker{Opts: DefaultOptions(), Now: now, Period: year2026} }

func TestRepairCompliance(t *testing.T) {
	ok := Repair{PenaltyDate: day("2026-01-15"), Applied: day("2026-04-13"), Decided: day("2026-04-15"),
		Approved: true, Fulfilled: true, Commitment: true}
	tests := map[string]struct {
		edit      func(*Repair)
		rule      string
		compliant bool
		reasons   int
	}{
		"on the first allowed day":          {edit: func(*Repair) {}, compliant: true},
		"one day before the minimum period": {edit: func(r *Repair) { r.Applied, r.Decided = day("2026-04-09"), day("2026-04-14") }, reasons: 1},
		"serious: six months":               {edit: func(r *Repair) { r.Serious = true }, reasons: 1},
		"serious after six months":          {edit: func(r *Repair) { r.Serious, r.Applied, r.Decided = true, day("2026-07-13"), day("2026-07-15") }, compliant: true},
		"not fulfilled, no commitment":      {edit: func(r *Repair) { r.Fulfilled, r.Commitment = false, false }, reasons: 2},
		"refused repairs are not judged":    {edit: func(r *Repair) { r.Approved, r.Fulfilled = false, false }, compliant: false},
		"2023 rule: fire penalty, one year": {edit: func(r *Repair) { r.Domain = "消防" }, rule: Rule2023, reasons: 1},
		"2023 rule: ordinary, three months": {edit: func(r *Repair) { r.Serious = true }, rule: Rule2023, compliant: true},
		"month end: 31 Aug + 6 months": {edit: func(r *Repair) {
			r.Serious, r.PenaltyDate, r.Applied, r.Decided = true, day("2025-08-31"), day("2026-02-25"), day("2026-02-28")
		}, compliant: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := ok
			r.ID = name
			tc.edit(&r)
			c := checker()
			if tc.rule != "" {
				c.Opts.RepairRule = tc.rule
			}
			f := c.Repair(r)
			if f.Compliant != tc.compliant || len(f.Reasons) != tc.reasons {
				t.Errorf("compliant = %t %q, want %t with %d reasons", f.Compliant, f.Reasons, tc.compliant, tc.reasons)
			}
		})
	}
}

func TestEarlyWarnings(t *testing.T) {
	c := checker() // today is Friday 27 Nov 2026
	objs := []Objection{
		{ID: "a", Received: day("2026-11-26")}, // 1 working day
		{ID: "b", Received: day("2026-11-23")}, // 4: early warning
		{ID: "c", Received: day("2026-11-16")}, // 9: past the limit
	}
	reps := []Repair{
		{ID: "r1", Applied: day("2026-11-25")}, // 2 elapsed: due soon
		{ID: "r2", Applied: day("2026-11-24")}, // 3 elapsed: due today
		{ID: "r3", Applied: day("2026-11-20")}, // 5: overdue although still open
		{ID: "r4", Applied: day("2026-11-27")}, // 0
	}
	s, _, _ := c.Summarize(objs, reps)
	if s.Objections.OpenByAge["1"] != 1 || s.Objections.OpenByAge["4"] != 1 || s.Objections.OpenByAge["5+"] != 1 || s.Objections.Warnings != 2 {
		t.Errorf("objections = %+v", s.Objections)
	}
	if s.Repairs.DueSoon != 2 || s.Repairs.Overdue != 1 || s.Repairs.Open != 4 {
		t.Errorf("repairs = %+v", s.Repairs)
	}
}

func TestParseProblems(t *testing.T) {
	r := ParseRepair(fieldsOf(map[string]string{FieldRepairID: "X1", FieldPenaltyDate: "2026-02-30", FieldSeverity: "特别严重",
		FieldApplied: "2026-03-01", FieldClosed: "2026-02-01", FieldOutcome: "可以", FieldFulfilled: "是", FieldCommitment: "maybe"}))
	fields := map[string]bool{}
	for _, p := range r.Problems {
		fields[p.Field] = true
	}
	for _, f := range []string{FieldPenaltyDate, FieldSeverity, FieldClosed, FieldOutcome, FieldCommitment} {
		if !fields[f] {
			t.Errorf("no problem reported for %s: %+v", f, r.Problems)
		}
	}
}

func fieldsOf(m map[string]string) Fields { return func(k string) string { return m[k] } }

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-05-06 23:59:00", "2026-05-06T15:59:00Z", "2026/5/6 7:05", "2026-05-06"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err == nil && ts.IsZero() {
			t.Fatalf("%q parsed to the zero time", s)
		}
	})
}

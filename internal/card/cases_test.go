package card

import (
	"fmt"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/scoring"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	year2026 = cases.Period{From: day("2026-01-01"), To: day("2027-01-01")}
	now      = time.Date(2026, 11, 27, 10, 0, 0, 0, clock.Shanghai)
)

func checker() *cases.Checker {
	return &cases.Checker{Opts: cases.DefaultOptions(), Now: now, Period: year2026}
}

// points runs observations through the catalogue's rule of one indicator.
func points(t *testing.T, id string, obs map[string]scoring.Observation) float64 {
	t.Helper()
	for _, r := range scoring.Card(scoring.MustDefault(), obs, scoring.Options{}) {
		if r.ID == id {
			if !r.Known {
				t.Fatalf("%s not scored", id)
			}
			return r.Points
		}
	}
	t.Fatalf("no indicator %s", id)
	return 0
}

// closedAfter returns an objection received on a Monday and closed n working days later.
func closedAfter(i, n int) cases.Objection {
	received := day("2026-03-02")
	closed, _ := cases.DefaultOptions().Calendar.AddWorkdays(received, n)
	return cases.Objection{ID: fmt.Sprint(i), Received: received, Closed: closed, Synced: closed.Add(10 * time.Hour)}
}

func TestObjectionHandlingTimeEdges(t *testing.T) {
	tests := map[string]struct {
		days   []int
		mean   float64
		points float64
	}{
		"mean exactly 5": {days: []int{4, 5, 6}, mean: 5, points: 2},
		"mean 5.01":      {days: append(repeat(5, 99), 6), mean: 5.01, points: 1.6},
		"mean 7.5":       {days: []int{7, 8}, mean: 7.5, points: 0.8},
		"none closed":    {days: nil, mean: 0, points: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var objs []cases.Objection
			for i, d := range tc.days {
				objs = append(objs, closedAfter(i, d))
			}
			s, _, _ := checker().Summarize(objs, nil)
			if diff := s.Objections.MeanWorkdays - tc.mean; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("mean = %v, want %v", s.Objections.MeanWorkdays, tc.mean)
			}
			if p := points(t, "objection_handling_time", CaseObservations(s, -1, true, false)); p != tc.points {
				t.Errorf("points = %v, want %v", p, tc.points)
			}
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestObjectionShareEdges(t *testing.T) {
	tests := map[string]struct {
		valid, records int
		points         float64
	}{
		"exactly 1e-5":   {valid: 1, records: 100000, points: 2},
		"exactly 5e-5":   {valid: 5, records: 100000, points: 0},
		"3e-5 midway":    {valid: 3, records: 100000, points: 1},
		"just over 1e-5": {valid: 2, records: 199999, points: 2 * (5e-5 - 2.0/199999) / 4e-5},
		"no objection":   {valid: 0, records: 1000, points: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var objs []cases.Objection
			for i := 0; i < tc.valid; i++ {
				o := closedAfter(i, 3)
				o.Valid = true
				objs = append(objs, o)
			}
			objs = append(objs, closedAfter(99, 2)) // an objection not upheld does not count
			s, _, _ := checker().Summarize(objs, nil)
			p := points(t, "publicity_objection_share", CaseObservations(s, tc.records, true, false))
			if diff := p - tc.points; diff > 1e-6 || diff < -1e-6 {
				t.Errorf("points = %v, want %v", p, tc.points)
			}
		})
	}
}

func TestRepairTimelinessAcrossHoliday(t *testing.T) {
	// Applied 30 Sep 2026: the 3rd working day is Saturday 10 Oct (an adjusted working
	// day after the National Day holiday), the 4th Monday 12 Oct.
	base := cases.Repair{Applied: day("2026-09-30"), PenaltyDate: day("2026-01-05"), Approved: true, Fulfilled: true, Commitment: true}
	tests := map[string]struct {
		decided  string
		workdays int
		overdue  bool
		points   float64
	}{
		"3rd working day": {decided: "2026-10-10", workdays: 3, points: 2},
		"4th working day": {decided: "2026-10-12", workdays: 4, overdue: true, points: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := base
			r.ID, r.Decided, r.Synced = name, day(tc.decided), day(tc.decided).Add(9*time.Hour)
			s, _, rfs := checker().Summarize(nil, []cases.Repair{r})
			if f := rfs[0]; f.Workdays != tc.workdays || f.Overdue != tc.overdue {
				t.Errorf("finding = %+v, want %d working days, overdue %t", f, tc.workdays, tc.overdue)
			}
			if p := points(t, "repair_timeliness", CaseObservations(s, -1, false, true)); p != tc.points {
				t.Errorf("points = %v, want %v", p, tc.points)
			}
		})
	}
}

func TestRepairCompliance(t *testing.T) {
	ok := cases.Repair{PenaltyDate: day("2026-01-15"), Applied: day("2026-04-13"), Decided: day("2026-04-15"),
		Approved: true, Fulfilled: true, Commitment: true}
	tests := map[string]struct {
		edit      func(*cases.Repair)
		rule      string
		compliant bool
		reasons   int
	}{
		"on the first allowed day":          {edit: func(*cases.Repair) {}, compliant: true},
		"one day before the minimum period": {edit: func(r *cases.Repair) { r.Applied, r.Decided = day("2026-04-09"), day("2026-04-14") }, reasons: 1},
		"serious: six months":               {edit: func(r *cases.Repair) { r.Serious = true }, reasons: 1},
		"serious after six months":          {edit: func(r *cases.Repair) { r.Serious, r.Applied, r.Decided = true, day("2026-07-13"), day("2026-07-15") }, compliant: true},
		"not fulfilled, no commitment":      {edit: func(r *cases.Repair) { r.Fulfilled, r.Commitment = false, false }, reasons: 2},
		"refused repairs are not judged":    {edit: func(r *cases.Repair) { r.Approved, r.Fulfilled = false, false }, compliant: false},
		"2023 rule: fire penalty, one year": {edit: func(r *cases.Repair) { r.Domain = "消防" }, rule: cases.Rule2023, reasons: 1},
		"2023 rule: ordinary, three months": {edit: func(r *cases.Repair) { r.Serious = true }, rule: cases.Rule2023, compliant: true},
		"month end: 31 Aug + 6 months": {edit: func(r *cases.Repair) {
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
	// Points: two non-compliant approvals cost 1 point.
	bad := ok
	bad.Fulfilled = false
	s, _, _ := checker().Summarize(nil, []cases.Repair{ok, bad, bad})
	if p := points(t, "repair_compliance", CaseObservations(s, -1, false, true)); p != 0 {
		t.Errorf("repair_compliance = %v with two non-compliant approvals, want 0", p)
	}
}

func TestSameDaySync(t *testing.T) {
	tests := map[string]struct {
		synced string
		ok     bool
	}{
		"23:59 Shanghai":          {"2026-05-06 23:59:00", true},
		"00:01 next day Shanghai": {"2026-05-07 00:01:00", false},
		"23:59 as UTC":            {"2026-05-06T15:59:00Z", true},
		"00:01 as UTC":            {"2026-05-06T16:01:00Z", false},
		"date only":               {"2026-05-06", true},
		"never":                   {"", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			get := fieldsMap(map[string]string{cases.FieldObjectionID: "Y1", cases.FieldReceived: "2026-05-01", cases.FieldClosed: "2026-05-06",
				cases.FieldValid: "否", cases.FieldSynced: tc.synced})
			o := cases.ParseObjection(get)
			if len(o.Problems) > 0 {
				t.Fatalf("problems: %+v", o.Problems)
			}
			s, _, _ := checker().Summarize([]cases.Objection{o}, nil)
			want := map[bool]float64{true: 1, false: 0}[tc.ok]
			if p := points(t, "repair_sync", CaseObservations(s, -1, true, false)); p != want {
				t.Errorf("repair_sync = %v, want %v", p, want)
			}
		})
	}
	// A case closed today and not yet synced has until midnight: not a failure yet.
	o := cases.Objection{ID: "today", Received: day("2026-11-20"), Closed: day("2026-11-27")}
	s, _, _ := checker().Summarize([]cases.Objection{o}, nil)
	if s.Objections.SyncLate != 0 || s.Objections.SyncDue != 1 {
		t.Errorf("closed today, unsynced: late %d, pending %d; want 0 and 1", s.Objections.SyncLate, s.Objections.SyncDue)
	}
}

func fieldsMap(m map[string]string) cases.Fields { return func(k string) string { return m[k] } }

// The share counts publicity records with a valid objection, not objections: two upheld
// objections on one 决定书 count once.
func TestObjectionShareCountsRecords(t *testing.T) {
	upheld := func(id, doc string) cases.Objection {
		o := closedAfter(0, 3)
		o.ID, o.Doc, o.Valid = id, doc, true
		return o
	}
	tests := map[string]struct {
		objs    []cases.Objection
		records int
		points  float64
	}{
		"two on one record, one on another": {
			objs:    []cases.Objection{upheld("Y1", "濮罚〔2026〕1号"), upheld("Y2", "濮罚〔2026〕1号"), upheld("Y3", "濮罚〔2026〕2号")},
			records: 2, points: 1.5, // 2 ÷ 100,000 = 2e-5, not 3e-5 (1 point)
		},
		"one record, five objections": {
			objs:    []cases.Objection{upheld("Y1", "D"), upheld("Y2", "D"), upheld("Y3", "D"), upheld("Y4", "D"), upheld("Y5", "D")},
			records: 1, points: 2,
		},
		"no record named: each counts": {
			objs:    []cases.Objection{upheld("Y1", ""), upheld("Y2", ""), upheld("Y3", "")},
			records: 3, points: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, _, _ := checker().Summarize(tc.objs, nil)
			if s.Objections.ValidRecords != tc.records || s.Objections.Valid != len(tc.objs) {
				t.Errorf("valid objections %d on %d records, want %d on %d", s.Objections.Valid, s.Objections.ValidRecords,
					len(tc.objs), tc.records)
			}
			if p := points(t, "publicity_objection_share", CaseObservations(s, 100000, true, false)); p != tc.points {
				t.Errorf("points = %v, want %v", p, tc.points)
			}
		})
	}
}

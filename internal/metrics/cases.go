package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditwatch/creditwatch/internal/cases"
)

// HandlingBuckets are the upper bounds, in working days, of the objection handling histogram.
var HandlingBuckets = []float64{1, 2, 3, 4, 5, 6, 7, 10, 15, 20}

var (
	objHandling = desc("objection_handling_workdays",
		"Handling time in working days of the objections closed in the assessment period; refreshed every 30 s.")
	objOpen = desc("objection_open",
		"Open objections by working days since receipt; 4 is the early warning, 5+ past the 5-day target.", "age_workdays")
	objCases = desc("objection_cases",
		"Objections of the assessment period: closed, valid (upheld), sync_late (result not on 信用中国 the day it closed), sync_pending (closed today, not yet synced).", "state")
	repCases = desc("repair_cases",
		"Credit repair cases: on_time (decided in the period within 3 working days), overdue (became overdue in the period, decided or open), non_compliant approvals, unsynced results, due_soon (open, deadline today or next working day), sync_pending.", "state")
)

var caseDescs = []*prometheus.Desc{objHandling, objOpen, objCases, repCases}

func collectCases(ch emit, st *state) {
	if st.period == nil || st.period.Cases == nil {
		return
	}
	c := st.period.Cases
	s := c.Summary
	if c.HaveObjections {
		buckets := make(map[float64]uint64, len(HandlingBuckets))
		var sum float64
		for _, d := range s.Objections.Handling {
			sum += float64(d)
			for _, b := range HandlingBuckets {
				if float64(d) <= b {
					buckets[b]++
				}
			}
		}
		ch.histogram(objHandling, uint64(len(s.Objections.Handling)), sum, buckets)
		for _, b := range cases.AgeBuckets {
			ch.gauge(objOpen, float64(s.Objections.OpenByAge[b]), b)
		}
		for state, n := range map[string]int{"closed": s.Objections.ClosedInPeriod, "valid": s.Objections.Valid,
			"sync_late": s.Objections.SyncLate, "sync_pending": s.Objections.SyncDue} {
			ch.gauge(objCases, float64(n), state)
		}
	}
	if c.HaveRepairs {
		r := s.Repairs
		for state, n := range map[string]int{"on_time": r.OnTime, "overdue": r.Overdue, "non_compliant": r.NonCompliant,
			"unsynced": r.SyncLate, "due_soon": r.DueSoon, "sync_pending": r.SyncDue} {
			ch.gauge(repCases, float64(n), state)
		}
	}
}

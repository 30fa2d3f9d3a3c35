package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// DefacementRules are the rules of defacement signs, always exported per checked target so
// that a rule without signs reads 0 (deface.Rules; kept here so metrics need not import it).
var DefacementRules = []string{"keyword", "must_not_contain", "foreign_script", "foreign_frame", "foreign_resource",
	"foreign_link", "hidden_link", "title_changed", "structure_changed"}

var sortedRules = slices.Sorted(slices.Values(DefacementRules))

// ReportResults are the results of a credit report check (ledger.ReportResults).
var ReportResults = []string{"conforming", "nonconforming", "fetch_error"}

// Content is the latest content check of one target's pages.
type Content struct {
	Target string
	// Confirmed counts, by rule, the signs of the latest checked page whose rule is
	// confirmed (seen on confirm_after consecutive probes).
	Confirmed map[string]int
	// Seen counts, by rule, every sign of the latest checked page, confirmed or not (for the
	// status page only).
	Seen map[string]int
	// Freshness of a list page; HasAge is false without a freshness setting or without any
	// date on the page.
	HasAge   bool
	Age      int
	NewestOn string
	MaxAge   int
	Stale    bool
	// Unreadable is set when the latest page could not be parsed for the check.
	Unreadable string
}

// Reports are the credit report checks' counters, all time, continued from the ledger.
type Reports struct {
	Checks        map[string]float64
	Nonconforming float64
}

// SetContent publishes a target's latest content check; c must not be modified afterwards.
func (s *Store) SetContent(c *Content) {
	set(s, func(st *state) *cells[string, Content] { return &st.content }, c.Target, c)
}

// Content returns a target's latest content check.
func (s *Store) Content(target string) (*Content, bool) {
	return s.cur.Load().content.get(target)
}

// SetReports publishes the report counters (nil: credit reports are not checked).
func (s *Store) SetReports(r *Reports) {
	s.update(func(st *state) { st.reports = r })
}

// AddReportCheck counts one check; counted says it is the first non-conforming check of its
// code in the period, a non-conforming report that costs a point.
func (s *Store) AddReportCheck(result string, counted bool) {
	s.update(func(st *state) {
		r := &Reports{Checks: map[string]float64{}}
		if st.reports != nil {
			for k, v := range st.reports.Checks {
				r.Checks[k] = v
			}
			r.Nonconforming = st.reports.Nonconforming
		}
		r.Checks[result]++
		if counted {
			r.Nonconforming++
		}
		st.reports = r
	})
}

// DropRuns forgets the runs of a collector kind no longer configured.
func (s *Store) DropRuns(collector string) {
	s.update(func(st *state) {
		st.runs = st.runs.keep(func(k runKey) bool { return k.collector != collector })
	})
}

// Reports returns the report counters, nil when credit reports are not checked.
func (s *Store) Reports() *Reports { return s.cur.Load().reports }

// SetSecurityIncidents publishes the number of security incidents in the ledger. The
// number only grows, so a smaller one (read before a later one was published) is ignored:
// several writers (the probes, the service after the office recorded one) may publish it.
func (s *Store) SetSecurityIncidents(n int) {
	s.update(func(st *state) { st.security, st.securityKnown = max(st.security, float64(n)), true })
}

// SecurityIncidents returns the number of security incidents, and whether it was set.
func (s *Store) SecurityIncidents() (float64, bool) {
	st := s.cur.Load()
	return st.security, st.securityKnown
}

var (
	reportChecks = desc("report_checks_total",
		"Checks of enterprise credit reports by result (conforming, nonconforming, fetch_error: not fetched or not readable), all time; continues across restarts.", "result")
	reportNonconforming = desc("report_nonconforming_total",
		"Non-conforming enterprise credit reports counted under ledger row 五(四)2: each code once per assessment period, all time.")
	defacementSigns = desc("defacement_signs",
		"Signs of defacement on the target's latest checked page, by rule, counted once the rule is confirmed (seen on confirm_after consecutive probes); refreshed at each probe.", "target", "rule")
	securityIncidents = desc("security_incidents_total",
		"Security incidents in the ledger (defacements confirmed by the probes, intrusions and notified incidents recorded by the office), all time.")
	contentAge = desc("content_age_workdays",
		"Working days since the newest item of a list page with a freshness setting (stale past its max_age_workdays); absent while the page shows no date; refreshed at each probe.", "target")
	contentMaxAge = desc("content_max_age_workdays",
		"The freshness.max_age_workdays of a list page: its newest item may be this many working days old.", "target")
)

var contentDescs = []*prometheus.Desc{reportChecks, reportNonconforming, defacementSigns, securityIncidents, contentAge, contentMaxAge}

func collectContent(ch emit, st *state) {
	if r := st.reports; r != nil {
		for _, res := range ReportResults {
			ch.counter(reportChecks, r.Checks[res], res)
		}
		ch.counter(reportNonconforming, r.Nonconforming)
	}
	if st.securityKnown {
		ch.counter(securityIncidents, st.security)
	}
	content := st.content.values()
	names := sortedKeys(content)
	for _, rule := range sortedRules { // labels rule, target: the registry's order
		for _, name := range names {
			if c := content[name]; c.Confirmed != nil {
				ch.gauge(defacementSigns, float64(c.Confirmed[rule]), name, rule)
			}
		}
	}
	ch.flush()
	for _, name := range names {
		if c := content[name]; c.MaxAge > 0 {
			ch.gauge(contentMaxAge, float64(c.MaxAge), name)
		}
	}
	ch.flush()
	for _, name := range names {
		if c := content[name]; c.HasAge {
			ch.gauge(contentAge, float64(c.Age), name)
		}
	}
	ch.flush()
}

package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

const ns = "creditwatch"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(ns+"_"+name, help, labels, nil)
}

var (
	probeSuccess = desc("probe_success",
		"Whether the latest probe of the target succeeded (1) or failed (0). Refreshed at each probe, every target interval.", "target")
	probeDuration = desc("probe_duration_seconds",
		"Duration of each phase of the latest probe; the phases add up to the probe's total time.", "target", "phase")
	probeStatus = desc("probe_http_status_code",
		"HTTP status code of the latest probe, 0 if no response was received.", "target")
	probeOutcome = desc("probe_outcome_total",
		"Probes by outcome class since the ledger was created.", "target", "outcome")
	probeLast = desc("probe_last_timestamp_seconds",
		"Time the latest probe of the target started.", "target")
	certExpiry = desc("tls_cert_expiry_timestamp_seconds",
		"Earliest NotAfter of the certificates the target presented on its latest TLS probe.", "target")
	incidents = desc("portal_incidents_total",
		"Confirmed inaccessibility incidents recorded in the ledger, all time; continues across restarts.", "target")
	incidentOpen = desc("portal_incident_open",
		"Whether an inaccessibility incident of the target is open.", "target")
	incidentSince = desc("portal_incident_start_timestamp_seconds",
		"Start (first failed probe) of the target's open incident; absent when none is open.", "target")
	risks = desc("portal_risk_events_total",
		"Failure streaks too short to confirm an incident, recorded in the ledger, all time.", "target")
	collectorSuccess = desc("collector_success",
		"Whether the collector's latest run completed; a failing portal is still a successful probe run.", "collector", "target")
	collectorDuration = desc("collector_duration_seconds",
		"Duration of the collector's latest run.", "collector", "target")
	collectorLastSuccess = desc("collector_last_success_timestamp_seconds",
		"Time the collector last completed a run.", "collector", "target")
	indicatorPoints = desc("indicator_points",
		"Points of an observable indicator for the assessment period to date, recomputed after every change in the ledger.", "indicator")
	indicatorMonth = desc("indicator_month_points",
		"Points of an observable indicator counting only the current month's deductions (Asia/Shanghai).", "indicator")
	indicatorMax = desc("indicator_max_points",
		"Maximum points of an observable indicator under the ledger's rules.", "indicator")
	gatePass = desc("indicator_gate_pass",
		"Whether a basic-indicator gate currently passes (1) or fails (0).", "indicator")
	reloadOK = desc("config_last_reload_successful",
		"Whether the latest configuration reload succeeded.")
	reloadTime = desc("config_last_reload_success_timestamp_seconds",
		"Time of the latest successful configuration reload.")
	leaseHeld = desc("lease_held",
		"Whether this instance runs the jobs that run on one instance of those sharing the ledger (platform polling, export imports, report delivery, retention).")
	leaseSince = desc("lease_acquired_timestamp_seconds",
		"When this instance took the lease of the jobs that run on one instance, while it holds it.")
	calendarHorizon = desc("calendar_last_known_day_timestamp_seconds",
		"Start (midnight Asia/Shanghai) of the last day the working-day calendar knows; past it, deadlines cannot be worked out.")
)

// Collector exposes a Store to Prometheus.
type Collector struct{ s *Store }

// NewCollector returns a prometheus.Collector over the store's latest snapshots.
func NewCollector(s *Store) *Collector { return &Collector{s: s} }

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{probeSuccess, probeDuration, probeStatus, probeOutcome, probeLast,
		certExpiry, incidents, incidentOpen, incidentSince, risks, collectorSuccess, collectorDuration,
		collectorLastSuccess, indicatorPoints, indicatorMonth, indicatorMax, gatePass, reloadOK, reloadTime, calendarHorizon, leaseHeld, leaseSince} {
		ch <- d
	}
	for _, d := range append(append(append(publicityDescs, caseDescs...), contentDescs...), infoDescs...) {
		ch <- d
	}
	c.s.skew.Describe(ch)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.cur.Load()
	portals := st.portals.values()
	for _, name := range sortedKeys(portals) {
		p := portals[name]
		for _, o := range Outcomes {
			ch <- prometheus.MustNewConstMetric(probeOutcome, prometheus.CounterValue, p.OutcomeTotals[o], name, o)
		}
		ch <- prometheus.MustNewConstMetric(incidents, prometheus.CounterValue, float64(p.IncidentsTotal), name)
		ch <- prometheus.MustNewConstMetric(risks, prometheus.CounterValue, float64(p.RiskTotal), name)
		gauge(ch, incidentOpen, b2f(p.IncidentOpen), name)
		if p.IncidentOpen {
			gauge(ch, incidentSince, float64(p.OpenSince.UnixMilli())/1e3, name)
		}
		if !p.Probed {
			continue
		}
		gauge(ch, probeSuccess, b2f(p.Success), name)
		gauge(ch, probeStatus, float64(p.StatusCode), name)
		gauge(ch, probeLast, float64(p.LastProbe.UnixMilli())/1e3, name)
		for _, ph := range Phases {
			gauge(ch, probeDuration, p.PhaseSeconds[ph], name, ph)
		}
		if !p.CertExpiry.IsZero() {
			gauge(ch, certExpiry, float64(p.CertExpiry.Unix()), name)
		}
	}
	for _, r := range st.runs.values() {
		gauge(ch, collectorSuccess, b2f(r.Success), r.Collector, r.Target)
		gauge(ch, collectorDuration, r.Duration.Seconds(), r.Collector, r.Target)
		if !r.LastSuccess.IsZero() {
			gauge(ch, collectorLastSuccess, float64(r.LastSuccess.UnixMilli())/1e3, r.Collector, r.Target)
		}
	}
	c.s.skew.Collect(ch)
	collectCards(ch, st)
	collectPublicity(ch, st)
	collectCases(ch, st)
	collectContent(ch, st)
	collectInfo(ch, st)
	gauge(ch, reloadOK, b2f(st.reloadOK))
	if !st.reloadAt.IsZero() {
		gauge(ch, reloadTime, float64(st.reloadAt.Unix()))
	}
	if st.leaseKnown {
		gauge(ch, leaseHeld, b2f(!st.leaseSince.IsZero()))
		if !st.leaseSince.IsZero() {
			gauge(ch, leaseSince, float64(st.leaseSince.UnixMilli())/1e3)
		}
	}
	if !st.calendar.IsZero() {
		gauge(ch, calendarHorizon, float64(st.calendar.Unix()))
	}
}

func collectCards(ch chan<- prometheus.Metric, st *state) {
	if st.period == nil {
		return
	}
	for _, r := range st.period.Results {
		if !r.Observable {
			continue
		}
		if r.MaxPoints > 0 {
			gauge(ch, indicatorMax, r.MaxPoints, r.ID)
			if r.Known {
				gauge(ch, indicatorPoints, r.Points, r.ID)
			}
		}
		if r.Gate && r.Known {
			gauge(ch, gatePass, b2f(r.GatePass), r.ID)
		}
	}
	if st.month == nil {
		return
	}
	for _, r := range st.month.Results {
		if r.Observable && r.Known && r.MaxPoints > 0 {
			gauge(ch, indicatorMonth, r.Points, r.ID)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package metrics

import (
	"cmp"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

const ns = "creditwatch"

// descSpec is what a series' description was made of, for a collector to make it again
// with its vantage label.
type descSpec struct {
	name, help string
	labels     []string
}

// specs are the package's descriptions, by the description made without a vantage.
var specs = map[*prometheus.Desc]descSpec{}

func desc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(ns+"_"+name, help, labels, nil)
	specs[d] = descSpec{name: ns + "_" + name, help: help, labels: labels}
	return d
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
type Collector struct {
	s *Store
	// descs are the package's descriptions with the vantage label, nil without one.
	descs map[*prometheus.Desc]*prometheus.Desc
	// noSkew leaves out creditwatch_collector_start_skew_seconds (Store.SkewCollector).
	noSkew bool
	// layouts and sink serve Stream, one scrape at a time (sinkMu).
	layouts map[*prometheus.Desc]*layout
	sinkMu  sync.Mutex
	sink    *familySink
}

// NewCollector returns a prometheus.Collector over the store's latest snapshots.
func NewCollector(s *Store) *Collector { return &Collector{s: s, layouts: layouts("")} }

// NewVantageCollector is NewCollector with a constant vantage label on every series: the
// same as wrapping it with prometheus.WrapRegistererWith, without rebuilding each series'
// description at every scrape (some 165,000 series with 5,000 targets). It leaves out the
// start skew histogram, a collector of its own (Store.SkewCollector) to wrap.
func NewVantageCollector(s *Store, vantage string) *Collector {
	descs := make(map[*prometheus.Desc]*prometheus.Desc, len(specs))
	for d, sp := range specs {
		descs[d] = prometheus.NewDesc(sp.name, sp.help, sp.labels, prometheus.Labels{"vantage": vantage})
	}
	return &Collector{s: s, descs: descs, noSkew: true, layouts: layouts(vantage)}
}

// emit sends a collector's series to a registry (ch), with their descriptions as the
// collector has them, or to a stream (fs).
type emit struct {
	ch    chan<- prometheus.Metric
	fs    *familySink
	descs map[*prometheus.Desc]*prometheus.Desc
}

func (e emit) desc(d *prometheus.Desc) *prometheus.Desc {
	if v, ok := e.descs[d]; ok {
		return v
	}
	return d
}

func (e emit) gauge(d *prometheus.Desc, v float64, labels ...string) {
	if e.fs != nil {
		e.fs.value(d, prometheus.GaugeValue, v, labels)
		return
	}
	e.ch <- prometheus.MustNewConstMetric(e.desc(d), prometheus.GaugeValue, v, labels...)
}

func (e emit) counter(d *prometheus.Desc, v float64, labels ...string) {
	if e.fs != nil {
		e.fs.value(d, prometheus.CounterValue, v, labels)
		return
	}
	e.ch <- prometheus.MustNewConstMetric(e.desc(d), prometheus.CounterValue, v, labels...)
}

func (e emit) histogram(d *prometheus.Desc, count uint64, sum float64, buckets map[float64]uint64, labels ...string) {
	if e.fs != nil {
		e.fs.histogram(d, count, sum, buckets, labels)
		return
	}
	e.ch <- prometheus.MustNewConstHistogram(e.desc(d), count, sum, buckets, labels...)
}

// flush says that the families sent so far are complete: a stream encodes them and
// reuses their storage for the next ones. The families of thousands of series are each
// followed by a flush.
func (e emit) flush() {
	if e.fs != nil {
		e.fs.flush()
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	e := emit{descs: c.descs}
	for _, d := range []*prometheus.Desc{probeSuccess, probeDuration, probeStatus, probeOutcome, probeLast,
		certExpiry, incidents, incidentOpen, incidentSince, risks, collectorSuccess, collectorDuration,
		collectorLastSuccess, indicatorPoints, indicatorMonth, indicatorMax, gatePass, reloadOK, reloadTime, calendarHorizon, leaseHeld, leaseSince} {
		ch <- e.desc(d)
	}
	for _, d := range append(append(append(publicityDescs, caseDescs...), contentDescs...), infoDescs...) {
		ch <- e.desc(d)
	}
	if !c.noSkew {
		c.s.skew.Describe(ch)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

var (
	sortedOutcomes = slices.Sorted(slices.Values(Outcomes))
	sortedPhases   = slices.Sorted(slices.Values(Phases))
)

// Collect implements prometheus.Collector. The series of a family are sent in the order
// the registry sorts them in (by their labels' values, the labels taken by name), so that
// its sort of a family of thousands of series finds them sorted.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.collect(emit{ch: ch, descs: c.descs})
	if !c.noSkew {
		c.s.skew.Collect(ch)
	}
}

// perTarget is one target's series of a family, and whether it has one.
type perTarget func(p *Portal) (v float64, ok bool)

// collect sends the store's series; a family of a series per target is sent whole, then
// flushed.
func (c *Collector) collect(e emit) {
	st := c.s.cur.Load()
	portals := st.portals.values()
	names := sortedKeys(portals)
	for _, o := range sortedOutcomes { // labels outcome, target
		for _, name := range names {
			e.counter(probeOutcome, portals[name].OutcomeTotals[o], name, o)
		}
	}
	e.flush()
	for _, ph := range sortedPhases { // labels phase, target
		for _, name := range names {
			if p := portals[name]; p.Probed {
				e.gauge(probeDuration, p.PhaseSeconds[ph], name, ph)
			}
		}
	}
	e.flush()
	always := func(f func(p *Portal) float64) perTarget {
		return func(p *Portal) (float64, bool) { return f(p), true }
	}
	probed := func(f func(p *Portal) float64) perTarget {
		return func(p *Portal) (float64, bool) { return f(p), p.Probed }
	}
	for _, f := range []struct {
		d       *prometheus.Desc
		counter bool
		v       perTarget
	}{
		{incidents, true, always(func(p *Portal) float64 { return float64(p.IncidentsTotal) })},
		{risks, true, always(func(p *Portal) float64 { return float64(p.RiskTotal) })},
		{incidentOpen, false, always(func(p *Portal) float64 { return b2f(p.IncidentOpen) })},
		{incidentSince, false, func(p *Portal) (float64, bool) {
			return float64(p.OpenSince.UnixMilli()) / 1e3, p.IncidentOpen
		}},
		{probeSuccess, false, probed(func(p *Portal) float64 { return b2f(p.Success) })},
		{probeStatus, false, probed(func(p *Portal) float64 { return float64(p.StatusCode) })},
		{probeLast, false, probed(func(p *Portal) float64 { return float64(p.LastProbe.UnixMilli()) / 1e3 })},
		{certExpiry, false, func(p *Portal) (float64, bool) {
			return float64(p.CertExpiry.Unix()), p.Probed && !p.CertExpiry.IsZero()
		}},
	} {
		for _, name := range names {
			v, ok := f.v(portals[name])
			switch {
			case !ok:
			case f.counter:
				e.counter(f.d, v, name)
			default:
				e.gauge(f.d, v, name)
			}
		}
		e.flush()
	}
	runs := make([]*Run, 0, len(st.runs))
	for _, r := range st.runs.values() {
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b *Run) int { // labels collector, target
		return cmp.Or(cmp.Compare(a.Collector, b.Collector), cmp.Compare(a.Target, b.Target))
	})
	for _, r := range runs {
		e.gauge(collectorSuccess, b2f(r.Success), r.Collector, r.Target)
	}
	e.flush()
	for _, r := range runs {
		e.gauge(collectorDuration, r.Duration.Seconds(), r.Collector, r.Target)
	}
	e.flush()
	for _, r := range runs {
		if !r.LastSuccess.IsZero() {
			e.gauge(collectorLastSuccess, float64(r.LastSuccess.UnixMilli())/1e3, r.Collector, r.Target)
		}
	}
	e.flush()
	collectCards(e, st)
	collectPublicity(e, st)
	collectCases(e, st)
	collectContent(e, st)
	collectInfo(e, st)
	e.gauge(reloadOK, b2f(st.reloadOK))
	if !st.reloadAt.IsZero() {
		e.gauge(reloadTime, float64(st.reloadAt.Unix()))
	}
	if st.leaseKnown {
		e.gauge(leaseHeld, b2f(!st.leaseSince.IsZero()))
		if !st.leaseSince.IsZero() {
			e.gauge(leaseSince, float64(st.leaseSince.UnixMilli())/1e3)
		}
	}
	if !st.calendar.IsZero() {
		e.gauge(calendarHorizon, float64(st.calendar.Unix()))
	}
}

func collectCards(ch emit, st *state) {
	if st.period == nil {
		return
	}
	for _, r := range st.period.Results {
		if !r.Observable {
			continue
		}
		if r.MaxPoints > 0 {
			ch.gauge(indicatorMax, r.MaxPoints, r.ID)
			if r.Known {
				ch.gauge(indicatorPoints, r.Points, r.ID)
			}
		}
		if r.Gate && r.Known {
			ch.gauge(gatePass, b2f(r.GatePass), r.ID)
		}
	}
	if st.month == nil {
		return
	}
	for _, r := range st.month.Results {
		if r.Observable && r.Known && r.MaxPoints > 0 {
			ch.gauge(indicatorMonth, r.Points, r.ID)
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

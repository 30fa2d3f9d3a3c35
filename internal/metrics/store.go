// Package metrics publishes creditwatch's state to Prometheus. Collectors run on their own
// schedule and publish immutable snapshots here; /metrics only reads the latest ones, so a
// scrape never waits for a probe and never triggers one.
package metrics

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creditwatch/creditwatch/internal/card"
)

// Outcomes are the probe outcome classes, always exported so that rate() sees zeros.
var Outcomes = []string{"ok", "timeout", "connect_error", "dns_error", "tls_error", "http_status", "content_mismatch", "challenged"}

// Phases of a probe; they add up to its total time.
var Phases = []string{"dns", "connect", "tls", "first_byte", "transfer"}

// Portal is the latest state of one probed target.
type Portal struct {
	Target         string
	Probed         bool // false until the first probe since start
	Success        bool
	Outcome        string
	StatusCode     int
	PhaseSeconds   map[string]float64
	OutcomeTotals  map[string]float64 // all-time, continued from the ledger
	CertExpiry     time.Time
	IncidentsTotal int
	IncidentOpen   bool
	OpenSince      time.Time
	// OpenOutcome is the outcome class the open incident was confirmed with (one of
	// Outcomes); empty when none is open.
	OpenOutcome string
	RiskTotal   int
	LastProbe   time.Time
	LastError   string // for the status page only, never a label
}

// Run is the outcome of a collector's last run.
type Run struct {
	Collector   string
	Target      string
	Success     bool
	Duration    time.Duration
	LastSuccess time.Time
}

type runKey struct{ collector, target string }

type state struct {
	portals  cells[string, Portal]
	runs     cells[runKey, Run]
	period   *card.Card // the assessment period to date
	month    *card.Card // the current month alone
	reloadOK bool
	reloadAt time.Time
	// lease: whether this instance runs the jobs that run once among the instances sharing
	// the ledger, and since when (zero: it does not).
	leaseKnown bool
	leaseSince time.Time
	calendar   time.Time // the last day the working-day calendar knows

	content       cells[string, Content] // by target
	reports       *Reports               // nil: credit reports are not checked
	security      float64
	securityKnown bool

	sourceErrors   map[sourceKey]float64
	sourceRecords  map[sourceKey]float64
	sourceOK       map[string]time.Time
	sourceRejected map[string]int // files rejected and still in an export directory, by source

	targets []TargetInfo // the configured portal targets, in config order
	links   Links
}

// Store holds the latest snapshots. Writers copy and swap; readers never block.
type Store struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[state]
	// skew is how late collector runs start against their scheduled phase.
	skew *prometheus.HistogramVec
}

// StartSkewBuckets are the buckets of creditwatch_collector_start_skew_seconds.
var StartSkewBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{skew: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "collector_start_skew_seconds",
		Help:    "How late each collector run (a portal probe, a poll, an import) started against its scheduled phase.",
		Buckets: StartSkewBuckets,
	}, []string{"collector"})}
	s.cur.Store(&state{portals: cells[string, Portal]{}, runs: cells[runKey, Run]{}, content: cells[string, Content]{},
		reloadOK: true})
	return s
}

func (s *Store) update(f func(*state)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.cur.Load()
	next := *old
	f(&next)
	s.cur.Store(&next)
}

// SetPortal publishes a target's new state; p must not be modified afterwards.
func (s *Store) SetPortal(p *Portal) {
	set(s, func(st *state) *cells[string, Portal] { return &st.portals }, p.Target, p)
}

// SetPortals publishes the latest state of many targets at once: the target set is copied
// once, not once per new target (a start with 20,000 targets).
func (s *Store) SetPortals(ps []*Portal) {
	s.update(func(st *state) {
		out := make(cells[string, Portal], len(st.portals)+len(ps))
		maps.Copy(out, st.portals)
		for _, p := range ps {
			cell := out[p.Target]
			if cell == nil {
				cell = &atomic.Pointer[Portal]{}
				out[p.Target] = cell
			}
			cell.Store(p)
		}
		st.portals = out
	})
}

// Portal returns a target's latest state.
func (s *Store) Portal(target string) (*Portal, bool) {
	return s.cur.Load().portals.get(target)
}

// Portals returns every target's latest state.
func (s *Store) Portals() map[string]*Portal { return s.cur.Load().portals.values() }

// KeepPortals drops targets that are no longer configured.
func (s *Store) KeepPortals(names map[string]bool) {
	s.update(func(st *state) {
		st.portals = st.portals.keep(func(k string) bool { return names[k] })
		st.content = st.content.keep(func(k string) bool { return names[k] })
		st.runs = st.runs.keep(func(k runKey) bool { return k.collector != "portal" || names[k.target] })
		// Each target's run and content cells are made here, empty, so that its first probe
		// fills them in place rather than copying the set (once per target: a start with
		// 20,000 targets would copy 20,000 entries 40,000 times).
		for name := range names {
			if st.content[name] == nil {
				st.content[name] = &atomic.Pointer[Content]{}
			}
			if k := (runKey{"portal", name}); st.runs[k] == nil {
				st.runs[k] = &atomic.Pointer[Run]{}
			}
		}
	})
}

// RecordRun publishes the outcome of a collector run. A collector's runs never overlap.
func (s *Store) RecordRun(collector, target string, ok bool, d time.Duration, end time.Time) {
	k := runKey{collector, target}
	r := &Run{Collector: collector, Target: target, Success: ok, Duration: d}
	if prev, found := s.cur.Load().runs.get(k); found {
		r.LastSuccess = prev.LastSuccess
	}
	if ok {
		r.LastSuccess = end
	}
	set(s, func(st *state) *cells[runKey, Run] { return &st.runs }, k, r)
}

// SkewCollector is creditwatch_collector_start_skew_seconds alone, for a NewVantageCollector.
func (s *Store) SkewCollector() prometheus.Collector { return s.skew }

// StartSkew is the observer of how late a collector kind's runs start, in seconds.
func (s *Store) StartSkew(collector string) prometheus.Observer {
	return s.skew.WithLabelValues(collector)
}

// SetCards publishes the latest cards: the period to date and the current month alone.
// They must not be modified afterwards.
func (s *Store) SetCards(period, month *card.Card) {
	s.update(func(st *state) { st.period, st.month = period, month })
}

// Card returns the latest card of the period to date, nil before the first.
func (s *Store) Card() *card.Card { return s.cur.Load().period }

// SetCalendarHorizon publishes the last day the working-day calendar knows.
func (s *Store) SetCalendarHorizon(day time.Time) {
	s.update(func(st *state) { st.calendar = day })
}

// SetLease records whether this instance holds the lease of the jobs that run on one
// instance only (since: when it took it).
func (s *Store) SetLease(held bool, since time.Time) {
	s.update(func(st *state) {
		st.leaseKnown = true
		st.leaseSince = time.Time{}
		if held {
			st.leaseSince = since
		}
	})
}

// SetReload records the outcome of a config (re)load.
func (s *Store) SetReload(ok bool, at time.Time) {
	s.update(func(st *state) {
		st.reloadOK = ok
		if ok {
			st.reloadAt = at
		}
	})
}

// Package metrics publishes creditwatch's state to Prometheus. Collectors run on their own
// schedule and publish immutable snapshots here; /metrics only reads the latest ones, so a
// scrape never waits for a probe and never triggers one.
package metrics

import (
	"sync"
	"sync/atomic"
	"time"

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
	portals  map[string]*Portal
	runs     map[runKey]Run
	period   *card.Card // the assessment period to date
	month    *card.Card // the current month alone
	reloadOK bool
	reloadAt time.Time
	calendar time.Time // the last day the working-day calendar knows

	content       map[string]*Content // by target
	reports       *Reports            // nil: credit reports are not checked
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
}

// NewStore returns an empty store.
func NewStore() *Store {
	s := &Store{}
	s.cur.Store(&state{portals: map[string]*Portal{}, runs: map[runKey]Run{}, reloadOK: true})
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
	s.update(func(st *state) {
		m := make(map[string]*Portal, len(st.portals)+1)
		for k, v := range st.portals {
			m[k] = v
		}
		m[p.Target] = p
		st.portals = m
	})
}

// Portal returns a target's latest state.
func (s *Store) Portal(target string) (*Portal, bool) {
	p, ok := s.cur.Load().portals[target]
	return p, ok
}

// Portals returns every target's latest state.
func (s *Store) Portals() map[string]*Portal { return s.cur.Load().portals }

// KeepPortals drops targets that are no longer configured.
func (s *Store) KeepPortals(names map[string]bool) {
	s.update(func(st *state) {
		m := make(map[string]*Portal, len(names))
		for k, v := range st.portals {
			if names[k] {
				m[k] = v
			}
		}
		st.portals = m
		c := make(map[string]*Content, len(names))
		for k, v := range st.content {
			if names[k] {
				c[k] = v
			}
		}
		st.content = c
		r := make(map[runKey]Run, len(st.runs))
		for k, v := range st.runs {
			if k.collector != "portal" || names[k.target] {
				r[k] = v
			}
		}
		st.runs = r
	})
}

// RecordRun publishes the outcome of a collector run.
func (s *Store) RecordRun(collector, target string, ok bool, d time.Duration, end time.Time) {
	s.update(func(st *state) {
		m := make(map[runKey]Run, len(st.runs)+1)
		for k, v := range st.runs {
			m[k] = v
		}
		k := runKey{collector, target}
		r := Run{Collector: collector, Target: target, Success: ok, Duration: d, LastSuccess: m[k].LastSuccess}
		if ok {
			r.LastSuccess = end
		}
		m[k] = r
		st.runs = m
	})
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

// SetReload records the outcome of a config (re)load.
func (s *Store) SetReload(ok bool, at time.Time) {
	s.update(func(st *state) {
		st.reloadOK = ok
		if ok {
			st.reloadAt = at
		}
	})
}

// Package card computes the score card as of an instant, from the ledger alone: every
// figure as it stood just before that instant (records reported, cases closed, incidents
// confirmed and versions received after it are not known yet), over the period that
// contains it. The service, score, audit and the monthly report all use it, so that a
// figure comes out the same wherever and whenever it is computed.
package card

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Settings are the office's settings the card is computed under.
type Settings struct {
	// Anniversary is the first day of an assessment period; periods are a year long and
	// roll over on its anniversary. Zero: the calendar year.
	Anniversary time.Time
	Rounding    string
	Calendar    *workday.Calendar
	Cases       cases.Options
	Catalogue   *scoring.Catalogue
	// Quorum is how many vantages must see a site down at once for an outage to be scored
	// (portal.incident.quorum; 0 or 1: any).
	Quorum int
	// Sites are the sites of the configured targets, for telling which site a vantage
	// watched.
	Sites map[string]string
}

// SettingsOf reads the card's settings from a config, loading its working-day calendar:
// the built-in data plus the config's override file.
func SettingsOf(cfg *config.Config) (Settings, error) {
	cal := workday.Default
	if f := cfg.Calendar.OverridesFile; f != "" {
		o, err := workday.LoadOverrides(f)
		if err != nil {
			return Settings{}, err
		}
		cal = workday.New(o)
	}
	opts := cases.DefaultOptions()
	opts.Calendar, opts.RepairRule, opts.SpecialDomains = cal, cfg.Cases.RepairRule, cfg.Cases.SpecialDomains
	sites := map[string]string{}
	for _, t := range cfg.Portal.Targets {
		if t.IsScored() {
			sites[t.Name] = t.Site
		}
	}
	return Settings{Anniversary: cfg.Assessment.PeriodStart.Time, Rounding: cfg.Assessment.Rounding, Calendar: cal,
		Cases: opts, Catalogue: scoring.MustDefault(), Quorum: cfg.Portal.Incident.Quorum, Sites: sites}, nil
}

// PeriodStart is the start (midnight Asia/Shanghai) of the assessment period that the card
// as of at speaks for: the period of the day of the last instant before at, so that the
// card as of 1 January 00:00 is the closing card of the year before.
func (s Settings) PeriodStart(at time.Time) time.Time {
	day := clock.LastDay(at)
	if s.Anniversary.IsZero() {
		return clock.YearStart(day)
	}
	p := s.Anniversary.In(clock.Shanghai)
	start := time.Date(day.Year(), p.Month(), p.Day(), 0, 0, 0, 0, clock.Shanghai)
	if start.After(day) {
		start = start.AddDate(-1, 0, 0)
	}
	return start
}

// Now is the instant a card "as of now" is computed at: just after the current millisecond,
// so that everything recorded up to now (the ledger keeps milliseconds) is known.
func Now(t time.Time) time.Time { return t.Truncate(time.Millisecond).Add(time.Millisecond) }

// MonthStart is the start of the month the card as of at speaks for.
func MonthStart(at time.Time) time.Time { return clock.MonthStart(clock.LastDay(at)) }

// Card is the score card as of an instant, with the figures it was computed from.
type Card struct {
	At, From  time.Time
	Results   []scoring.Result
	Portal    *Portal
	Publicity *Publicity
	Cases     *Cases
	Reports   *Reports   // the enterprise credit report checks
	Security  *Security  // security incidents
	ListPages []ListPage // list pages' freshness: a content warning, not scored
}

// Options change what Compute does.
type Options struct {
	// Cache, when set, keeps the publicity figures of a day between computations as of
	// now: they are the costliest part and change only when the ledger's records do.
	Cache *Cache
}

// Compute returns the card as of at over the period [from, at).
func Compute(ctx context.Context, l *ledger.Ledger, s Settings, at, from time.Time, o Options) (*Card, error) {
	// An import publishing meanwhile is seen whole or not at all.
	ctx, release, err := l.HoldPublications(ctx, PublishWait)
	if err != nil {
		return nil, err
	}
	defer release()
	c := &Card{At: at, From: from}
	obs := map[string]scoring.Observation{}
	for _, p := range producers {
		got, err := p.produce(ctx, l, s, c, o)
		if err != nil {
			return nil, fmt.Errorf("computing %s as of %s: %w", p.name, clock.Stamp(at), err)
		}
		for k, v := range got {
			if !slices.Contains(p.inputs, k) {
				return nil, fmt.Errorf("the %s produced input %s it does not declare", p.name, k)
			}
			obs[k] = v
		}
	}
	cat := s.Catalogue
	if cat == nil {
		cat = scoring.MustDefault()
	}
	c.Results = scoring.Card(cat, obs, scoring.Options{Rounding: s.Rounding})
	return c, nil
}

// PublishWait is how long a card waits for an import that another process is publishing.
const PublishWait = 30 * time.Second

// Period returns the card of the assessment period as of at.
func Period(ctx context.Context, l *ledger.Ledger, s Settings, at time.Time, o Options) (*Card, error) {
	return Compute(ctx, l, s, at, s.PeriodStart(at), o)
}

// Month returns the card of the month as of at: the month's own deductions.
func Month(ctx context.Context, l *ledger.Ledger, s Settings, at time.Time, o Options) (*Card, error) {
	return Compute(ctx, l, s, at, MonthStart(at), o)
}

// Result returns the row of an indicator.
func (c *Card) Result(id string) (scoring.Result, bool) {
	for _, r := range c.Results {
		if r.ID == id {
			return r, true
		}
	}
	return scoring.Result{}, false
}

// Cache keeps publicity figures between computations as of now.
type Cache struct {
	mu      sync.Mutex
	entries map[cacheKey]*Publicity
}

type cacheKey struct {
	version   int64
	day, from string
}

func (c *Cache) get(k cacheKey) *Publicity {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[k]
}

func (c *Cache) put(k cacheKey, p *Publicity) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) > 8 {
		c.entries = map[cacheKey]*Publicity{}
	}
	c.entries[k] = p
}

// Portal is what the portal's incidents add up to as of the card's instant.
type Portal struct {
	// Incidents are the targets' incidents as of the instant that were still going on at,
	// or began after, the period's start (a later end is not known yet: they are open).
	Incidents []ledger.Incident
	// Outages are the scored outages confirmed in the period.
	Outages []incident.Outage
}

// Publicity is the double-publicity figures of the period as of the card's instant.
type Publicity struct {
	Departments []ledger.DepartmentFigures // ratios computed
	Codes       publicity.CodeStats
	Published   int       // records published in the period: the objection share's denominator
	NextWorkday time.Time // zero when the calendar does not know it
	Watched     bool      // the ledger holds publicity records at all
	// Unknown says why the rates gate cannot be decided, "" when it can.
	Unknown string
}

// Cases is the objections and repairs of the period as of the card's instant.
type Cases struct {
	Summary        cases.Summary
	Objections     []cases.ObjectionFinding
	Repairs        []cases.RepairFinding
	HaveObjections bool
	HaveRepairs    bool
}

// Package collectors holds creditwatch's scheduled collectors. Each one fetches from the
// watched platform, parses what it got with pure functions, and emits the result to the
// ledger and the metrics store. Adding a collector kind means adding its file and one line
// to kinds below.
package collectors

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Collector is one scheduled unit of work: one portal target, one data source.
type Collector interface {
	// Kind is the collector kind, the value of the collector label.
	Kind() string
	// Target is the configured name of what it watches, the value of the target label.
	Target() string
	// Interval and Jitter set its schedule.
	Interval() time.Duration
	Jitter() time.Duration
	// Collect does one run. It returns promptly when ctx ends. An error means creditwatch
	// itself failed (it could not record what it saw), not that the platform did.
	Collect(ctx context.Context) error
}

// Deps are what collectors share.
type Deps struct {
	Ledger  *ledger.Ledger
	Store   *metrics.Store
	Logger  *zap.Logger
	Vantage string
	// Changed is called after a collector recorded something that may change the scores.
	Changed func()
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Calendar is the working-day calendar; workday.Default when nil.
	Calendar *workday.Calendar
	// PeriodStart is the start of the assessment period the card as of an instant speaks
	// for (card.Settings.PeriodStart); the calendar year when nil.
	PeriodStart func(time.Time) time.Time
}

// periodStart is the start of the assessment period that contains the instant t.
func (d Deps) periodStart(t time.Time) time.Time {
	at := t.Add(time.Millisecond)
	if d.PeriodStart != nil {
		return d.PeriodStart(at)
	}
	return clock.YearStart(clock.LastDay(at))
}

func (d Deps) calendar() *workday.Calendar {
	if d.Calendar != nil {
		return d.Calendar
	}
	return workday.Default
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) changed() {
	if d.Changed != nil {
		d.Changed()
	}
}

// kinds builds the collectors of each kind from the config: one line per kind.
var kinds = []func(*config.Config, Deps) ([]Collector, error){
	portalCollectors,
	platformCollectors,
	exportCollectors,
	reportCollectors,
}

// seeders continue each kind's counters from the ledger before its collectors first run.
var seeders = []func(context.Context, []Collector, Deps) error{
	seedPortals,
	seedContent,
	seedReports,
	seedExports,
}

// Seed continues the counters of the collectors from the ledger.
func Seed(ctx context.Context, cs []Collector, d Deps) error {
	for _, s := range seeders {
		if err := s(ctx, cs, d); err != nil {
			return err
		}
	}
	return nil
}

// Build returns every collector the config asks for.
func Build(cfg *config.Config, d Deps) ([]Collector, error) {
	var all []Collector
	var errs []error
	for _, k := range kinds {
		cs, err := k(cfg, d)
		errs = append(errs, err)
		all = append(all, cs...)
	}
	return all, errors.Join(errs...)
}

// UserAgent is the User-Agent a probe sends: the target's, and when it is the default, the
// vantage in it too, so that the portal's logs (and a test's fault server) can tell the
// vantages apart.
func UserAgent(configured, vantage string) string {
	if configured != config.DefaultUserAgent || vantage == "" {
		return configured
	}
	return "creditwatch (credit portal availability monitor; vantage " + vantage + ")"
}

// Run executes one run of c and records creditwatch_collector_* for it.
func Run(ctx context.Context, c Collector, d Deps) {
	start := d.now()
	err := c.Collect(ctx)
	end := d.now()
	d.Store.RecordRun(c.Kind(), c.Target(), err == nil, end.Sub(start), end)
	if err != nil && ctx.Err() == nil {
		d.Logger.Error("collector run failed", zap.String("collector", c.Kind()),
			zap.String("target", c.Target()), zap.Error(err))
	}
}

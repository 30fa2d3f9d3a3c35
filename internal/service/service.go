// Package service is the running creditwatch: it owns the ledger, the metrics store, the
// scheduler and the current config, and swaps configs on reload.
package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/collectors"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/schedule"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Options start a service.
type Options struct {
	ConfigFile  string
	StoragePath string // overrides the config's storage.path when set
	Vantage     string
	Version     string
	Logger      *zap.Logger
	// Heartbeat is how often the run is marked alive in the ledger and scores refreshed.
	Heartbeat time.Duration
}

// Service is a running creditwatch.
type Service struct {
	opts    Options
	log     *zap.Logger
	ledger  *ledger.Ledger
	store   *metrics.Store
	sched   *schedule.Scheduler
	cat     *scoring.Catalogue
	cfg     atomic.Pointer[config.Config]
	cal     atomic.Pointer[workday.Calendar]
	reload  sync.Mutex
	runID   int64
	rescore chan struct{}
	ready   atomic.Bool
	pubKey  pubKey // of the publicity figures last published; only Rescore's goroutine uses it
	stop    context.CancelFunc
	done    chan struct{}
}

// Start loads the config, opens the ledger, restores counters and starts collecting.
func Start(ctx context.Context, opts Options) (*Service, error) {
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 30 * time.Second
	}
	cfg, err := config.Load(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	path := cfg.Storage.Path
	if opts.StoragePath != "" {
		path = opts.StoragePath
	}
	l, err := ledger.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &Service{
		opts: opts, log: opts.Logger, ledger: l, store: metrics.NewStore(), sched: schedule.New(),
		cat: scoring.MustDefault(), rescore: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if s.runID, err = l.StartRun(ctx, time.Now(), opts.Version); err != nil {
		l.Close()
		return nil, err
	}
	if err := s.apply(ctx, cfg); err != nil {
		s.sched.Stop(ctx)
		l.Close()
		return nil, err
	}
	s.store.SetReload(true, time.Now())
	if err := s.Rescore(ctx); err != nil {
		s.log.Error("scoring failed", zap.Error(err))
	}
	bg, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.loop(bg)
	s.ready.Store(true)
	s.log.Info("creditwatch started", zap.String("ledger", path), zap.Int("targets", len(cfg.Portal.Targets)),
		zap.String("vantage", opts.Vantage))
	return s, nil
}

// apply seeds counters of new targets from the ledger and schedules the config's collectors.
func (s *Service) apply(ctx context.Context, cfg *config.Config) error {
	cal := workday.Default
	if f := cfg.Calendar.OverridesFile; f != "" {
		o, err := workday.LoadOverrides(f)
		if err != nil {
			return err
		}
		cal = workday.New(o)
	}
	deps := collectors.Deps{Ledger: s.ledger, Store: s.store, Logger: s.log, Vantage: s.opts.Vantage, Changed: s.changed, Calendar: cal}
	cs, err := collectors.Build(cfg, deps)
	if err != nil {
		return err
	}
	totals, err := s.ledger.Totals(ctx)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for _, t := range cfg.Portal.Targets {
		names[t.Name] = true
		if _, ok := s.store.Portal(t.Name); ok {
			continue
		}
		snap := &metrics.Portal{Target: t.Name, OutcomeTotals: map[string]float64{}}
		if tt := totals[t.Name]; tt != nil {
			for k, v := range tt.Outcomes {
				snap.OutcomeTotals[k] = float64(v)
			}
			snap.IncidentsTotal, snap.RiskTotal = tt.Incidents, tt.RiskEvents
			if tt.Open != nil {
				snap.IncidentOpen, snap.OpenSince = true, tt.Open.StartedAt
			}
		}
		s.store.SetPortal(snap)
	}
	s.store.KeepPortals(names)
	jobs := make([]schedule.Job, 0, len(cs))
	for _, c := range cs {
		jobs = append(jobs, schedule.Job{
			Key: c.Kind() + "/" + c.Target(), Interval: c.Interval(), Jitter: c.Jitter(),
			Run: func(ctx context.Context) { collectors.Run(ctx, c, deps) },
		})
	}
	s.cfg.Store(cfg)
	s.cal.Store(cal)
	s.sched.Replace(jobs)
	return nil
}

// Reload re-reads the config file and swaps it in only if it is valid.
func (s *Service) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	cfg, err := config.Load(s.opts.ConfigFile)
	if err == nil {
		if old := s.cfg.Load(); s.opts.StoragePath == "" && cfg.Storage.Path != old.Storage.Path {
			err = fmt.Errorf("storage.path cannot change on reload (%s → %s); restart instead", old.Storage.Path, cfg.Storage.Path)
		}
	}
	if err == nil {
		err = s.apply(ctx, cfg)
	}
	s.store.SetReload(err == nil, time.Now())
	if err != nil {
		s.log.Error("config reload failed; keeping the running config", zap.String("file", s.opts.ConfigFile), zap.Error(err))
		return err
	}
	s.log.Info("config reloaded", zap.String("file", s.opts.ConfigFile), zap.Int("targets", len(cfg.Portal.Targets)))
	s.changed()
	return nil
}

func (s *Service) changed() {
	select {
	case s.rescore <- struct{}{}:
	default:
	}
}

func (s *Service) loop(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ledger.Heartbeat(ctx, s.runID, time.Now()); err != nil && ctx.Err() == nil {
				s.log.Error("heartbeat failed", zap.Error(err))
			}
		case <-s.rescore:
		}
		if err := s.Rescore(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scoring failed", zap.Error(err))
		}
	}
}

// Rescore recomputes the publicity figures and the score card from the ledger.
func (s *Service) Rescore(ctx context.Context) error {
	cfg := s.cfg.Load()
	now := time.Now()
	pub := s.store.PublicityNow()
	// Publicity figures depend only on the records and the day: recompute on a change.
	key := pubKey{version: s.ledger.PublicityVersion(), day: now.In(config.Shanghai).Format(time.DateOnly)}
	if pub == nil || key != s.pubKey {
		var err error
		if pub, err = PublicityNow(ctx, s.ledger, s.cal.Load(), now); err != nil {
			return err
		}
		s.store.SetPublicity(pub)
		s.pubKey = key
	}
	cs, err := CasesNow(ctx, s.ledger, s.cal.Load(), cfg, now)
	if err != nil {
		return err
	}
	s.store.SetCases(cs)
	card, err := ScoreWith(ctx, s.ledger, s.cat, cfg, now, pub, cs)
	if err != nil {
		return err
	}
	// The month's own deductions, beside the period to date.
	monthCfg := *cfg
	y, m, _ := now.In(config.Shanghai).Date()
	monthCfg.Assessment.PeriodStart.Time = time.Date(y, m, 1, 0, 0, 0, 0, config.Shanghai)
	monthCases, err := CasesNow(ctx, s.ledger, s.cal.Load(), &monthCfg, now)
	if err != nil {
		return err
	}
	month, err := ScoreWith(ctx, s.ledger, s.cat, &monthCfg, now, pub, monthCases)
	if err != nil {
		return err
	}
	s.store.SetCard(card)
	s.store.SetMonthCard(month)
	return nil
}

// CasesNow summarises the objection and repair cases of the assessment period to date.
func CasesNow(ctx context.Context, l *ledger.Ledger, cal *workday.Calendar, cfg *config.Config, now time.Time) (*metrics.Cases, error) {
	objs, err := l.Cases(ctx, cases.KindObjection)
	if err != nil {
		return nil, err
	}
	reps, err := l.Cases(ctx, cases.KindRepair)
	if err != nil {
		return nil, err
	}
	c := CaseChecker(cfg, cal, now)
	sum, _, _, err := c.Summarize(ParseObjections(objs), ParseRepairs(reps))
	if err != nil {
		return nil, err
	}
	return &metrics.Cases{Summary: sum, HaveObjections: len(objs) > 0, HaveRepairs: len(reps) > 0}, nil
}

// CaseChecker applies the configured case rules over the assessment period up to today.
func CaseChecker(cfg *config.Config, cal *workday.Calendar, now time.Time) *cases.Checker {
	opts := cases.DefaultOptions()
	opts.Calendar, opts.RepairRule, opts.SpecialDomains = cal, cfg.Cases.RepairRule, cfg.Cases.SpecialDomains
	y, m, d := now.In(config.Shanghai).Date()
	tomorrow := time.Date(y, m, d+1, 0, 0, 0, 0, config.Shanghai)
	return &cases.Checker{Opts: opts, Now: now, Period: cases.Period{From: cfg.Assessment.PeriodFrom(now), To: tomorrow}}
}

// ParseObjections reads stored objection cases.
func ParseObjections(recs []ledger.CaseRecord) []cases.Objection {
	out := make([]cases.Objection, len(recs))
	for i, r := range recs {
		out[i] = cases.ParseObjection(fieldsOf(r))
		out[i].ID = r.ID
	}
	return out
}

// ParseRepairs reads stored repair cases.
func ParseRepairs(recs []ledger.CaseRecord) []cases.Repair {
	out := make([]cases.Repair, len(recs))
	for i, r := range recs {
		out[i] = cases.ParseRepair(fieldsOf(r))
		out[i].ID = r.ID
	}
	return out
}

func fieldsOf(r ledger.CaseRecord) cases.Fields {
	return func(k string) string { return strings.TrimSpace(r.Fields[k]) }
}

type pubKey struct {
	version int64
	day     string
}

// PublicityNow computes the publicity figures of every department as of today.
func PublicityNow(ctx context.Context, l *ledger.Ledger, cal *workday.Calendar, now time.Time) (*metrics.Publicity, error) {
	y, m, d := now.In(config.Shanghai).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, config.Shanghai)
	next, err := cal.AddWorkdays(today, 1)
	if err != nil {
		return nil, fmt.Errorf("finding the next working day: %w", err)
	}
	figs, err := l.PublicityFigures(ctx, today, next)
	if err != nil {
		return nil, err
	}
	codes, err := l.PublicityCodeStats(ctx)
	if err != nil {
		return nil, err
	}
	p := &metrics.Publicity{Codes: codes}
	for _, f := range figs {
		p.Departments = append(p.Departments, metrics.PublicityDepartment{Kind: string(f.Kind), Department: f.Department,
			Figures: publicity.FinishFigures(f.Figures)})
	}
	return p, nil
}

// CalendarOf returns the working-day calendar of a config: built-in data plus overrides.
func CalendarOf(cfg *config.Config) (*workday.Calendar, error) {
	if f := cfg.Calendar.OverridesFile; f != "" {
		o, err := workday.LoadOverrides(f)
		if err != nil {
			return nil, err
		}
		return workday.New(o), nil
	}
	return workday.Default, nil
}

// Score computes the score card of the period from cfg's period start to now.
func Score(ctx context.Context, l *ledger.Ledger, cat *scoring.Catalogue, cfg *config.Config, now time.Time) ([]scoring.Result, error) {
	cal, err := CalendarOf(cfg)
	if err != nil {
		return nil, err
	}
	pub, err := PublicityNow(ctx, l, cal, now)
	if err != nil {
		return nil, err
	}
	cs, err := CasesNow(ctx, l, cal, cfg, now)
	if err != nil {
		return nil, err
	}
	return ScoreWith(ctx, l, cat, cfg, now, pub, cs)
}

// ScoreWith computes the score card of the period from cfg's period start to now, from
// publicity figures and case summaries already computed for that moment.
func ScoreWith(ctx context.Context, l *ledger.Ledger, cat *scoring.Catalogue, cfg *config.Config, now time.Time,
	pub *metrics.Publicity, cs *metrics.Cases) ([]scoring.Result, error) {
	from := cfg.Assessment.PeriodFrom(now)
	obs, err := Observe(ctx, l, from, now)
	if err != nil {
		return nil, err
	}
	for k, v := range ObservePublicity(pub) {
		obs[k] = v
	}
	published := -1
	if pub != nil && len(pub.Departments) > 0 {
		if published, err = l.CountPublicityReported(ctx, from, now.AddDate(0, 0, 1)); err != nil {
			return nil, err
		}
	}
	for k, v := range cs.Summary.Observations(published, cs.HaveObjections, cs.HaveRepairs) {
		obs[k] = v
	}
	return scoring.Card(cat, obs, scoring.Options{Rounding: cfg.Assessment.Rounding}), nil
}

// Observe gathers the rule inputs of the portal collectors for [from, to).
func Observe(ctx context.Context, l *ledger.Ledger, from, to time.Time) (map[string]scoring.Observation, error) {
	n, err := l.CountIncidentsStarted(ctx, from, to)
	if err != nil {
		return nil, err
	}
	return map[string]scoring.Observation{
		"portal_incidents": {Known: true, Count: float64(n)},
	}, nil
}

// ObservePublicity turns publicity figures into the gate's ratios (upload, compliance and
// timeliness of each kind, over all departments) and the code error rate. With no
// records at all, both stay unknown.
func ObservePublicity(p *metrics.Publicity) map[string]scoring.Observation {
	if p == nil || len(p.Departments) == 0 {
		return nil
	}
	byKind := map[string]*publicity.Figures{}
	var kinds []string
	for _, d := range p.Departments {
		f := byKind[d.Kind]
		if f == nil {
			f = &publicity.Figures{}
			byKind[d.Kind] = f
			kinds = append(kinds, d.Kind)
		}
		f.Due += d.Due
		f.Reported += d.Reported
		f.Compliant += d.Compliant
		f.Timely += d.Timely
	}
	sort.Strings(kinds)
	var ratios []float64
	for _, k := range kinds {
		f := publicity.FinishFigures(*byKind[k])
		ratios = append(ratios, f.UploadRatio, f.ComplianceRatio, f.TimelinessRatio)
	}
	return map[string]scoring.Observation{
		"publicity_upload_compliance_timeliness": {Known: true, Ratios: ratios},
		"uscc_error_rate":                        {Known: true, Value: p.Codes.ErrorRate()},
	}
}

// Vantage is the name of this vantage point.
func (s *Service) Vantage() string { return s.opts.Vantage }

// Ledger is the service's ledger, for the web pages.
func (s *Service) Ledger() *ledger.Ledger { return s.ledger }

// Store is the metrics store.
func (s *Service) Store() *metrics.Store { return s.store }

// Config is the running config.
func (s *Service) Config() *config.Config { return s.cfg.Load() }

// Catalogue is the indicator catalogue.
func (s *Service) Catalogue() *scoring.Catalogue { return s.cat }

// Ready reports whether the service has started.
func (s *Service) Ready() bool { return s.ready.Load() }

// Close stops collecting, waits for running probes up to ctx, and closes the ledger.
func (s *Service) Close(ctx context.Context) error {
	s.ready.Store(false)
	errSched := s.sched.Stop(ctx)
	s.stop()
	<-s.done
	errBeat := s.ledger.Heartbeat(context.Background(), s.runID, time.Now())
	return errors.Join(errSched, errBeat, s.ledger.Close())
}

// Package service is the running creditwatch: it owns the ledger, the metrics store, the
// scheduler and the current config, swaps configs on reload, and keeps the published score
// cards fresh. What the cards say is the card package's business.
package service

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/collectors"
	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/delivery"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/report"
	"github.com/creditwatch/creditwatch/internal/schedule"
)

// OthersEvery is how often a service looks whether another instance sharing its ledger
// wrote what changes the score.
const OthersEvery = 2 * time.Second

// Options start a service.
type Options struct {
	ConfigFile  string
	StoragePath string // overrides the config's storage.path when set
	Vantage     string
	Version     string
	Logger      *zap.Logger
	// Heartbeat is how often the run is marked alive in the ledger and scores refreshed.
	Heartbeat time.Duration
	// Clock is the time; the system clock when nil.
	Clock clock.Clock
}

// Service is a running creditwatch.
type Service struct {
	opts    Options
	log     *zap.Logger
	clock   clock.Clock
	lock    *ledger.Lock
	ledger  *ledger.Ledger
	store   *metrics.Store
	sched   *schedule.Scheduler
	cfg     atomic.Pointer[config.Config]
	set     atomic.Pointer[card.Settings]
	key     atomic.Pointer[ed25519.PrivateKey] // signs reports; nil entry: unsigned
	cache   card.Cache
	reload  sync.Mutex
	runID   int64
	rescore chan struct{}
	lease   lease
	ready   atomic.Bool
	stop    context.CancelFunc
	done    chan struct{}
}

// Start loads the config, takes the ledger for itself, restores counters and starts
// collecting.
func Start(ctx context.Context, opts Options) (*Service, error) {
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 30 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	cfg, err := config.Load(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	path := cfg.Storage.Ledger()
	if opts.StoragePath != "" {
		path = opts.StoragePath
	}
	s := &Service{opts: opts, log: opts.Logger, clock: opts.Clock, store: metrics.NewStore(), sched: schedule.New(),
		rescore: make(chan struct{}, 1), done: make(chan struct{})}
	// A SQLite ledger is one instance's, held by a lock file beside it; a PostgreSQL one
	// is shared, its writes ordered by the database (ledger.OpenPostgres).
	if !ledger.IsPostgresURL(path) {
		if s.lock, err = ledger.Acquire(path, opts.Version, opts.Clock.Now()); err != nil {
			return nil, err
		}
	}
	if s.ledger, err = ledger.OpenStorage(ctx, path, ledger.PostgresOptions{PasswordFile: cfg.Storage.PasswordFile}); err != nil {
		s.lock.Release()
		return nil, err
	}
	if err := s.begin(ctx, cfg, path); err != nil {
		s.sched.Stop(ctx)
		s.ledger.Close()
		s.lock.Release()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.loop(bg)
	s.ready.Store(true)
	s.log.Info("creditwatch started", zap.String("ledger", ledger.Describe(path)), zap.Int("targets", len(cfg.Portal.Targets)),
		zap.String("vantage", opts.Vantage))
	return s, nil
}

// protectPersonalData loads (or creates) the key ID numbers are hashed with and masks the
// ID numbers of records stored before they were.
func (s *Service) protectPersonalData(ctx context.Context, keyFile string) error {
	key, err := ledger.PersonalDataKey(keyFile)
	if err != nil {
		return err
	}
	if err := s.ledger.CheckPersonalDataKey(ctx, key, keyFile); err != nil {
		return err
	}
	s.ledger.SetPersonalDataKey(key)
	n, err := s.ledger.ProtectStoredIDs(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("masked stored ID numbers", zap.Int("records", n))
	}
	return nil
}

func (s *Service) begin(ctx context.Context, cfg *config.Config, path string) error {
	if err := s.protectPersonalData(ctx, cfg.Storage.PersonalDataKey(path)); err != nil {
		return err
	}
	// An import the last run left half done is finished (or dropped, to be read again)
	// before any figure is computed.
	published, dropped, err := s.ledger.RecoverImports(ctx)
	if err != nil {
		return err
	}
	if len(published)+len(dropped) > 0 {
		s.log.Info("finished the imports the last run left", zap.Strings("published", published), zap.Strings("read_again", dropped))
	}
	if s.runID, err = s.ledger.StartRun(ctx, s.clock.Now(), s.opts.Version, s.opts.Vantage); err != nil {
		return err
	}
	s.lease.holder = holderName(s.opts.Vantage, s.runID)
	s.lease.ttl.Store(int64(defaultLeaseTTL))
	s.renewLease(ctx)
	if err := s.apply(ctx, cfg, true); err != nil {
		return err
	}
	s.store.SetReload(true, s.clock.Now())
	if err := s.Rescore(ctx); err != nil {
		s.log.Error("scoring failed", zap.Error(err))
	}
	// A delivery missed while creditwatch was down happens now.
	s.deliver(ctx)
	return nil
}

// deliveryJob runs deliver every day at reports.deliver_at, Asia/Shanghai (a calendar job,
// run by cron): a month's report is due on the first working day after it ends, at that
// time, and deliver hands over what is due.
func deliveryJob(cfg *config.Config, deliver func(context.Context)) schedule.Job {
	spec := "0 9 * * *"
	if at, err := time.Parse("15:04", cfg.Reports.DeliverAt); err == nil { // checked by config.Load
		spec = fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
	}
	return schedule.Job{Key: "reports/delivery", Spec: spec, Run: deliver}
}

// deliver hands over the monthly reports that are due, on the lease holder.
func (s *Service) deliver(ctx context.Context) {
	if !s.lease.held.Load() {
		return
	}
	d := &delivery.Deliverer{Ledger: s.ledger, Config: s.cfg.Load(), Settings: *s.set.Load(), Key: *s.key.Load(),
		Renderer: s.opts.Version, Log: s.log}
	if err := d.Run(ctx, s.clock.Now()); err != nil && ctx.Err() == nil {
		s.log.Error("report delivery failed", zap.Error(err))
	}
}

// apply ends the incidents of targets no longer watched, seeds the collectors' counters
// from the ledger and schedules the config's collectors.
func (s *Service) apply(ctx context.Context, cfg *config.Config, starting bool) error {
	set, err := card.SettingsOf(cfg)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if f := cfg.Reports.SigningKeyFile; f != "" {
		if key, err = report.LoadSigningKey(f); err != nil {
			return err
		}
	}
	deps := collectors.Deps{Ledger: s.ledger, Store: s.store, Logger: s.log, Vantage: s.opts.Vantage, Changed: s.changed,
		Calendar: set.Calendar, Now: s.clock.Now, PeriodStart: set.PeriodStart}
	cs, err := collectors.Build(cfg, deps)
	if err != nil {
		return err
	}
	if err := s.stopWatching(ctx, cfg, starting); err != nil {
		return err
	}
	if err := collectors.Seed(ctx, cs, deps); err != nil {
		return err
	}
	jobs := make([]schedule.Job, 0, len(cs))
	var single []func(context.Context)
	for _, c := range cs {
		skew := s.store.StartSkew(c.Kind())
		run := func(ctx context.Context) { collectors.Run(ctx, c, deps) }
		if singleKinds[c.Kind()] {
			run = s.single(run)
			single = append(single, run)
		}
		jobs = append(jobs, schedule.Job{
			Key: c.Kind() + "/" + c.Target(), Interval: c.Interval(), Jitter: c.Jitter(),
			Run:     run,
			Started: func(late time.Duration) { skew.Observe(late.Seconds()) },
		})
	}
	s.ledger.SetCommitWindow(cfg.Storage.CommitWindow.D())
	retention := s.retentionJob(cfg, set)
	retention.Run = s.single(retention.Run)
	jobs = append(jobs, retention, deliveryJob(cfg, s.deliver))
	// A new holder of the lease also hands over a report that fell due while nobody held it.
	single = append(single, s.deliver)
	s.lease.ttl.Store(int64(leaseTTL(cs)))
	s.lease.jobs.Store(&single)
	s.cfg.Store(cfg)
	s.set.Store(&set)
	s.key.Store(&key)
	s.store.SetCalendarHorizon(set.Calendar.LastKnownDay(s.clock.Now()))
	return s.sched.Replace(jobs)
}

// stopWatching ends the open incidents of targets the config no longer has: monitoring
// stopped, so what follows is unknown, not down. At start the target was removed while
// creditwatch was down, so its last probe is the last time anything was known of it.
func (s *Service) stopWatching(ctx context.Context, cfg *config.Config, starting bool) error {
	known, err := s.ledger.TargetsWithState(ctx, s.opts.Vantage)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, t := range cfg.Portal.Targets {
		keep[t.Name] = true
	}
	for _, name := range known {
		if keep[name] {
			continue
		}
		at := s.clock.Now()
		if starting {
			if at, err = s.ledger.LastProbe(ctx, name, s.opts.Vantage); err != nil {
				return err
			}
		}
		ended, err := s.ledger.StopWatching(ctx, name, s.opts.Vantage, at)
		if err != nil {
			return err
		}
		if ended {
			s.log.Info("incident ended: target no longer watched", zap.String("target", name), zap.Time("ended_at", at))
			s.changed()
		}
	}
	return nil
}

// Reload re-reads the config file and swaps it in only if it is valid.
func (s *Service) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	cfg, err := config.Load(s.opts.ConfigFile)
	if err == nil {
		if old := s.cfg.Load(); s.opts.StoragePath == "" && cfg.Storage.Ledger() != old.Storage.Ledger() {
			key := "storage.path"
			if old.Storage.URL != "" || cfg.Storage.URL != "" {
				key = "storage.url"
			}
			err = fmt.Errorf("%s cannot change on reload (%s → %s); restart instead", key,
				ledger.Describe(old.Storage.Ledger()), ledger.Describe(cfg.Storage.Ledger()))
		} else if cfg.Storage.PersonalDataKeyFile != old.Storage.PersonalDataKeyFile {
			err = fmt.Errorf("storage.personal_data_key_file cannot change on reload; restart instead")
		}
	}
	if err == nil {
		err = s.apply(ctx, cfg, false)
	}
	s.store.SetReload(err == nil, s.clock.Now())
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
	renew := time.NewTimer(time.Duration(s.lease.ttl.Load()) / 3)
	defer renew.Stop()
	others := time.NewTicker(OthersEvery)
	defer others.Stop()
	var mark int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-others.C:
			// Another instance sharing the ledger wrote an incident (its vantage's), a risk
			// event, an annotation: the cards are computed again.
			m, err := s.ledger.ChangeMark(ctx)
			if err != nil || m == mark {
				continue
			}
			mark = m
		case <-renew.C:
			// Three times in the lease's length.
			s.renewLease(ctx)
			renew.Reset(time.Duration(s.lease.ttl.Load()) / 3)
			continue
		case <-t.C:
			if err := s.ledger.Heartbeat(ctx, s.runID, s.clock.Now()); err != nil && ctx.Err() == nil {
				s.log.Error("heartbeat failed", zap.Error(err))
			}
		case <-s.rescore:
		}
		// What is in the ledger now is in the cards: its own writes do not bring this
		// instance back here two seconds later.
		if m, err := s.ledger.ChangeMark(ctx); err == nil {
			mark = m
		}
		if err := s.Rescore(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("scoring failed", zap.Error(err))
		}
	}
}

// Rescore recomputes the cards as of now, the period's and the month's, and publishes them.
func (s *Service) Rescore(ctx context.Context) error {
	set := *s.set.Load()
	now := card.Now(s.clock.Now())
	o := card.Options{Cache: &s.cache}
	ctx, release, err := s.ledger.HoldPublications(ctx, card.PublishWait)
	if err != nil {
		return err
	}
	defer release()
	period, err := card.Period(ctx, s.ledger, set, now, o)
	if err != nil {
		return err
	}
	month, err := card.Month(ctx, s.ledger, set, now, o)
	if err != nil {
		return err
	}
	s.store.SetCards(period, month)
	// Incidents the office records with the CLI are written by another process: the
	// counter follows the ledger.
	n, err := s.ledger.CountSecurityIncidents(ctx)
	if err != nil {
		return err
	}
	s.store.SetSecurityIncidents(n)
	return nil
}

// Version is the version of creditwatch running.
func (s *Service) Version() string { return s.opts.Version }

// Vantage is the name of this vantage point.
func (s *Service) Vantage() string { return s.opts.Vantage }

// Ledger is the service's ledger, for the web pages.
func (s *Service) Ledger() *ledger.Ledger { return s.ledger }

// Store is the metrics store.
func (s *Service) Store() *metrics.Store { return s.store }

// Config is the running config.
func (s *Service) Config() *config.Config { return s.cfg.Load() }

// Settings are the card settings of the running config.
func (s *Service) Settings() card.Settings { return *s.set.Load() }

// SigningKey is the key reports are signed with, nil when none is configured.
func (s *Service) SigningKey() ed25519.PrivateKey { return *s.key.Load() }

// Clock is the service's clock.
func (s *Service) Clock() clock.Clock { return s.clock }

// Ready reports whether the service has started.
func (s *Service) Ready() bool { return s.ready.Load() }

// Close stops collecting, waits for running probes up to ctx, closes the ledger and lets
// another creditwatch take it.
func (s *Service) Close(ctx context.Context) error {
	s.ready.Store(false)
	errSched := s.sched.Stop(ctx)
	s.stop()
	<-s.done
	errLease := s.releaseLease()
	// The clean stop ends the watched time exactly: what follows is unknown.
	errStop := s.ledger.StopRun(context.Background(), s.runID, s.clock.Now())
	return errors.Join(errSched, errLease, errStop, s.ledger.Close(), s.lock.Release())
}

package service

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/schedule"
)

// RetentionEvery is how often the ledger's probes are rolled up and its retention applied.
// Each run does what is due in short transactions, so probes never wait for it.
const RetentionEvery = time.Minute

// retentionJob rolls up the probes recorded since the last run and deletes what is past
// the config's retention: raw probe rows after storage.retention.raw_probes, hour and day
// rollups and watch spans rollup_years before the current assessment period.
func (s *Service) retentionJob(cfg *config.Config, set card.Settings) schedule.Job {
	r := cfg.Storage.Retention
	return schedule.Job{Key: "ledger/retention", Interval: RetentionEvery, Jitter: RetentionEvery, Run: func(ctx context.Context) {
		now := s.clock.Now()
		done, err := s.ledger.RunRetention(ctx, now, ledger.Retention{
			RawProbes:   r.RawProbes.D(),
			RollupsFrom: set.PeriodStart(now).AddDate(-r.RollupYears, 0, 0),
			Lag:         rollLag(cfg),
		})
		switch {
		case err != nil && ctx.Err() == nil && !errors.Is(err, ledger.ErrRetentionBusy):
			s.log.Error("ledger retention failed", zap.Error(err))
		case done.Deleted+done.Pruned > 0:
			s.log.Debug("ledger retention", zap.Int("rolled_up", done.Rolled), zap.Int("raw_deleted", done.Deleted),
				zap.Int("rollups_deleted", done.Pruned), zap.Int("transactions", done.Batches))
		}
	}}
}

// rollLag is how long after a probe starts it is rolled up: its longest possible run (the
// longest timeout of the targets) and a minute, so that a probe is recorded before its time
// is rolled up. One recorded later still counts: the ledger adds it to the rollups.
func rollLag(cfg *config.Config) time.Duration {
	lag := time.Minute
	for _, t := range cfg.Portal.Targets {
		lag = max(lag, t.Timeout.D()+time.Minute)
	}
	return lag
}

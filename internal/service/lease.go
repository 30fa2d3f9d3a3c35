package service

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/collectors"
)

// JobsLease is the lease of the jobs that run on one instance among those sharing a
// ledger: platform polling, export imports, credit report checks, report delivery and
// retention. Probing runs on every instance.
const JobsLease = "jobs"

// Bounds of the lease's length: half the shortest polling interval, so that another
// instance takes the jobs over within one interval after the holder dies.
const (
	minLeaseTTL     = 2 * time.Second
	maxLeaseTTL     = 5 * time.Minute
	defaultLeaseTTL = time.Minute
)

// singleKinds are the collectors that run on the lease holder only: the platform's and the
// exports' records are the same wherever they are read from, and a credit report checked
// once per code is enough (its non-conformance counts once per code anyway).
var singleKinds = map[string]bool{"platform": true, "exports": true, "credit_report": true}

// lease is this instance's view of the jobs lease.
type lease struct {
	holder string       // this instance: vantage, host, process and run
	ttl    atomic.Int64 // nanoseconds, set from the config
	held   atomic.Bool
	since  time.Time // when this instance took it; guarded by mu
	mu     sync.Mutex
	// jobs are the single-instance jobs of the config, run at once when the lease is taken.
	jobs atomic.Pointer[[]func(context.Context)]
}

func holderName(vantage string, runID int64) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%s/%d/run-%d", vantage, host, os.Getpid(), runID)
}

// leaseTTL is half the shortest interval of the single-instance collectors, within bounds.
func leaseTTL(cs []collectors.Collector) time.Duration {
	ttl := time.Duration(0)
	for _, c := range cs {
		if singleKinds[c.Kind()] {
			if half := c.Interval() / 2; ttl == 0 || half < ttl {
				ttl = half
			}
		}
	}
	if ttl == 0 {
		return defaultLeaseTTL
	}
	return min(max(ttl, minLeaseTTL), maxLeaseTTL)
}

// single wraps a job that runs on the lease holder only: elsewhere, and while the same job
// still runs, it does nothing.
func (s *Service) single(run func(context.Context)) func(context.Context) {
	var busy sync.Mutex
	return func(ctx context.Context) {
		if !s.lease.held.Load() || !busy.TryLock() {
			return
		}
		defer busy.Unlock()
		run(ctx)
	}
}

// renewLease takes or renews the jobs lease. An instance that cannot reach the ledger
// stops running the single-instance jobs: another may have taken them.
func (s *Service) renewLease(ctx context.Context) {
	now := s.clock.Now()
	ls, err := s.ledger.AcquireLease(ctx, JobsLease, s.lease.holder, now, time.Duration(s.lease.ttl.Load()))
	held := err == nil && ls.Holder == s.lease.holder
	if err != nil && ctx.Err() == nil {
		s.log.Error("renewing the jobs lease failed; platform polling, imports, delivery and retention pause here",
			zap.String("lease", JobsLease), zap.Error(err))
	}
	s.lease.mu.Lock()
	was := s.lease.held.Swap(held)
	if held && !was {
		s.lease.since = ls.AcquiredAt
	}
	since := s.lease.since
	s.lease.mu.Unlock()
	s.store.SetLease(held, since)
	switch {
	case held && !was:
		s.log.Info("this instance runs platform polling, imports, delivery and retention",
			zap.String("lease", JobsLease), zap.String("holder", s.lease.holder))
		if jobs := s.lease.jobs.Load(); jobs != nil && ctx.Err() == nil {
			for _, run := range *jobs {
				go run(ctx)
			}
		}
	case !held && was:
		s.log.Warn("another instance took over platform polling, imports, delivery and retention",
			zap.String("lease", JobsLease), zap.String("holder", ls.Holder))
	}
}

// releaseLease hands the jobs over at a clean stop.
func (s *Service) releaseLease() error {
	if !s.lease.held.Load() {
		return nil
	}
	s.lease.held.Store(false)
	return s.ledger.ReleaseLease(context.Background(), JobsLease, s.lease.holder)
}

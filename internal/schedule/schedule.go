// Package schedule runs collectors with robfig/cron: each at its own interval, at a stable
// per-collector phase within its jitter window so targets do not fire together, never two
// runs of one collector at once, and a clean stop.
package schedule

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one scheduled unit.
type Job struct {
	Key      string // unique and stable across reloads, e.g. "portal/credit-portal"
	Interval time.Duration
	Jitter   time.Duration
	Run      func(ctx context.Context)
}

// Scheduler runs jobs until stopped.
type Scheduler struct {
	cron   *cron.Cron
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	entries []cron.EntryID
	busy    map[string]*atomic.Bool // survives Replace, so a reload never doubles a running job
	skipped atomic.Int64
}

// New returns a started scheduler with no jobs.
func New() *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		cron:   cron.New(cron.WithChain(cron.Recover(cron.DiscardLogger))),
		ctx:    ctx,
		cancel: cancel,
		busy:   map[string]*atomic.Bool{},
	}
	s.cron.Start()
	return s
}

// Replace swaps the set of jobs for a new one.
func (s *Scheduler) Replace(jobs []Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.entries {
		s.cron.Remove(id)
	}
	s.entries = s.entries[:0]
	for _, j := range jobs {
		busy := s.busy[j.Key]
		if busy == nil {
			busy = &atomic.Bool{}
			s.busy[j.Key] = busy
		}
		s.entries = append(s.entries, s.cron.Schedule(Phased(j.Key, j.Interval, j.Jitter), s.wrap(j, busy)))
	}
}

func (s *Scheduler) wrap(j Job, busy *atomic.Bool) cron.FuncJob {
	return func() {
		if !busy.CompareAndSwap(false, true) {
			s.skipped.Add(1)
			return
		}
		defer busy.Store(false)
		if s.ctx.Err() != nil {
			return
		}
		j.Run(s.ctx)
	}
}

// Skipped is how many runs were skipped because the previous run was still going.
func (s *Scheduler) Skipped() int64 { return s.skipped.Load() }

// Stop stops scheduling, cancels running jobs' context and waits for them up to ctx.
func (s *Scheduler) Stop(ctx context.Context) error {
	done := s.cron.Stop()
	s.cancel()
	select {
	case <-done.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Phased is a cron.Schedule firing every interval at a fixed offset derived from key and
// smaller than jitter, so a restart keeps each job's phase.
func Phased(key string, interval, jitter time.Duration) cron.Schedule {
	var off time.Duration
	if jitter > 0 {
		h := fnv.New64a()
		h.Write([]byte(key))
		off = time.Duration(h.Sum64() % uint64(min(jitter, interval)))
	}
	return phased{every: interval, offset: off}
}

type phased struct{ every, offset time.Duration }

// Next returns the first instant strictly after t at offset modulo every.
func (p phased) Next(t time.Time) time.Time {
	n := t.UnixNano() - int64(p.offset)
	k := n/int64(p.every) + 1
	return time.Unix(0, k*int64(p.every)+int64(p.offset)).In(t.Location())
}

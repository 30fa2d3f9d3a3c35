// Package schedule runs collectors: each at its own interval, at a stable per-collector
// phase within its jitter window so targets do not fire together, never two runs of one
// collector at once, and a clean stop. Each job has its own runtime timer: firing one costs
// the same with 20,000 jobs as with one, and how late each run starts against its phase is
// reported (Job.Started).
package schedule

import (
	"context"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one scheduled unit.
type Job struct {
	Key      string // unique and stable across reloads, e.g. "portal/credit-portal"
	Interval time.Duration
	Jitter   time.Duration
	Run      func(ctx context.Context)
	// Started, when set, is told how late each run started against its scheduled instant.
	Started func(late time.Duration)
}

// Scheduler runs jobs until stopped.
type Scheduler struct {
	ctx    context.Context
	cancel context.CancelFunc
	now    func() time.Time

	mu      sync.Mutex
	entries []*entry
	busy    map[string]*atomic.Bool // survives Replace, so a reload never doubles a running job
	stopped bool
	running sync.WaitGroup // runs under way; added to only while not stopped, under mu
	skipped atomic.Int64
	workers workers
}

// entry is one job's timer.
type entry struct {
	s     *Scheduler
	job   Job
	sched Schedule
	busy  *atomic.Bool

	mu      sync.Mutex
	next    time.Time // the instant the timer is set for
	timer   *time.Timer
	removed bool
}

// New returns a started scheduler with no jobs.
func New() *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{ctx: ctx, cancel: cancel, now: time.Now, busy: map[string]*atomic.Bool{},
		workers: workers{jobs: make(chan func()), quit: ctx.Done()}}
}

// Replace swaps the set of jobs for a new one.
func (s *Scheduler) Replace(jobs []Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		e.stop()
	}
	s.entries = s.entries[:0]
	if s.stopped {
		return
	}
	now := s.now()
	for _, j := range jobs {
		busy := s.busy[j.Key]
		if busy == nil {
			busy = &atomic.Bool{}
			s.busy[j.Key] = busy
		}
		e := &entry{s: s, job: j, sched: Phased(j.Key, j.Interval, j.Jitter), busy: busy}
		e.mu.Lock()
		e.next = e.sched.Next(now)
		e.timer = time.AfterFunc(e.next.Sub(now), e.fire)
		e.mu.Unlock()
		s.entries = append(s.entries, e)
	}
}

func (e *entry) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = true
	e.timer.Stop()
}

// fire runs on the timer's own goroutine: it sets the timer for the next run, then has a
// worker run the job unless its previous run is still going.
func (e *entry) fire() {
	s := e.s
	now := s.now()
	e.mu.Lock()
	if e.removed {
		e.mu.Unlock()
		return
	}
	late := max(now.Sub(e.next), 0)
	e.next = e.sched.Next(now)
	e.timer.Reset(e.next.Sub(now))
	e.mu.Unlock()
	if !e.busy.CompareAndSwap(false, true) {
		s.skipped.Add(1)
		return
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		e.busy.Store(false)
		return
	}
	s.running.Add(1)
	s.mu.Unlock()
	s.workers.do(func() {
		defer e.busy.Store(false)
		defer s.running.Done()
		if e.job.Started != nil {
			e.job.Started(late)
		}
		e.job.Run(s.ctx)
	})
}

// workers run jobs on goroutines that outlive a run: a probe runs on a goroutine whose
// stack has already grown to what a probe needs, not on a fresh one that grows it again at
// every run. An idle worker takes a job; without one a new worker starts; a worker idle for
// workerIdle (or once the scheduler stops) ends.
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only if a worker is idle
	quit <-chan struct{}
}

const workerIdle = time.Minute

func (w *workers) do(f func()) {
	select {
	case w.jobs <- f:
	default:
		go w.loop(f)
	}
}

func (w *workers) loop(f func()) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(workerIdle)
		select {
		case f = <-w.jobs:
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}

// Skipped is how many runs were skipped because the previous run was still going.
func (s *Scheduler) Skipped() int64 { return s.skipped.Load() }

// Stop stops scheduling, cancels running jobs' context and waits for them up to ctx.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	for _, e := range s.entries {
		e.stop()
	}
	s.entries = nil
	s.mu.Unlock()
	s.cancel()
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Schedule says when a job runs next.
type Schedule interface {
	// Next returns the first run strictly after t.
	Next(t time.Time) time.Time
}

// Phased is a Schedule firing every interval at a fixed offset derived from key and
// smaller than jitter, so a restart keeps each job's phase.
func Phased(key string, interval, jitter time.Duration) Schedule {
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

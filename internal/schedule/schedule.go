// Package schedule runs collectors: each at its own interval, at a stable per-collector
// phase within its jitter window so targets do not fire together, never two runs of one
// collector at once, and a clean stop. Each interval job has its own runtime timer: firing
// one costs the same with 20,000 jobs as with one, and how late each run starts against its
// phase is reported (Job.Started). Calendar jobs (a time of day, a day of the month) are
// run by robfig/cron in Asia/Shanghai, whatever the machine's time zone.
package schedule

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Job is one scheduled unit.
type Job struct {
	Key      string // unique and stable across reloads, e.g. "portal/credit-portal"
	Interval time.Duration
	Jitter   time.Duration
	Run      func(ctx context.Context)
	// Started, when set, is told how late each run of an interval job started against its
	// scheduled instant.
	Started func(late time.Duration)
	// Spec, when set, makes a calendar job: a standard five-field cron spec read in
	// Asia/Shanghai ("0 9 * * *" is 09:00 Shanghai every day), run by robfig/cron. Interval,
	// Jitter and Started are then unused.
	Spec string
}

// Calendar is the schedule of a calendar job's spec: a standard five-field cron spec
// (minute hour day-of-month month day-of-week) read in Asia/Shanghai.
func Calendar(spec string) (cron.Schedule, error) {
	sched, err := cron.ParseStandard("CRON_TZ=" + clock.Shanghai.String() + " " + spec)
	if err != nil {
		return nil, fmt.Errorf("calendar schedule %q: %w", spec, err)
	}
	return sched, nil
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
	limit   int          // MaxRunning, for the interval jobs
	active  int          // interval jobs' runs under way, under mu
	waiting []waitingRun // runs due while limit runs were under way, oldest first, under mu

	cron     *cron.Cron // calendar jobs
	calendar map[string]cron.EntryID
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
	s := &Scheduler{ctx: ctx, cancel: cancel, now: time.Now, busy: map[string]*atomic.Bool{},
		workers: workers{jobs: make(chan func()), quit: ctx.Done()}, limit: MaxRunning,
		cron: cron.New(cron.WithLocation(clock.Shanghai), cron.WithChain(cron.Recover(cron.DiscardLogger))),
	}
	s.cron.Start()
	return s
}

// Replace swaps the set of jobs for a new one. A calendar job whose spec does not parse is
// an error, and the jobs in force are then kept.
func (s *Scheduler) Replace(jobs []Job) error {
	cals := map[string]cron.Schedule{}
	for _, j := range jobs {
		if j.Spec == "" {
			continue
		}
		sched, err := Calendar(j.Spec)
		if err != nil {
			return fmt.Errorf("job %s: %w", j.Key, err)
		}
		cals[j.Key] = sched
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		e.stop()
	}
	s.entries = s.entries[:0]
	for _, id := range s.calendar {
		s.cron.Remove(id)
	}
	s.calendar = map[string]cron.EntryID{}
	if s.stopped {
		return nil
	}
	now := s.now()
	for _, j := range jobs {
		busy := s.busy[j.Key]
		if busy == nil {
			busy = &atomic.Bool{}
			s.busy[j.Key] = busy
		}
		if sched := cals[j.Key]; sched != nil {
			s.calendar[j.Key] = s.cron.Schedule(sched, s.calendarRun(j, busy))
			continue
		}
		e := &entry{s: s, job: j, sched: Phased(j.Key, j.Interval, j.Jitter), busy: busy}
		e.mu.Lock()
		e.next = e.sched.Next(now)
		e.timer = time.AfterFunc(e.next.Sub(now), e.fire)
		e.mu.Unlock()
		s.entries = append(s.entries, e)
	}
	return nil
}

// calendarRun is a calendar job as cron runs it (on a goroutine of its own): not while its
// previous run is still going, and not once the scheduler stops.
func (s *Scheduler) calendarRun(j Job, busy *atomic.Bool) cron.FuncJob {
	return func() {
		if !busy.CompareAndSwap(false, true) {
			s.skipped.Add(1)
			return
		}
		defer busy.Store(false)
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		s.running.Add(1)
		s.mu.Unlock()
		defer s.running.Done()
		j.Run(s.ctx)
	}
}

// NextCalendar is when the calendar job key runs next, and false if there is no such job.
func (s *Scheduler) NextCalendar(key string) (time.Time, bool) {
	s.mu.Lock()
	id, ok := s.calendar[key]
	s.mu.Unlock()
	if !ok {
		return time.Time{}, false
	}
	e := s.cron.Entry(id)
	return e.Next, e.Valid()
}

func (e *entry) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = true
	e.timer.Stop()
}

// fire runs on the timer's own goroutine: it sets the timer for the next run, then has a
// worker run the job unless its previous run is still going. With MaxRunning runs under
// way, the run waits in line, holding no goroutine, for one of them to end: how late it
// starts counts that wait.
func (e *entry) fire() {
	s := e.s
	now := s.now()
	e.mu.Lock()
	if e.removed {
		e.mu.Unlock()
		return
	}
	due := e.next
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
	if s.active >= s.limit {
		s.waiting = append(s.waiting, waitingRun{e: e, due: due})
		s.mu.Unlock()
		return
	}
	s.active++
	s.running.Add(1)
	s.mu.Unlock()
	s.start(e, due)
}

// waitingRun is a run due while MaxRunning runs were under way.
type waitingRun struct {
	e   *entry
	due time.Time
}

// start has a worker run e's job, counted in active and running; when it ends, the run
// waiting longest takes its place.
func (s *Scheduler) start(e *entry, due time.Time) {
	late := max(s.now().Sub(due), 0)
	s.workers.do(func() {
		if e.job.Started != nil {
			e.job.Started(late)
		}
		e.job.Run(s.ctx)
		e.busy.Store(false)
		s.next()
	})
}

// next ends a run: the oldest waiting run of a job still scheduled starts in its place.
func (s *Scheduler) next() {
	s.mu.Lock()
	for len(s.waiting) > 0 && !s.stopped {
		w := s.waiting[0]
		s.waiting[0] = waitingRun{}
		s.waiting = s.waiting[1:]
		w.e.mu.Lock()
		removed := w.e.removed
		w.e.mu.Unlock()
		if removed {
			w.e.busy.Store(false)
			continue
		}
		s.mu.Unlock()
		s.start(w.e, w.due) // the ended run's place in active and running passes on
		return
	}
	s.active--
	s.mu.Unlock()
	s.running.Done()
}

// MaxRunning bounds the interval jobs' runs under way at once. Far more than a steady
// load needs (20,000 targets at 30 s run some 70 probes at once, waiting for their commit
// included), it bounds what a backlog holds (a probe's goroutine, its body buffer, its
// parsed page) when the ledger falls behind, as at the first start of thousands of targets,
// when each first page is written as its baseline: the runs past it wait in line, each an
// entry of a slice rather than a goroutine holding a stack and a probe's memory.
const MaxRunning = 512

// workers run jobs on goroutines that outlive a run: a probe runs on a goroutine whose
// stack has already grown to what a probe needs, not on a fresh one that grows it again at
// every run. An idle worker takes a job; without one a new worker starts; a worker idle for
// workerIdle (or once the scheduler stops) ends, and so does one that finds maxIdle workers
// idle already: after a burst the workers it started do not stay (each keeps its stack),
// however often a job comes to one of them.
type workers struct {
	jobs chan func() // unbuffered: a send succeeds only if a worker is idle
	quit <-chan struct{}
	idle atomic.Int32
}

const (
	workerIdle = time.Minute
	maxIdle    = 64
)

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
		if w.idle.Add(1) > maxIdle {
			w.idle.Add(-1)
			return
		}
		idle.Reset(workerIdle)
		select {
		case f = <-w.jobs:
			w.idle.Add(-1)
		case <-idle.C:
			w.idle.Add(-1)
			return
		case <-w.quit:
			w.idle.Add(-1)
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
	s.calendar = nil
	for _, w := range s.waiting {
		w.e.busy.Store(false)
	}
	s.waiting = nil
	s.mu.Unlock()
	s.cron.Stop()
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

// Grid is the step of the jobs' phases. Jobs whose phases fall in the same step fire at the
// same instant, in one wakeup of the process: at 100 probes a second, probes started one at
// a time each woke the runtime from idle (a thread woken, the network poller and the
// scheduler spinning, then put back to sleep), which cost more CPU than the probe itself;
// started by the tenth of a second, the same probes cost less than half as much. A tenth
// of a second is also the commit window of the ledger's group commit, so the probes of a
// step commit together. Spread over an interval's steps (50 in 5 s, 300 in 30 s), a step
// starts at most a few probes at once.
const Grid = 100 * time.Millisecond

// Phased is a Schedule firing every interval at a fixed offset derived from key, smaller
// than jitter and on the Grid (0 when jitter is below one step), so a restart keeps each
// job's phase.
func Phased(key string, interval, jitter time.Duration) Schedule {
	var off time.Duration
	if jitter > 0 {
		h := fnv.New64a()
		h.Write([]byte(key))
		off = time.Duration(h.Sum64() % uint64(min(jitter, interval)))
		off -= off % Grid
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

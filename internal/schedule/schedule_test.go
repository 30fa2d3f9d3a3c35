package schedule

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPhasedIsStableAndSpread(t *testing.T) {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	s := Phased("portal/credit-portal", 30*time.Second, 30*time.Second)
	first := s.Next(base)
	if d := first.Sub(base); d <= 0 || d > 30*time.Second {
		t.Fatalf("first run %v after start", d)
	}
	if got := s.Next(first); got.Sub(first) != 30*time.Second {
		t.Errorf("interval = %v", got.Sub(first))
	}
	if again := Phased("portal/credit-portal", 30*time.Second, 30*time.Second).Next(base); !again.Equal(first) {
		t.Error("phase changed between two schedules of the same key")
	}
	offsets := map[time.Duration]bool{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		offsets[Phased(k, 30*time.Second, 30*time.Second).Next(base).Sub(base)] = true
	}
	if len(offsets) < 6 {
		t.Errorf("8 keys share only %d phases", len(offsets))
	}
	if got := Phased("x", 10*time.Second, 0).Next(base); got.Sub(base) != 10*time.Second {
		t.Errorf("no jitter: first run at +%v, want +10s", got.Sub(base))
	}
}

// Phases lie on the grid, so that the jobs of one step fire in one wakeup, and are still
// spread over the whole interval.
func TestPhasesLieOnTheGrid(t *testing.T) {
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	steps := map[time.Duration]int{}
	for i := range 5000 {
		key := fmt.Sprintf("portal/page-%d", i)
		off := Phased(key, 30*time.Second, 30*time.Second).Next(base).Sub(base)
		if off%Grid != 0 {
			t.Fatalf("%s: phase %v is off the %v grid", key, off, Grid)
		}
		steps[off]++
	}
	// 5,000 jobs over the 300 steps of 30 s: every step used, none crowded.
	if len(steps) != int(30*time.Second/Grid) {
		t.Errorf("5000 jobs use %d of %d steps", len(steps), 30*time.Second/Grid)
	}
	for off, n := range steps {
		if n > 45 {
			t.Errorf("step +%v starts %d jobs at once (mean 16.7)", off, n)
		}
	}
	// A jitter below one step gives every job the interval's own phase.
	if off := Phased("portal/x", 5*time.Second, 50*time.Millisecond).Next(base).Sub(base); off != 5*time.Second {
		t.Errorf("jitter below a step: first run at +%v, want +5s", off)
	}
}

func TestNoOverlapAndCleanStop(t *testing.T) {
	s := New()
	var running, maxRunning, runs atomic.Int32
	s.Replace([]Job{{Key: "slow", Interval: 100 * time.Millisecond, Run: func(ctx context.Context) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		runs.Add(1)
		select {
		case <-time.After(350 * time.Millisecond):
		case <-ctx.Done():
		}
	}}})
	time.Sleep(1200 * time.Millisecond)
	// A reload while the job runs must not start a second copy of it.
	s.Replace([]Job{{Key: "slow", Interval: 100 * time.Millisecond, Run: func(context.Context) { running.Add(1); runs.Add(1); running.Add(-1) }}})
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if maxRunning.Load() != 1 {
		t.Errorf("up to %d runs of one job at once", maxRunning.Load())
	}
	if runs.Load() < 3 || s.Skipped() == 0 {
		t.Errorf("runs = %d, skipped = %d; want several runs and some skipped", runs.Load(), s.Skipped())
	}
	after := runs.Load()
	time.Sleep(300 * time.Millisecond)
	if runs.Load() != after {
		t.Error("jobs ran after Stop")
	}
}

// Every run is reported to Started, with how late it started against its phase; a job
// replaced away runs no more.
func TestStartedAndReplace(t *testing.T) {
	s := New()
	defer s.Stop(context.Background())
	var runs, started atomic.Int32
	lates := make(chan time.Duration, 100)
	s.Replace([]Job{{Key: "a", Interval: 100 * time.Millisecond, Jitter: 100 * time.Millisecond,
		Run: func(context.Context) { runs.Add(1) },
		Started: func(late time.Duration) {
			started.Add(1)
			lates <- late
		}}})
	for runs.Load() < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	s.Replace(nil)
	n := runs.Load()
	time.Sleep(300 * time.Millisecond)
	if runs.Load() != n {
		t.Errorf("a job replaced away ran %d more times", runs.Load()-n)
	}
	if started.Load() != runs.Load() {
		t.Errorf("%d runs, %d reported to Started", runs.Load(), started.Load())
	}
	close(lates)
	for late := range lates {
		if late < 0 {
			t.Errorf("a run started %v late", late)
		}
	}
}

// A calendar job runs at its Asia/Shanghai time whatever the machine's zone: 09:00 Shanghai
// is 01:00 UTC, and the first of the month at 00:30 Shanghai is the last day of the month
// before at 16:30 UTC.
func TestCalendarJobsRunInShanghai(t *testing.T) {
	local := time.Local
	defer func() { time.Local = local }()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, zone := range []string{"UTC", "America/New_York", "Europe/London", "Pacific/Kiritimati", "Asia/Shanghai"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		time.Local = loc
		daily, err := Calendar("0 9 * * *")
		if err != nil {
			t.Fatal(err)
		}
		// 2026-11-30 08:59 Shanghai, asked in the machine's zone.
		from := time.Date(2026, 11, 30, 0, 59, 0, 0, time.UTC).In(loc)
		if got, want := daily.Next(from), time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("TZ %s: daily 09:00 after %v runs at %v, want %v", zone, from, got.UTC(), want)
		}
		if got, want := daily.Next(time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC).In(loc)), time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("TZ %s: the run after 09:00 is at %v, want %v", zone, got.UTC(), want)
		}
		monthly, err := Calendar("30 0 1 * *")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := monthly.Next(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC).In(loc)), time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("TZ %s: monthly 1st 00:30 runs at %v, want %v", zone, got.UTC(), want)
		}

		// The running scheduler's entry is set for 09:00 Shanghai too.
		s := New()
		if err := s.Replace([]Job{{Key: "reports/delivery", Spec: "0 9 * * *", Run: func(context.Context) {}}}); err != nil {
			t.Fatal(err)
		}
		next, ok := s.NextCalendar("reports/delivery")
		s.Stop(context.Background())
		if !ok {
			t.Fatalf("TZ %s: no calendar entry", zone)
		}
		if h := next.In(shanghai); h.Hour() != 9 || h.Minute() != 0 || h.Second() != 0 || next.Sub(time.Now()) > 24*time.Hour {
			t.Errorf("TZ %s: the scheduled delivery runs next at %v (%v Shanghai)", zone, next, h)
		}
	}
}

// A spec that does not parse is refused and the jobs in force are kept.
func TestCalendarBadSpecKeepsJobs(t *testing.T) {
	s := New()
	defer s.Stop(context.Background())
	if err := s.Replace([]Job{{Key: "a", Spec: "0 9 * * *", Run: func(context.Context) {}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace([]Job{{Key: "b", Spec: "61 9 * * *", Run: func(context.Context) {}}}); err == nil {
		t.Fatal("a minute of 61 was taken")
	}
	if _, ok := s.NextCalendar("a"); !ok {
		t.Error("the job in force was dropped by a refused Replace")
	}
}

// No more than the scheduler's limit of runs go at once; the runs past it wait and then run.
func TestRunsWaitForASlot(t *testing.T) {
	s := New()
	s.limit = 2
	var running, most atomic.Int32
	ran := map[string]*atomic.Int32{}
	var jobs []Job
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		n := &atomic.Int32{}
		ran[k] = n
		jobs = append(jobs, Job{Key: k, Interval: 50 * time.Millisecond, Run: func(ctx context.Context) {
			now := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if now <= m || most.CompareAndSwap(m, now) {
					break
				}
			}
			n.Add(1)
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
			}
		}})
	}
	s.Replace(jobs)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		all := true
		for _, n := range ran {
			all = all && n.Load() > 0
		}
		if all {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if most.Load() > 2 {
		t.Errorf("%d runs at once with a limit of 2", most.Load())
	}
	for k, n := range ran {
		if n.Load() == 0 {
			t.Errorf("job %s never ran", k)
		}
	}
}

// A worker finding maxIdle workers idle ends: a burst leaves no more idle workers behind.
func TestIdleWorkersBounded(t *testing.T) {
	quit := make(chan struct{})
	defer close(quit)
	w := &workers{jobs: make(chan func()), quit: quit}
	release := make(chan struct{})
	var started sync.WaitGroup
	for range 3 * maxIdle {
		started.Add(1)
		w.do(func() {
			started.Done()
			<-release
		})
	}
	started.Wait()
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && runtime.NumGoroutine() > maxIdle+20 {
		time.Sleep(10 * time.Millisecond)
	}
	if n := w.idle.Load(); n > maxIdle {
		t.Errorf("%d idle workers, at most %d wanted", n, maxIdle)
	}
	if g := runtime.NumGoroutine(); g > maxIdle+20 {
		t.Errorf("%d goroutines left after a burst of %d runs", g, 3*maxIdle)
	}
}

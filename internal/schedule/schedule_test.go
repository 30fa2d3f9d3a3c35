package schedule

import (
	"context"
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

package service

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// The retention job rolls up what is due and applies the config's retention: raw rows go
// after raw_probes, rollups rollup_years before the period, and the figures stay.
func TestRetentionJobAppliesTheConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	l, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2029, 3, 10, 12, 0, 0, 0, clock.Shanghai)
	var ps []ledger.Probe
	// Three years of a target since removed from the config: its history is kept by the same
	// rules, and the running service's own probes of the configured target, which may land
	// at any moment, are not counted with it. A probe every 6 hours, then every hour for the
	// last 61 days.
	hourly := clock.Day(now).AddDate(0, 0, -61)
	kept := 0 // the probes from the period two years back on, which the rollups keep
	for at := now.AddDate(-3, 0, 0); at.Before(now); {
		every := 6 * time.Hour
		if !at.Before(hourly) {
			every = time.Hour
		}
		ps = append(ps, ledger.Probe{Target: "old", Vantage: "v", StartedAt: at, Duration: 200 * time.Millisecond, Outcome: "ok",
			Interval: every})
		if !at.Before(time.Date(2026, 7, 1, 0, 0, 0, 0, clock.Shanghai)) {
			kept++
		}
		at = at.Add(every)
	}
	if err := l.ImportProbes(ctx, ps); err != nil {
		t.Fatal(err)
	}
	l.Close()
	cfg := filepath.Join(dir, "c.yml")
	writeConfig(t, cfg, "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1:9/', interval: 1h, timeout: 2m}\n"+
		"storage: {path: "+db+", retention: {raw_probes: 10d, rollup_years: 2}}\nassessment: {period_start: 2026-07-01}\n")
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop(), Clock: clock.NewFake(now), Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	job := svc.retentionJob(svc.Config(), svc.Settings())
	job.Run(ctx)
	st, err := svc.Ledger().RollupStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Rolled up to 3 minutes ago (the 2-minute timeout and a minute); raw rows from 10
	// days ago, on the hour; rollups from 2 years before the period that began on 1 July
	// 2028.
	if want := now.Add(-3 * time.Minute); !st.RolledTo.Equal(want) {
		t.Errorf("rolled to %s, want %s", st.RolledTo, want)
	}
	if want := now.AddDate(0, 0, -10).Truncate(time.Hour); !st.RawFrom.Equal(want) {
		t.Errorf("raw rows from %s, want %s", st.RawFrom, want)
	}
	if want := time.Date(2026, 7, 1, 0, 0, 0, 0, clock.Shanghai); !st.RollupsFrom.Equal(want) {
		t.Errorf("rollups from %s, want %s", st.RollupsFrom, want)
	}
	n, err := svc.Ledger().CountProbes(ctx, "old")
	if err != nil || n != kept {
		t.Errorf("probes counted: %d, want %d (%v)", n, kept, err)
	}
	days, err := svc.Ledger().ProbeDays(ctx, clock.Day(now).AddDate(0, 0, -60), clock.Day(now))
	if err != nil || len(days) != 60 || days[0].Probes != 24 || days[0].MeanSeconds != 0.2 {
		t.Errorf("probe days: %d, first %+v (%v)", len(days), days[0], err)
	}
}

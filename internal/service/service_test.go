package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

func TestScoreCountsIncidentsOfThePeriodOnly(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 1}
	// Two-probe outages starting at these Shanghai times: the first is in 2025, so it
	// belongs to the previous assessment period.
	for _, start := range []string{"2025-12-31 23:59:00", "2026-01-01 00:00:30", "2026-06-01 12:00:00"} {
		t0, _ := time.ParseInLocation(time.DateTime, start, clock.Shanghai)
		for i, failed := range []bool{true, true, false} {
			p := ledger.Probe{Target: "p", StartedAt: t0.Add(time.Duration(i) * 30 * time.Second), Failed: failed, Outcome: "timeout"}
			if _, _, err := l.RecordProbe(ctx, p, pol, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg, err := config.Parse([]byte("assessment: {period_start: 2026-01-01}"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	set, err := card.SettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for now, want := range map[string]float64{"2026-03-01 00:00:00": 1.5, "2026-07-01 00:00:00": 1} {
		at, _ := time.ParseInLocation(time.DateTime, now, clock.Shanghai)
		c, err := card.Period(ctx, l, set, at, card.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := c.Result("portal_accessibility"); r.Points != want {
			t.Errorf("at %s portal_accessibility = %v, want %v", now, r.Points, want)
		}
	}
}

func TestReloadKeepsRunningConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yml")
	good := "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1:9/', interval: 1h}\nstorage: {path: " + filepath.Join(dir, "l.db") + "}\n"
	os.WriteFile(path, []byte(good), 0o644)
	svc, err := Start(context.Background(), Options{ConfigFile: path, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(context.Background())
	tests := map[string]struct{ doc, want string }{
		"typo":           {strings.Replace(good, "interval", "intervall", 1), "unknown key intervall (did you mean interval?)"},
		"storage change": {strings.Replace(good, "l.db", "other.db", 1), "storage.path cannot change on reload"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(path, []byte(tc.doc), 0o644)
			err := svc.Reload(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("reload error = %v, want %q", err, tc.want)
			}
			if got := svc.Config().Portal.Targets[0].Interval.D(); got != time.Hour {
				t.Errorf("running config changed: interval %v", got)
			}
		})
	}
}

func writeConfig(t *testing.T, path, doc string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The period rolls over by itself at midnight Shanghai on 1 January: a running service's
// card starts the new year with the new year's period, and last year's incident no longer
// costs anything.
func TestPeriodRollsOverAtNewYear(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	l, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 31, 10, 0, 0, 0, clock.Shanghai)
	for i, failed := range []bool{true, true, false, false} {
		p := ledger.Probe{Target: "p", StartedAt: t0.Add(time.Duration(i) * time.Minute), Failed: failed, Outcome: "timeout"}
		if _, _, err := l.RecordProbe(ctx, p, incident.Policy{OpenAfter: 2, CloseAfter: 2}, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cfg := filepath.Join(dir, "c.yml")
	writeConfig(t, cfg, "portal:\n  targets:\n    - {name: p, url: 'http://127.0.0.1:9/', interval: 1h}\nstorage: {path: "+db+"}\n")
	fake := clock.NewFake(time.Date(2026, 12, 31, 23, 59, 0, 0, clock.Shanghai))
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop(), Clock: fake, Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	check := func(when, from string, points float64) {
		t.Helper()
		c := svc.Store().Card()
		r, _ := c.Result("portal_accessibility")
		if got := clock.Date(c.From); got != from || r.Points != points {
			t.Errorf("%s: period from %s, portal_accessibility %v; want %s and %v", when, got, r.Points, from, points)
		}
	}
	check("23:59 on 31 December", "2026-01-01", 1.5)
	fake.Set(time.Date(2027, 1, 1, 0, 0, 1, 0, clock.Shanghai)) // 16:00:01 UTC on 31 December
	if err := svc.Rescore(ctx); err != nil {
		t.Fatal(err)
	}
	check("00:00:01 on 1 January", "2027-01-01", 2)
}

// A target removed from the config stops being watched: its open incident ends then, with
// that cause, and its time after is unknown, not down. A target removed while creditwatch
// was down ends at its last probe.
func TestRemovedTargetEndsItsIncident(t *testing.T) {
	ctx := context.Background()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer down.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	both := "portal:\n  targets:\n    - {name: a, url: '" + down.URL + "', interval: 100ms, timeout: 90ms, jitter: 0s}\n" +
		"    - {name: b, url: 'http://127.0.0.1:9/', interval: 1h}\n  incident: {open_after: 1}\nstorage: {path: " + filepath.Join(dir, "l.db") + "}\n"
	onlyB := strings.Replace(both, "    - {name: a, url: '"+down.URL+"', interval: 100ms, timeout: 90ms, jitter: 0s}\n", "", 1)
	writeConfig(t, cfg, both)
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	waitOpen := func(s *Service) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if open, _ := s.Ledger().Incidents(ctx, time.Time{}, time.Time{}, true); len(open) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no incident opened")
			}
		}
	}
	waitOpen(svc)
	writeConfig(t, cfg, onlyB)
	removed := time.Now()
	if err := svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	incs, _ := svc.Ledger().Incidents(ctx, time.Time{}, time.Time{}, false)
	if len(incs) != 1 || incs[0].Open() || incs[0].EndCause != ledger.EndMonitoringStopped || incs[0].EndedAt.Before(removed.Add(-time.Second)) {
		t.Fatalf("after removal: %+v, want one incident ended with monitoring_stopped at the reload", incs)
	}
	if _, ok := svc.Store().Portal("a"); ok {
		t.Error("the removed target is still exported")
	}
	// Back in the config, then removed while creditwatch is stopped.
	writeConfig(t, cfg, both)
	if err := svc.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	waitOpen(svc)
	svc.Close(ctx)
	last, _ := ledgerLastProbe(t, filepath.Join(dir, "l.db"), "a")
	writeConfig(t, cfg, onlyB)
	svc, err = Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	incs, _ = svc.Ledger().Incidents(ctx, time.Time{}, time.Time{}, false)
	if len(incs) != 2 || incs[1].Open() || !incs[1].EndedAt.Equal(last) || incs[1].EndCause != ledger.EndMonitoringStopped {
		t.Errorf("removed while stopped: %+v, want the second incident ended at its last probe %v", incs, last)
	}
}

func ledgerLastProbe(t *testing.T, path, target string) (time.Time, error) {
	t.Helper()
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.LastProbe(context.Background(), target, "")
}

// Two services on one ledger: the second refuses to start, naming the first.
func TestSecondServiceOnOneLedgerRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	writeConfig(t, cfg, "storage: {path: "+filepath.Join(dir, "l.db")+"}\n")
	first, err := Start(context.Background(), Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(context.Background(), Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err == nil || !strings.Contains(err.Error(), "is in use by creditwatch pid") {
		t.Fatalf("second start: %v", err)
	}
	first.Close(context.Background())
	again, err := Start(context.Background(), Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	again.Close(context.Background())
}

func TestPersonalDataKeyAtStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	base := "portal:\n  targets:\n    - {name: b, url: 'http://127.0.0.1:9/', interval: 1h}\nstorage: {path: " + filepath.Join(dir, "data", "l.db")
	writeConfig(t, cfg, base+"}\n")
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	svc.Close(ctx)
	if fi, err := os.Stat(filepath.Join(dir, "data", "personal-data.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("default key next to the ledger: %v, %v", fi, err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("xyz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, cfg, base+", personal_data_key_file: "+bad+"}\n")
	if svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop()}); err == nil || !strings.Contains(err.Error(), bad) {
		if svc != nil {
			svc.Close(ctx)
		}
		t.Fatalf("Start with a damaged key = %v, want an error naming %s", err, bad)
	}
}

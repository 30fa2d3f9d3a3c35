package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/scoring"
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
		t0, _ := time.ParseInLocation(time.DateTime, start, config.Shanghai)
		for i, failed := range []bool{true, true, false} {
			p := ledger.Probe{Target: "p", StartedAt: t0.Add(time.Duration(i) * 30 * time.Second), Failed: failed, Outcome: "timeout"}
			if _, _, err := l.RecordProbe(ctx, p, pol); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg, err := config.Parse([]byte("assessment: {period_start: 2026-01-01}"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for now, want := range map[string]float64{"2026-03-01 00:00:00": 1.5, "2026-07-01 00:00:00": 1} {
		at, _ := time.ParseInLocation(time.DateTime, now, config.Shanghai)
		card, err := Score(ctx, l, scoring.MustDefault(), cfg, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range card {
			if r.ID == "portal_accessibility" && r.Points != want {
				t.Errorf("at %s portal_accessibility = %v, want %v", now, r.Points, want)
			}
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
		"typo":           {strings.Replace(good, "interval", "intervall", 1), "field intervall not found"},
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

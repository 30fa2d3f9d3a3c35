package service

import (
	"context"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/schedule"
)

// Report delivery is a calendar job at reports.deliver_at, Asia/Shanghai, whatever the
// machine's zone: 09:00 and 17:45 Shanghai are 01:00 and 09:45 UTC.
func TestDeliveryRunsAtShanghaiTime(t *testing.T) {
	local := time.Local
	defer func() { time.Local = local }()
	for _, zone := range []string{"UTC", "America/Los_Angeles", "Asia/Shanghai"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		time.Local = loc
		for at, want := range map[string]time.Time{
			"09:00": time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC),
			"17:45": time.Date(2026, 12, 1, 9, 45, 0, 0, time.UTC),
			"00:00": time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC),
		} {
			cfg := &config.Config{}
			cfg.Reports.DeliverAt = at
			job := deliveryJob(cfg, func(context.Context) {})
			if job.Spec == "" {
				t.Fatalf("deliver_at %s: not a calendar job", at)
			}
			sched, err := schedule.Calendar(job.Spec)
			if err != nil {
				t.Fatal(err)
			}
			// 1 December 2026 00:30 Shanghai.
			from := time.Date(2026, 11, 30, 16, 30, 0, 0, time.UTC).In(loc)
			if got := sched.Next(from); !got.Equal(want) {
				t.Errorf("TZ %s, deliver_at %s: runs at %v, want %v", zone, at, got.UTC(), want)
			}
		}
	}
}

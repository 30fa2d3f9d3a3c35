// Package reporttest builds ledgers of known months for report tests.
package reporttest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// HostileError is outside text (an error built from a portal's answer) carrying HTML.
const HostileError = `body does not contain "<script>alert('信用')</script>"`

// HostileDepartment is a department name from the platform carrying HTML.
const HostileDepartment = `<img src=x onerror=alert(1)>濮阳市商务局`

// At reads a Shanghai time written "2006-01-02 15:04".
func At(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	octoberOnce sync.Once
	octoberData []byte // the ledger file, built once
	octoberErr  error
)

// October opens, at path, a copy of the ledger of a known October 2026 for credit-portal
// (built once per test binary): a probe every 20 minutes; a 40-minute outage on 8 October
// from 10:00 (probes at 10:00 and 10:20 fail, 10:40 and 11:00 good: an incident of 40
// minutes); a single failed probe on 20 October at 03:00 (a risk event); creditwatch not
// running on 15 October from 12:00 to 14:00.
func October(t testing.TB, path string) (*ledger.Ledger, *config.Config) {
	t.Helper()
	octoberOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditwatch-october")
		if err != nil {
			octoberErr = err
			return
		}
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, "october.db")
		if octoberErr = buildOctober(file); octoberErr == nil {
			octoberData, octoberErr = os.ReadFile(file)
		}
	})
	if octoberErr != nil {
		t.Fatal(octoberErr)
	}
	if err := os.WriteFile(path, octoberData, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg, err := config.Parse([]byte(`
portal:
  targets:
    - {name: credit-portal, url: "https://credit.example.gov.cn/"}
assessment: {period_start: 2026-01-01}
`), At("2026-11-27 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	return l, cfg
}

func buildOctober(path string) error {
	ctx := context.Background()
	l, err := ledger.Open(ctx, path)
	if err != nil {
		return err
	}
	defer l.Close()
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	run1, _ := l.StartRun(ctx, At("2026-09-30 23:00"), "test", "puyang")
	l.Heartbeat(ctx, run1, At("2026-10-15 12:00"))
	run2, _ := l.StartRun(ctx, At("2026-10-15 14:00"), "test", "puyang")
	l.Heartbeat(ctx, run2, At("2026-11-01 00:10"))
	gapFrom, gapTo := At("2026-10-15 12:00"), At("2026-10-15 14:00")
	for p := At("2026-10-01 00:00"); p.Before(At("2026-11-01 00:00")); p = p.Add(20 * time.Minute) {
		if !p.Before(gapFrom) && p.Before(gapTo) {
			continue
		}
		rec := ledger.Probe{Target: "credit-portal", Vantage: "puyang", StartedAt: p, Duration: 180 * time.Millisecond,
			Outcome: "ok", StatusCode: 200, Interval: 20 * time.Minute}
		if p.Equal(At("2026-10-08 10:00")) || p.Equal(At("2026-10-08 10:20")) {
			rec.Failed, rec.Outcome, rec.Error, rec.Duration = true, "content_mismatch", HostileError, 900*time.Millisecond
		}
		if p.Equal(At("2026-10-20 03:00")) {
			rec.Failed, rec.Outcome, rec.Error, rec.StatusCode = true, "http_status", "HTTP 502, expected [200]", 502
		}
		rec.Evidence = &ledger.Evidence{At: p, URL: "https://credit.example.gov.cn/", Vantage: "puyang", ResolvedIP: "203.0.113.7",
			StatusLine: "HTTP/1.1 200 OK", Headers: map[string]string{"Server": "nginx"}, Outcome: rec.Outcome, Error: rec.Error,
			BodyExcerpt: "<title>信用濮阳</title>" + HostileError, BodySHA256: "9f2c0a", BodyBytes: 51234}
		if _, _, err := l.RecordProbe(ctx, rec, pol, ledger.Scoring{Site: "portal", Scored: true, MergeWindow: 40 * time.Minute}); err != nil {
			return err
		}
	}
	recs := []ledger.PublicityRecord{
		{Kind: publicity.Penalty, ID: "濮罚〔2026〕1号", Source: "test", UpdatedAt: At("2026-10-10 09:00"), Fields: map[string]string{},
			Assessment: publicity.Assessment{Department: HostileDepartment, Reported: true, Compliant: true, Timely: true}},
		{Kind: publicity.Penalty, ID: "濮罚〔2026〕2号", Source: "test", UpdatedAt: At("2026-10-10 09:00"), Fields: map[string]string{},
			Assessment: publicity.Assessment{Department: "濮阳市生态环境局", Reported: true, Compliant: false, Timely: true}},
	}
	return l.StorePublicity(ctx, recs, nil)
}

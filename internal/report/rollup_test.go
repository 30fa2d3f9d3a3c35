package report

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// rollupLedger is six weeks of 10-minute probes of two targets around October 2026,
// durations to the nanosecond, through the incident machine: an outage of "failing" in
// the middle of October, one of "healthy" that begins on 31 October at 23:00 and is still
// open at midnight, single failures (risk events), a stretch of WAF challenges, and a
// restart.
func rollupLedger(t *testing.T) (*ledger.Ledger, *config.Config) {
	t.Helper()
	l := newLedger(t)
	cfg := twoTargets(t)
	ctx := context.Background()
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	run1, _ := l.StartRun(ctx, at("2026-09-25 00:00"), "test", "puyang")
	restart := at("2026-10-19 06:00")
	l.StopRun(ctx, run1, restart.Add(-90*time.Minute))
	l.StartRun(ctx, restart, "test", "puyang")
	i := 0
	for p := at("2026-09-25 00:00").Add(13 * time.Second); p.Before(at("2026-11-08 00:00")); p = p.Add(10 * time.Minute) {
		if p.Before(restart) && !p.Before(restart.Add(-90*time.Minute)) {
			continue
		}
		for k, target := range []string{"healthy", "failing"} {
			i++
			rec := ledger.Probe{Target: target, Vantage: "puyang", StartedAt: p.Add(time.Duration(k) * 3 * time.Second),
				Duration: 150*time.Millisecond + time.Duration(i*7919%100000)*time.Microsecond + time.Duration(i%997),
				Outcome:  "ok", StatusCode: 200, Interval: 10 * time.Minute}
			fail := func(outcome string) {
				rec.Failed, rec.Outcome, rec.StatusCode, rec.Error = true, outcome, 503, "HTTP 503"
			}
			switch {
			case target == "failing" && p.After(at("2026-10-12 09:00")) && p.Before(at("2026-10-12 13:37")):
				fail("http_status")
			case target == "healthy" && p.After(at("2026-10-31 23:00")) && p.Before(at("2026-11-01 02:10")):
				fail("timeout")
			case i%331 == 0:
				fail("connect_error")
			case target == "failing" && p.After(at("2026-10-20 07:00")) && p.Before(at("2026-10-20 08:00")):
				rec.Outcome = "challenged"
			}
			if _, _, err := l.RecordProbe(ctx, rec, pol, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return l, cfg
}

// monthData is the data section of each month's report, as JSON.
func monthData(t *testing.T, l *ledger.Ledger, cfg *config.Config, when time.Time) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, month := range []string{"2026-09", "2026-10", "2026-11"} {
		d, err := Build(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: month, Now: when})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out[month] = b
	}
	return out
}

// The report of a month read from the rollups is, byte for byte, the report read from the
// raw rows: with the month rolled up only in part (the rollups end inside it, raw rows
// after), with its first half's raw rows deleted and the second half's still there, and
// with the month's raw rows all gone.
func TestReportFromRollupsIsTheReportFromRawRows(t *testing.T) {
	l, cfg := rollupLedger(t)
	ctx := context.Background()
	when := at("2026-11-07 12:00")
	raw := monthData(t, l, cfg, when)
	if n := len(raw["2026-10"]); n < 10000 {
		t.Fatalf("October's data is only %d bytes", n)
	}
	for _, step := range []struct {
		name string
		now  time.Time
		ret  ledger.Retention
	}{
		// Rolled up to 25 October 17:23:43 (inside a quarter-hour), nothing deleted.
		{"rolled up to inside October", at("2026-10-25 18:00"), ledger.Retention{Lag: 36*time.Minute + 17*time.Second}},
		// Raw rows deleted up to 16 October 05:00: October is rollups only before it, raw
		// rows after.
		{"raw rows deleted to mid-October", at("2026-10-25 18:00"), ledger.Retention{RawProbes: 9*24*time.Hour + 13*time.Hour, Lag: time.Hour}},
		// Everything rolled up, the raw rows of September, October and half November gone
		// (but for the hours incidents began in).
		{"raw rows deleted to mid-November", at("2026-12-20 00:00"), ledger.Retention{RawProbes: 35 * 24 * time.Hour, Lag: time.Minute}},
	} {
		done, err := l.RunRetention(ctx, step.now, step.ret)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := l.RollupStatus(ctx)
		t.Logf("%s: %+v; rolled to %s, raw from %s", step.name, done, st.RolledTo, st.RawFrom)
		for month, want := range monthData(t, l, cfg, when) {
			if !bytes.Equal(want, raw[month]) {
				t.Errorf("%s: %s differs from the raw rows' report:\n%s", step.name, month, firstDiff(want, raw[month]))
			}
		}
	}
	if n, _ := l.CountProbes(ctx, "healthy"); n < 6000 {
		t.Errorf("healthy probes: %d", n)
	}
}

package ledgerbench

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// A small ledger is built as a running creditwatch leaves it: rolled up, raw rows past the
// retention gone, one incident.
func TestBuildSmall(t *testing.T) {
	ctx := context.Background()
	s := Spec{Targets: 5, Now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), Days: 40, DenseHours: 3, Incidents: 1, RawProbes: 35 * 24 * time.Hour}
	path := t.TempDir() + "/l.db"
	if err := Build(ctx, path, s); err != nil {
		t.Fatal(err)
	}
	_, rows, err := TableBytes(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if rows["probes"] == 0 || rows["probe_days"] < 5*40 || rows["watch_spans"] < 5 {
		t.Errorf("rows %v", rows)
	}
	l, err := ledger.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	st, _ := l.RollupStatus(ctx)
	if !st.RolledTo.Equal(s.Now.Add(-Lag)) || !st.RawFrom.Equal(s.Now.Add(-s.RawProbes)) {
		t.Errorf("rollups %+v", st)
	}
	incs, _ := l.Incidents(ctx, time.Time{}, time.Time{}, false)
	if len(incs) != 1 || incs[0].Target != Name(0) {
		t.Errorf("incidents %+v", incs)
	}
	n, _ := l.CountProbes(ctx, "")
	// Hourly, then every 30 s for 3 hours; the incident's hour (hourly here) every 30 s.
	if want := 5*(40*24-3) + 5*3*120 - 1 + 120; n != want {
		t.Errorf("probes %d, want %d", n, want)
	}
}

// BenchmarkLedgerSize measures the bytes a raw probe row and a rollup row take (with
// their indexes, after VACUUM) in the 1,000-target ledger, and works out the size of a
// year of 30 s probes of 1,000 targets: every raw row kept, or raw rows and quarter-hours
// kept 35 days and hour and day rows the year.
func BenchmarkLedgerSize(b *testing.B) {
	ctx := context.Background()
	path := Path(b, Targets1000)
	bytes, rows, err := TableBytes(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	per := func(t string) float64 { return float64(bytes[t]) / float64(rows[t]) }
	// Rows per target and unit, from the day probed every 30 s (a probe in 97 fails, so
	// some units have a second row, for the failures' outcome).
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	dense := Targets1000.Now.Add(-23 * time.Hour)
	unitRows := map[string]float64{}
	for _, u := range []struct {
		table string
		unit  time.Duration
	}{{"probe_quarters", 15 * time.Minute}, {"probe_hours", time.Hour}} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+u.table+` WHERE start >= ? AND start < ?`, dense.UnixMilli(),
			dense.Add(20*time.Hour).UnixMilli()).Scan(&n); err != nil {
			b.Fatal(err)
		}
		unitRows[u.table] = float64(n) / float64(Targets1000.Targets) / (20 * float64(time.Hour) / float64(u.unit))
	}
	// A day of 30 s probes fails a probe in 97 somewhere: two outcomes.
	unitRows["probe_days"] = 2
	const targets, year, raw = 1000, 365, 35
	perDay := float64(targets) * 2880
	rawYear := perDay * year * per("probes")
	rolled := perDay*raw*per("probes") + targets*96*raw*unitRows["probe_quarters"]*per("probe_quarters") +
		targets*24*year*unitRows["probe_hours"]*per("probe_hours") + targets*year*unitRows["probe_days"]*per("probe_days")
	for b.Loop() {
	}
	b.ReportMetric(per("probes"), "B/raw-row")
	b.ReportMetric(per("probe_quarters"), "B/quarter-row")
	b.ReportMetric(per("probe_hours"), "B/hour-row")
	b.ReportMetric(per("probe_days"), "B/day-row")
	b.ReportMetric(unitRows["probe_quarters"], "rows/target-quarter")
	b.ReportMetric(unitRows["probe_hours"], "rows/target-hour")
	b.ReportMetric(rawYear/1e9, "GB/year-raw")
	b.ReportMetric(rolled/1e9, "GB/year-rolled")
	b.Logf("tables %v, rows %v", bytes, rows)
}

// BenchmarkRetention rolls up and deletes the raw rows of 1,000 targets probed every 30 s
// (2.9 million rows rolled up, 1.4 million deleted) while a probe is recorded every 10 ms
// (a province's 3,000 targets at 30 s): the probe gap is how long recording a probe takes
// at worst during retention, against the same without it.
func BenchmarkRetention(b *testing.B) {
	ctx := context.Background()
	s := Spec{Targets: 1000, Now: Targets1000.Now, Days: 3, DenseHours: 24, Unrolled: true}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, err := ledger.Open(ctx, Copy(b, s))
		if err != nil {
			b.Fatal(err)
		}
		// The copy on disk before any probe's fsync waits for it.
		syscall.Sync()
		k := 0
		record := func() time.Duration {
			k++
			at := s.Now.Add(time.Duration(k) * 10 * time.Millisecond)
			start := time.Now()
			if _, _, err := l.RecordProbe(ctx, ledger.Probe{Target: "probe-gap", Vantage: "bench", StartedAt: at, Duration: 150 * time.Millisecond,
				Outcome: "ok", StatusCode: 200, Interval: 30 * time.Second}, incident.Policy{OpenAfter: 2, CloseAfter: 2},
				ledger.Scoring{Site: "portal", Scored: true}); err != nil {
				b.Error(err)
			}
			return time.Since(start)
		}
		for range 50 { // warm the caches
			record()
		}
		var quiet []time.Duration
		for range 1000 {
			quiet = append(quiet, record())
			time.Sleep(10 * time.Millisecond)
		}
		b.StartTimer()
		var during []time.Duration
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
					during = append(during, record())
				}
			}
		})
		start := time.Now()
		done, err := l.RunRetention(ctx, s.Now, ledger.Retention{RawProbes: 12 * time.Hour, Lag: Lag})
		took := time.Since(start)
		close(stop)
		wg.Wait()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
		q, d := percentiles(quiet), percentiles(during)
		b.ReportMetric(float64(done.Rolled)/took.Seconds(), "rows-rolled/s")
		b.ReportMetric(float64(done.Deleted+done.Rolled)/float64(done.Batches), "rows/txn")
		b.ReportMetric(ms(took)/float64(done.Batches), "ms/txn+pause")
		b.ReportMetric(ms(done.Longest), "longest-txn-ms")
		b.ReportMetric(ms(d[2]), "probe-max-ms")
		b.ReportMetric(ms(d[1]), "probe-p99-ms")
		b.ReportMetric(ms(q[2]), "quiet-probe-max-ms")
		b.Logf("retention %+v in %s; probe latency p50/p99/max: quiet %s, during %s (%d probes)", done, took.Round(time.Millisecond),
			fmt.Sprint(q), fmt.Sprint(d), len(during))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentiles are the 50th, 99th and 100th.
func percentiles(ds []time.Duration) [3]time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) == 0 {
		return [3]time.Duration{}
	}
	return [3]time.Duration{ds[len(ds)/2], ds[len(ds)*99/100], ds[len(ds)-1]}
}

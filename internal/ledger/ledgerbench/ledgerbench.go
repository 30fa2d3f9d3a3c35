// Package ledgerbench builds big ledgers for benchmarks: months of probes of many targets,
// rolled up and past their retention as a running creditwatch leaves them. A ledger is
// built once and kept in the temporary directory, so that later benchmark runs start at
// once; each benchmark reads a copy of it.
package ledgerbench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// version changes whenever what Build writes changes, so that a ledger kept from an older
// build is not used.
const version = 4

// Spec describes a ledger.
type Spec struct {
	Targets int       // named portal-0000, portal-0001, …
	Now     time.Time // the end of the history, and the retention's now
	Days    int       // of history before Now
	// The last DenseHours are probed every 30 s; before them, once an hour (what the
	// benchmarks read of that time is rollups: days, whose rows do not depend on how often
	// a target was probed).
	DenseHours int
	// Incidents: so many targets fail for 20 minutes, 5 hours before Now, through the
	// incident machine (an incident each, with evidence and chain links).
	Incidents int
	// RawProbes is the retention applied at Now (raw rows older are deleted).
	RawProbes time.Duration
	// Unrolled leaves the probes as recorded: nothing rolled up, nothing deleted.
	Unrolled bool
}

// Targets1000 is the benchmarks' ledger as a running creditwatch leaves it: 1,000 targets
// over 92 days to 27 November 2026 09:00 Shanghai, the last day probed every 30 s, raw rows
// kept 35 days, ten incidents on the last day.
var Targets1000 = Spec{Targets: 1000, Now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), Days: 92, DenseHours: 24, Incidents: 10,
	RawProbes: 35 * 24 * time.Hour}

// Name is the target name of target i.
func Name(i int) string { return fmt.Sprintf("portal-%04d", i) }

// Interval of the dense probes.
const Interval = 30 * time.Second

// Lag is how far behind Now the rollups are: a 10 s timeout and a minute.
const Lag = 70 * time.Second

// Path is where the ledger of spec is kept, built if it is not there yet.
func Path(tb testing.TB, s Spec) string {
	tb.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("creditwatch-bench-v%d-%dt-%dd-%dh-%di-%s-%v-%s.db", version, s.Targets, s.Days,
		s.DenseHours, s.Incidents, s.RawProbes, s.Unrolled, s.Now.UTC().Format("20060102T150405")))
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer lock.Close()
	// Another test binary may be building it.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	tmp := path + ".building"
	os.Remove(tmp)
	if err := Build(context.Background(), tmp, s); err != nil {
		os.Remove(tmp)
		tb.Fatalf("building the benchmark ledger: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built %s in %s", path, time.Since(start).Round(time.Second))
	return path
}

// Copy is a private copy of the ledger of spec, in the benchmark's temporary directory.
func Copy(tb testing.TB, s Spec) string {
	tb.Helper()
	src := Path(tb, s)
	dst := filepath.Join(tb.TempDir(), "ledger.db")
	in, err := os.Open(src)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	// Written to disk now: else the benchmark's first write that syncs the file (SQLite's
	// first checkpoint) waits for the whole copy to be written back, and is timed.
	if err := out.Sync(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// Build writes the ledger of spec at path: raw probes written straight into the table (the
// way creditwatch writes them would take an hour), one watch span per target, one run over
// the whole history, the incidents through RecordProbe, then rollups and retention as the
// service runs them, and VACUUM, so that the file's size is what the rows take.
func Build(ctx context.Context, path string, s Spec) error {
	l, err := ledger.Open(ctx, path)
	if err != nil {
		return err
	}
	from := s.Now.AddDate(0, 0, -s.Days)
	dense := s.Now.Add(-time.Duration(s.DenseHours) * time.Hour)
	incFrom, incTo := s.Now.Add(-5*time.Hour), s.Now.Add(-4*time.Hour)
	run, err := l.StartRun(ctx, from, "bench", "bench")
	if err == nil {
		err = l.Heartbeat(ctx, run, s.Now)
	}
	if err != nil {
		l.Close()
		return err
	}
	l.Close()

	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	// Raw probes, in the order of time: every 29 ms a target, each target's probes an
	// interval apart; a probe in 97 times out; durations from 100 to 500 ms.
	write := func(a, z time.Time, every time.Duration) error {
		_, err := db.ExecContext(ctx, `WITH RECURSIVE ts(at) AS (SELECT ? UNION ALL SELECT at + ? FROM ts WHERE at + ? < ?),
			tg(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM tg WHERE n + 1 < ?)
			INSERT INTO probes (target, vantage, started_at, duration_seconds, outcome, failed, status_code, error, dns_seconds,
				connect_seconds, tls_seconds, first_byte_seconds, body_bytes, cert_expiry)
			SELECT printf('portal-%04d', n), 'bench', at + n * 29, 0.1 + ((at / 1000 + n * 7) * 7919 % 400) / 1000.0,
				IIF((at / 1000 + n) % 97 = 0, 'timeout', 'ok'), (at / 1000 + n) % 97 = 0, IIF((at / 1000 + n) % 97 = 0, 0, 200),
				IIF((at / 1000 + n) % 97 = 0, 'timed out after 10s', ''), 0.004, 0.012, 0.031, 0.092, 51234, ?
			FROM ts, tg WHERE NOT (n < ? AND at >= ? AND at < ?) ORDER BY at, n`,
			a.UnixMilli(), every.Milliseconds(), every.Milliseconds(), z.UnixMilli(), s.Targets, s.Now.AddDate(0, 3, 0).UnixMilli(),
			s.Incidents, incFrom.UnixMilli(), incTo.UnixMilli())
		return err
	}
	// A few hours at a time, so that no transaction holds millions of rows.
	for _, part := range []struct {
		from, to    time.Time
		every, step time.Duration
	}{{from, dense, time.Hour, 10 * 24 * time.Hour}, {dense, s.Now, Interval, 2 * time.Hour}} {
		for a := part.from; a.Before(part.to); a = a.Add(part.step) {
			z := a.Add(part.step)
			if z.After(part.to) {
				z = part.to
			}
			if err := write(a, z, part.every); err != nil {
				db.Close()
				return fmt.Errorf("writing probes: %w", err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE tg(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM tg WHERE n + 1 < ?)
		INSERT INTO watch_spans (target, vantage, started_at, ended_at) SELECT printf('portal-%04d', n), 'bench', ?, ? FROM tg`,
		s.Targets, from.UnixMilli(), s.Now.UnixMilli()); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}

	if l, err = ledger.Open(ctx, path); err != nil {
		return err
	}
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	for i := 0; i < s.Incidents; i++ {
		for at := incFrom.Add(time.Duration(i) * 29 * time.Millisecond); at.Before(incTo); at = at.Add(Interval) {
			p := ledger.Probe{Target: Name(i), Vantage: "bench", StartedAt: at, Duration: 180 * time.Millisecond, Outcome: "ok",
				StatusCode: 200, Interval: Interval, Evidence: &ledger.Evidence{At: at, URL: "https://credit.example.gov.cn/",
					Outcome: "ok", BodyExcerpt: "<title>信用</title>", BodyBytes: 51234}}
			if off := at.Sub(incFrom); off >= 15*time.Minute && off < 35*time.Minute {
				p.Failed, p.Outcome, p.StatusCode, p.Error = true, "http_status", 502, "HTTP 502, expected [200]"
			}
			if _, _, err := l.RecordProbe(ctx, p, pol, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
				l.Close()
				return err
			}
		}
	}
	if !s.Unrolled {
		if _, err := l.RunRetention(ctx, s.Now, ledger.Retention{RawProbes: s.RawProbes, Lag: Lag}); err != nil {
			l.Close()
			return err
		}
	}
	if err := l.Close(); err != nil {
		return err
	}
	if db, err = sql.Open("sqlite", "file:"+path); err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `VACUUM`)
	return err
}

// TableBytes is the bytes each table of the ledger at path takes with its indexes, and its
// rows.
func TableBytes(ctx context.Context, path string) (bytes, rows map[string]int64, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	bytes, rows = map[string]int64{}, map[string]int64{}
	q, err := db.QueryContext(ctx, `SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat d JOIN sqlite_schema m ON m.name = d.name
		GROUP BY m.tbl_name`)
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	for q.Next() {
		var t string
		var n int64
		if err := q.Scan(&t, &n); err != nil {
			return nil, nil, err
		}
		bytes[t] = n
	}
	if err := q.Err(); err != nil {
		return nil, nil, err
	}
	for _, t := range []string{"probes", "probe_quarters", "probe_hours", "probe_days", "watch_spans"} {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, nil, err
		}
		rows[t] = n
	}
	return bytes, rows, nil
}

package ledger

// Rollups: what the figures need of the probes, summed per target, vantage and outcome
// over quarter-hours, hours and Asia/Shanghai days, so that the report, the status page and
// the score card read a few rows per target and day rather than every probe, and give the
// same figures once the raw rows are gone.
//
// Probes are rolled up shortly after they are recorded (rollup_state.rolled_to, R: every
// probe that started before R is in the rollups), in short transactions that add a slice
// of raw rows to the rows of their quarter-hours; the transaction whose slice ends an hour
// sums the hour from its quarter-hours and adds it to its day. So the rows of quarter-hours
// before R are whole, and so are those of hours and days that end by R; the quarter-hour R
// is in holds the probes before R, the day R is in its hours so far. Raw rows are deleted later, after the
// configured retention (rollup_state.raw_from, D: raw rows that started before D are gone,
// but for the hour in which each incident began, kept as its evidence). Quarter-hour rows
// go with the raw rows; hour and day rows are kept for years (rollup_state.rollups_from).
//
// Readers take rollups for the time before R and raw rows after it, in one snapshot
// (probeSums, planned by plan). A probe recorded late, with a start before R (an import
// of history, or a probe slower than the roll's lag), is added to the rollups by a trigger
// in the transaction that inserts it, so no path that writes probes needs to know.

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Units of the rollup tables, in milliseconds.
const (
	quarterMS = 15 * 60 * 1000
	hourMS    = 60 * 60 * 1000
	dayMS     = 24 * hourMS
	// shanghaiMS is Asia/Shanghai's offset: China has kept UTC+8 all year since 1991, so a
	// day there begins at 16:00 UTC the day before.
	shanghaiMS = 8 * hourMS
)

// nsOf is a probe's duration in whole nanoseconds, as stored in seconds: sums of durations
// are kept as integers so that a sum of sums is exactly the sum of the probes.
const nsOf = `CAST(ROUND(duration_seconds * 1e9) AS INTEGER)`

// rollupColumns are a rollup row's columns after its key.
const rollupColumns = `probes, failed, duration_ns, max_seconds, good_ns, good_max_seconds`

// rollupAdd adds a rollup row being inserted to the one already there, as written in
// migration 13's trigger. Statements use rollupAddTo.
const rollupAdd = `probes = probes + excluded.probes, failed = failed + excluded.failed,
		duration_ns = duration_ns + excluded.duration_ns, max_seconds = MAX(max_seconds, excluded.max_seconds),
		good_ns = good_ns + excluded.good_ns, good_max_seconds = MAX(good_max_seconds, excluded.good_max_seconds)`

// rollupAddTo is rollupAdd with the row already there named by its table, which
// PostgreSQL needs (a bare column name there is ambiguous with excluded's).
func rollupAddTo(table string) string {
	return `probes = ` + table + `.probes + excluded.probes, failed = ` + table + `.failed + excluded.failed,
		duration_ns = ` + table + `.duration_ns + excluded.duration_ns,
		max_seconds = MAX(` + table + `.max_seconds, excluded.max_seconds),
		good_ns = ` + table + `.good_ns + excluded.good_ns,
		good_max_seconds = MAX(` + table + `.good_max_seconds, excluded.good_max_seconds)`
}

// rollupMigration creates the rollup tables, the state of the rollup and of retention, and
// the trigger that adds a late probe to the rollups. It drops the probes' index by target:
// deleting a slice of time's raw rows touched a page of it per target (a batch of 500 rows
// took 56 ms rather than 4), and every reader of raw rows now reads a stretch of time.
var rollupMigration = rollupMigrationFor(false)

// pgRollupMigration is rollupMigration for PostgreSQL: the same tables (rewritten by
// pgDialect), and the trigger as a PL/pgSQL function whose statements are the SQLite
// trigger's, rewritten, with SQLite's integers-as-booleans spelt out.
var pgRollupMigration = rollupMigrationFor(true)

func rollupMigrationFor(pg bool) string {
	table := func(name, unit string) string {
		return `CREATE TABLE ` + name + ` (
		start INTEGER NOT NULL, -- the ` + unit + `'s start, UTC Unix ms
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		outcome TEXT NOT NULL,
		probes INTEGER NOT NULL,
		failed INTEGER NOT NULL,
		duration_ns INTEGER NOT NULL, -- of all the probes
		max_seconds REAL NOT NULL,
		good_ns INTEGER NOT NULL, -- of the probes that did not fail
		good_max_seconds REAL NOT NULL,
		PRIMARY KEY (start, target, vantage, outcome)
	) WITHOUT ROWID;
	`
	}
	failed, isFailed := `NEW.failed != 0`, `NEW.failed`
	if pg {
		failed, isFailed = `CASE WHEN NEW.failed != 0 THEN 1 ELSE 0 END`, `NEW.failed != 0`
	}
	// late adds NEW to the rollup table of a unit that is already rolled up.
	late := func(name, unitStart, cond string) string {
		add := rollupAdd
		if pg {
			add = rollupAddTo(name)
		}
		s := `INSERT INTO ` + name + ` (start, target, vantage, outcome, ` + rollupColumns + `)
		SELECT ` + unitStart + `, NEW.target, NEW.vantage, NEW.outcome, 1, ` + failed + `, ` + strings.ReplaceAll(nsOf, "duration_seconds", "NEW.duration_seconds") + `,
			NEW.duration_seconds, CASE WHEN ` + isFailed + ` THEN 0 ELSE ` + strings.ReplaceAll(nsOf, "duration_seconds", "NEW.duration_seconds") + ` END,
			CASE WHEN ` + isFailed + ` THEN 0 ELSE NEW.duration_seconds END
		FROM rollup_state WHERE ` + cond + `
		ON CONFLICT (start, target, vantage, outcome) DO UPDATE SET ` + add + `;
		`
		if pg {
			st, err := rewriteForPostgres(s)
			if err != nil {
				panic(err)
			}
			s = st.sql
		}
		return s
	}
	const (
		q = `NEW.started_at - NEW.started_at % 900000`
		h = `NEW.started_at - NEW.started_at % 3600000`
		d = `NEW.started_at - (NEW.started_at + 28800000) % 86400000`
	)
	tables := `DROP INDEX probes_by_target_time;
	` + table("probe_quarters", "quarter-hour") + table("probe_hours", "hour") + table("probe_days", "Asia/Shanghai day") + `
	CREATE TABLE rollup_state (
		id INTEGER PRIMARY KEY CHECK (id = 1),
		rolled_to INTEGER NOT NULL,   -- every probe that started before it is in the rollups
		raw_from INTEGER NOT NULL,    -- raw rows that started before it are deleted (but kept hours)
		rollups_from INTEGER NOT NULL -- hour and day rows, and watch spans, before it are deleted
	);
	INSERT INTO rollup_state VALUES (1, 0, 0, 0);
	`
	statements := late("probe_quarters", q, q+` >= raw_from - raw_from % 3600000`) +
		late("probe_hours", h, h+` + 3600000 <= rolled_to`) + late("probe_days", d, h+` + 3600000 <= rolled_to`)
	if pg {
		return tables + `CREATE FUNCTION probes_late_rollup() RETURNS trigger LANGUAGE plpgsql AS $rollup$
	BEGIN
		IF NEW.started_at < (SELECT rolled_to FROM rollup_state) THEN
		` + statements + `
		END IF;
		RETURN NULL;
	END
	$rollup$;
	CREATE TRIGGER probes_late_rollup AFTER INSERT ON probes FOR EACH ROW EXECUTE FUNCTION probes_late_rollup();`
	}
	return tables + `CREATE TRIGGER probes_late_rollup AFTER INSERT ON probes
	WHEN NEW.started_at < (SELECT rolled_to FROM rollup_state)
	BEGIN
		` + statements + `
	END;`
}

// rollupState is where the rollups and retention stand.
type rollupState struct {
	rolledTo, rawFrom, rollupsFrom int64
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readRollupState(ctx context.Context, q queryer) (rollupState, error) {
	var s rollupState
	err := q.QueryRowContext(ctx, `SELECT rolled_to, raw_from, rollups_from FROM rollup_state`).Scan(&s.rolledTo, &s.rawFrom, &s.rollupsFrom)
	if err != nil {
		return s, fmt.Errorf("reading the rollup state: %w", err)
	}
	return s, nil
}

// RollupStatus says how far the rollups and retention have gone.
type RollupStatus struct {
	RolledTo    time.Time // every probe that started before it is in the rollups
	RawFrom     time.Time // raw rows before it are deleted, but for the hours incidents began in
	RollupsFrom time.Time // hour and day rollups and watch spans before it are deleted
}

// RollupStatus reads where the rollups and retention stand.
func (l *Ledger) RollupStatus(ctx context.Context) (RollupStatus, error) {
	s, err := readRollupState(ctx, l.r)
	return RollupStatus{RolledTo: fromMS(s.rolledTo), RawFrom: fromMS(s.rawFrom), RollupsFrom: fromMS(s.rollupsFrom)}, err
}

// floorMod is t's offset into its unit, for units that begin where (t + off) % unit == 0.
func floorMod(t, unit, off int64) int64 {
	m := (t + off) % unit
	if m < 0 {
		m += unit
	}
	return m
}

func floorUnit(t, unit, off int64) int64 { return t - floorMod(t, unit, off) }

func ceilUnit(t, unit, off int64) int64 {
	if m := floorMod(t, unit, off); m != 0 {
		return t - m + unit
	}
	return t
}

// A rollup level: a table and its unit.
type level struct {
	table     string
	unit, off int64
}

var levels = []level{
	{"probe_days", dayMS, shanghaiMS},
	{"probe_hours", hourMS, 0},
	{"probe_quarters", quarterMS, 0},
}

// piece is a stretch of time read from one table ("" for the raw probes).
type piece struct {
	table    string
	from, to int64
}

// buckets group what is read: bucket k is [origin + k×width, origin + (k+1)×width); a
// width of 0 is one bucket.
type buckets struct{ origin, width int64 }

// holds reports whether every unit of a level lies within one bucket, so that its rows can
// be summed into buckets.
func (b buckets) holds(lv level) bool {
	return b.width == 0 || b.width%lv.unit == 0 && floorMod(b.origin, lv.unit, lv.off) == 0
}

// plan splits [from, to) into the pieces to read: raw rows from R on; before it the
// largest whole units the buckets allow (days, then hours, then quarter-hours), and raw
// rows for what is left at the edges. The quarter-hour that R falls in is rolled up as far
// as R, so its row covers [its start, R) exactly. Quarter-hour rows are deleted with the
// raw rows, so before the hour of D the edges are read from raw rows (the hours kept).
func plan(st rollupState, from, to int64, b buckets) []piece {
	var out []piece
	raw := func(a, z int64) {
		if a >= z {
			return
		}
		if n := len(out); n > 0 && out[n-1].table == "" && out[n-1].to == a {
			out[n-1].to = z
			return
		}
		out = append(out, piece{from: a, to: z})
	}
	r := st.rolledTo
	var fill func(a, z int64, lv int)
	fill = func(a, z int64, lv int) {
		if a >= z {
			return
		}
		if lv == len(levels) {
			raw(a, z)
			return
		}
		l := levels[lv]
		if !b.holds(l) {
			fill(a, z, lv+1)
			return
		}
		if l.table == "probe_quarters" {
			if kept := floorUnit(st.rawFrom, hourMS, 0); a < kept {
				raw(a, min(z, kept))
				a = max(a, kept)
				if a >= z {
					return
				}
			}
		}
		first, end := ceilUnit(a, l.unit, l.off), floorUnit(z, l.unit, l.off)
		if l.table == "probe_quarters" && z == r && floorMod(r, l.unit, 0) != 0 && floorUnit(r, l.unit, 0) >= first {
			end = r
		}
		if first >= end {
			fill(a, z, lv+1)
			return
		}
		fill(a, first, lv+1)
		out = append(out, piece{table: l.table, from: first, to: end})
		fill(end, z, lv+1)
	}
	fill(from, min(to, r), 0)
	raw(max(from, r), to)
	sort.SliceStable(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out
}

// ProbeSum sums the probes of one target (and vantage and outcome, when asked for) that
// started in one bucket of time.
type ProbeSum struct {
	Target, Vantage, Outcome string
	Bucket                   int64
	Probes, Failed           int
	DurationNS               int64   // of all the probes
	MaxSeconds               float64 // of all the probes
	GoodNS                   int64   // of the probes that did not fail
	GoodMaxSeconds           float64 // 0 when none did
}

// Good is how many probes did not fail.
func (s ProbeSum) Good() int { return s.Probes - s.Failed }

// MeanSeconds is the mean duration of all the probes, 0 if none.
func (s ProbeSum) MeanSeconds() float64 { return meanSeconds(s.DurationNS, s.Probes) }

// GoodMeanSeconds is the mean duration of the probes that did not fail, 0 if none.
func (s ProbeSum) GoodMeanSeconds() float64 { return meanSeconds(s.GoodNS, s.Good()) }

// meanSeconds is ns ÷ n in seconds, rounded once: the nearest float to the true mean.
func meanSeconds(ns int64, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(ns) / (float64(n) * 1e9)
}

func (s *ProbeSum) add(o ProbeSum) {
	s.Probes += o.Probes
	s.Failed += o.Failed
	s.DurationNS += o.DurationNS
	s.MaxSeconds = max(s.MaxSeconds, o.MaxSeconds)
	s.GoodNS += o.GoodNS
	s.GoodMaxSeconds = max(s.GoodMaxSeconds, o.GoodMaxSeconds)
}

// sumQuery asks for the sums of the probes that started in [from, to).
type sumQuery struct {
	from, to int64
	buckets
	target               string   // "": every target
	targets              []string // and if any, only these
	byVantage, byOutcome bool     // keep vantages and outcomes apart
}

// probeSums is the one way figures read probes: the rollups for the time rolled up, raw
// rows for the rest, read in one snapshot. Sums come by target, bucket, and vantage and
// outcome if asked for.
func (l *Ledger) probeSums(ctx context.Context, q sumQuery) ([]ProbeSum, error) {
	tx, err := l.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	st, err := readRollupState(ctx, tx)
	if err != nil {
		return nil, err
	}
	sums := &sumSet{at: map[sumKey]int{}}
	for _, p := range plan(st, q.from, q.to, q.buckets) {
		if err := readPiece(ctx, tx, p, q, sums); err != nil {
			return nil, err
		}
	}
	// Sorted by position, not moved about: a sum is 88 bytes, and there may be 100,000.
	order := make([]int32, len(sums.all))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &sums.all[i], &sums.all[j]
		return cmp.Or(strings.Compare(a.Target, b.Target), cmp.Compare(a.Bucket, b.Bucket), strings.Compare(a.Vantage, b.Vantage),
			strings.Compare(a.Outcome, b.Outcome))
	})
	out := make([]ProbeSum, len(order))
	for k, i := range order {
		out[k] = sums.all[i]
	}
	return out, nil
}

// sumKey is what a ProbeSum sums by.
type sumKey struct {
	target, vantage, outcome string
	bucket                   int64
}

// sumSet gathers sums by key.
type sumSet struct {
	all []ProbeSum
	at  map[sumKey]int // index in all
}

func (s *sumSet) add(p ProbeSum) {
	k := sumKey{p.Target, p.Vantage, p.Outcome, p.Bucket}
	if i, ok := s.at[k]; ok {
		s.all[i].add(p)
		return
	}
	s.at[k] = len(s.all)
	s.all = append(s.all, p)
}

// probed reports whether a probe of the outcome started in [from, to), from the same
// pieces as probeSums, stopping at the first.
func (l *Ledger) probed(ctx context.Context, from, to time.Time, outcome string) (bool, error) {
	tx, err := l.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	st, err := readRollupState(ctx, tx)
	if err != nil {
		return false, err
	}
	for _, p := range plan(st, ms(from), ms(to), buckets{}) {
		q := `SELECT EXISTS (SELECT 1 FROM probes WHERE started_at >= ? AND started_at < ? AND outcome = ?)`
		if p.table != "" {
			q = `SELECT EXISTS (SELECT 1 FROM ` + p.table + ` WHERE start >= ? AND start < ? AND outcome = ? AND probes > 0)`
		}
		var found bool
		if err := tx.QueryRowContext(ctx, q, p.from, p.to, outcome).Scan(&found); err != nil {
			return false, fmt.Errorf("looking for a probe: %w", err)
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// maxTargetsIn is the most targets a sumQuery names in its SQL; with more, every target is
// read and the others are left out as rows come.
const maxTargetsIn = 500

// readPiece adds one piece's sums to sums.
//
// A rollup table whose unit is the bucket's width (days by day, quarter-hours by
// quarter-hour) is grouped by its key's order (start, target, vantage, outcome), which
// SQLite reads in order from the primary key and sums as it goes; grouped by bucket and
// target instead, it would sort every row first (for the 90 days of 1,000 targets, about
// three quarters of a second more).
func readPiece(ctx context.Context, tx *sql.Tx, p piece, q sumQuery, sums *sumSet) error {
	t, cols := "start", `SUM(probes), SUM(failed), SUM(duration_ns), MAX(max_seconds), SUM(good_ns), MAX(good_max_seconds)`
	table := p.table
	if table == "" {
		table, t = "probes", "started_at"
		cols = `COUNT(*), SUM(failed), SUM(` + nsOf + `), MAX(duration_seconds),
			SUM(CASE WHEN failed != 0 THEN 0 ELSE ` + nsOf + ` END), MAX(CASE WHEN failed != 0 THEN 0 ELSE duration_seconds END)`
	}
	bucket := "0"
	if q.width > 0 {
		bucket = fmt.Sprintf("(%s - %d) / %d", t, q.origin, q.width)
	}
	vantage, outcome := "''", "''"
	if q.byVantage {
		vantage = "vantage"
	}
	if q.byOutcome {
		outcome = "outcome"
	}
	group := `target, 2, 3, b`
	if unitOf(p.table) == q.width && q.width > 0 {
		group = `start, target`
		switch {
		case q.byOutcome:
			// The key's order needs the vantage before the outcome: the vantages kept
			// apart here are summed up below unless asked for.
			vantage, group = "vantage", group+`, vantage, outcome`
		case q.byVantage:
			group += `, vantage`
		}
	}
	where := t + ` >= ? AND ` + t + ` < ?`
	args := []any{p.from, p.to}
	if q.target != "" {
		where += ` AND target = ?`
		args = append(args, q.target)
	}
	var only map[string]bool
	switch n := len(q.targets); {
	case n > maxTargetsIn:
		only = make(map[string]bool, n)
		for _, t := range q.targets {
			only[t] = true
		}
	case n > 0:
		where += ` AND target IN (?` + strings.Repeat(`, ?`, n-1) + `)`
		for _, t := range q.targets {
			args = append(args, t)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT target, `+vantage+`, `+outcome+`, `+bucket+` AS b, `+cols+`
		FROM `+table+` WHERE `+where+` GROUP BY `+group, args...)
	if err != nil {
		return fmt.Errorf("reading probes from %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s ProbeSum
		if err := rows.Scan(&s.Target, &s.Vantage, &s.Outcome, &s.Bucket, &s.Probes, &s.Failed, &s.DurationNS, &s.MaxSeconds,
			&s.GoodNS, &s.GoodMaxSeconds); err != nil {
			return err
		}
		if only != nil && !only[s.Target] {
			continue
		}
		if !q.byVantage {
			s.Vantage = ""
		}
		sums.add(s)
	}
	return rows.Err()
}

// unitOf is the unit of a rollup table in milliseconds, 0 for the raw probes.
func unitOf(table string) int64 {
	for _, lv := range levels {
		if lv.table == table {
			return lv.unit
		}
	}
	return 0
}

// Retention says what the ledger keeps of the probes, and how it rolls them up.
type Retention struct {
	// RawProbes is how long raw probe rows are kept; 0 keeps them all.
	RawProbes time.Duration
	// RollupsFrom: hour and day rollups and watch spans of the time before it are deleted;
	// zero keeps them all.
	RollupsFrom time.Time
	// Lag: probes are rolled up once they started at least this long ago (the longest probe
	// timeout and a margin), so that a probe is rarely recorded after its time is rolled up.
	Lag time.Duration
}

// RetentionDone is what one run of retention did.
type RetentionDone struct {
	Rolled, Deleted, Pruned int // raw rows rolled up, raw rows deleted, rollup rows and spans deleted
	Batches                 int
	Longest                 time.Duration // the longest batch, its planning and transaction
}

// RetentionBatch is how many rows a retention transaction handles at most (a few more when
// many probes began in the same millisecond): each takes about 10 ms, so a probe waits for
// one batch at most.
const RetentionBatch = 1000

// retentionPause bounds the pause after a retention transaction, as long as the
// transaction took: retention holds the writer half the time at most.
const retentionPause = 50 * time.Millisecond

// ErrRetentionBusy is returned when retention is already running on the ledger (on a
// PostgreSQL ledger, in this instance or another).
var ErrRetentionBusy = errors.New("ledger retention is already running")

// RunRetention rolls up the probes that are due, deletes raw rows older than the retention
// and rollups older than theirs, in short transactions, until done or ctx ends. Each
// transaction moves the state it changes with the rows it writes, so a crash at any point
// loses and double-counts nothing, and running it again does only what is left.
func (l *Ledger) RunRetention(ctx context.Context, now time.Time, r Retention) (RetentionDone, error) {
	if !l.retention.TryLock() {
		return RetentionDone{}, ErrRetentionBusy
	}
	defer l.retention.Unlock()
	// On PostgreSQL, other instances sharing the ledger may run theirs: one at a time.
	release, held, err := l.instanceLock(ctx, "retention", true)
	if err != nil {
		return RetentionDone{}, fmt.Errorf("taking the retention lock: %w", err)
	}
	if !held {
		return RetentionDone{}, ErrRetentionBusy
	}
	defer release()
	var done RetentionDone
	steps := []struct {
		what string
		step func(context.Context, time.Time, Retention, *RetentionDone) (bool, error)
	}{
		{"rolling up probes", l.rollBatch},
		{"deleting raw probes", l.deleteBatch},
		{"deleting old rollups", l.pruneBatch},
	}
	for _, s := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return done, err
			}
			start := time.Now()
			more, err := s.step(ctx, now, r, &done)
			if err != nil {
				return done, fmt.Errorf("%s: %w", s.what, err)
			}
			if !more {
				break
			}
			done.Batches++
			done.Longest = max(done.Longest, time.Since(start))
			if l.afterRetentionBatch != nil {
				l.afterRetentionBatch()
			}
			select {
			case <-ctx.Done():
			case <-time.After(min(time.Since(start), retentionPause)):
			}
		}
	}
	return done, nil
}

func (l *Ledger) retentionBatch() int {
	if l.retentionRows > 0 {
		return l.retentionRows
	}
	return RetentionBatch
}

// sliceEnd is where a batch that starts at from and may go as far as limit ends: after
// batch rows of the column's index, or at limit.
func (l *Ledger) sliceEnd(ctx context.Context, table, column string, from, limit int64) (int64, error) {
	var end sql.NullInt64
	err := l.r.QueryRowContext(ctx, `SELECT `+column+` FROM `+table+` WHERE `+column+` >= ? AND `+column+` < ?
		ORDER BY `+column+` LIMIT 1 OFFSET ?`, from, limit, l.retentionBatch()).Scan(&end)
	if errors.Is(err, sql.ErrNoRows) {
		return limit, nil
	}
	if err != nil {
		return 0, err
	}
	// Many rows of one millisecond go in one batch.
	return max(end.Int64, from+1), nil
}

// writeBatch runs one retention transaction, after checking that the state is still the
// one the batch was planned from.
func (l *Ledger) writeBatch(ctx context.Context, planned rollupState, do func(*sql.Tx) (int64, error)) (int64, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	st, err := readRollupState(ctx, tx)
	if err != nil {
		return 0, err
	}
	if st != planned {
		return 0, fmt.Errorf("the rollup state moved under a batch (%+v, planned from %+v)", st, planned)
	}
	n, err := do(tx)
	if err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// rollBatch rolls up the next slice of probes: adds them to their quarter-hours' rows and
// sums the hours the slice ends, adding them to their days.
func (l *Ledger) rollBatch(ctx context.Context, now time.Time, r Retention, done *RetentionDone) (bool, error) {
	st, err := readRollupState(ctx, l.r)
	if err != nil {
		return false, err
	}
	limit := ms(now.Add(-r.Lag))
	if st.rolledTo >= limit {
		return false, nil
	}
	from := st.rolledTo
	if from == 0 {
		// The first roll starts at the first probe.
		var first sql.NullInt64
		if err := l.r.QueryRowContext(ctx, `SELECT MIN(started_at) FROM probes`).Scan(&first); err != nil {
			return false, err
		}
		if !first.Valid {
			return false, nil
		}
		from = min(floorUnit(first.Int64, dayMS, shanghaiMS), limit)
	}
	end, err := l.sliceEnd(ctx, "probes", "started_at", from, limit)
	if err != nil {
		return false, err
	}
	_, err = l.writeBatch(ctx, st, func(tx *sql.Tx) (int64, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO probe_quarters (start, target, vantage, outcome, `+rollupColumns+`)
			SELECT started_at - started_at % 900000 AS q, target, vantage, outcome, COUNT(*), SUM(failed), SUM(`+nsOf+`),
				MAX(duration_seconds), SUM(CASE WHEN failed != 0 THEN 0 ELSE `+nsOf+` END), MAX(CASE WHEN failed != 0 THEN 0 ELSE duration_seconds END)
			FROM probes WHERE started_at >= ? AND started_at < ? GROUP BY q, target, vantage, outcome
			ON CONFLICT (start, target, vantage, outcome) DO UPDATE SET `+rollupAddTo("probe_quarters"), from, end); err != nil {
			return 0, err
		}
		// The hours the slice ends, and their days.
		if a, z := floorUnit(from, hourMS, 0), floorUnit(end, hourMS, 0); a < z {
			if _, err := tx.ExecContext(ctx, `INSERT INTO probe_hours (start, target, vantage, outcome, `+rollupColumns+`)
				SELECT start - start % 3600000 AS h, target, vantage, outcome, SUM(probes), SUM(failed), SUM(duration_ns),
					MAX(max_seconds), SUM(good_ns), MAX(good_max_seconds)
				FROM probe_quarters WHERE start >= ? AND start < ? GROUP BY h, target, vantage, outcome`, a, z); err != nil {
				return 0, err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO probe_days (start, target, vantage, outcome, `+rollupColumns+`)
				SELECT start - (start + 28800000) % 86400000 AS d, target, vantage, outcome, SUM(probes), SUM(failed),
					SUM(duration_ns), MAX(max_seconds), SUM(good_ns), MAX(good_max_seconds)
				FROM probe_hours WHERE start >= ? AND start < ? GROUP BY d, target, vantage, outcome
				ON CONFLICT (start, target, vantage, outcome) DO UPDATE SET `+rollupAddTo("probe_days"), a, z); err != nil {
				return 0, err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE rollup_state SET rolled_to = ?`, end)
		return 0, err
	})
	if err != nil {
		return false, err
	}
	// Counted after the batch, outside the writer: the rows rolled up do not change.
	var n int
	if err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM probes WHERE started_at >= ? AND started_at < ?`, from, end).Scan(&n); err != nil {
		return false, err
	}
	done.Rolled += n
	return true, nil
}

// keptHour is true for a raw row in the hour in which an incident of its target began:
// those rows are kept as the incident's evidence, and so that the failed probes of an
// incident open at a month's end can be counted from its very start.
const keptHour = `EXISTS (SELECT 1 FROM incidents i WHERE i.target = probes.target
	AND i.started_at >= probes.started_at - probes.started_at % 3600000
	AND i.started_at < probes.started_at - probes.started_at % 3600000 + 3600000)`

// deleteBatch deletes the next slice of raw rows past their retention (and rolled up), and
// the quarter-hour rows of the hours it finishes.
func (l *Ledger) deleteBatch(ctx context.Context, now time.Time, r Retention, done *RetentionDone) (bool, error) {
	if r.RawProbes <= 0 {
		return false, nil
	}
	st, err := readRollupState(ctx, l.r)
	if err != nil {
		return false, err
	}
	limit := floorUnit(min(ms(now.Add(-r.RawProbes)), st.rolledTo), hourMS, 0)
	if st.rawFrom >= limit {
		return false, nil
	}
	end, err := l.sliceEnd(ctx, "probes", "started_at", st.rawFrom, limit)
	if err != nil {
		return false, err
	}
	n, err := l.writeBatch(ctx, st, func(tx *sql.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM probes WHERE started_at >= ? AND started_at < ? AND NOT `+keptHour, st.rawFrom, end)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM probe_quarters WHERE start < ?`, floorUnit(end, hourMS, 0)); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rollup_state SET raw_from = ?`, end); err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
	if err != nil {
		return false, err
	}
	done.Deleted += int(n)
	return true, nil
}

// pruneBatch deletes the next slice of hour and day rollups, and watch spans, older than
// their retention.
func (l *Ledger) pruneBatch(ctx context.Context, _ time.Time, r Retention, done *RetentionDone) (bool, error) {
	if r.RollupsFrom.IsZero() {
		return false, nil
	}
	st, err := readRollupState(ctx, l.r)
	if err != nil {
		return false, err
	}
	// Rollups go only where raw rows have gone too.
	limit := min(floorUnit(ms(r.RollupsFrom), dayMS, shanghaiMS), floorUnit(st.rawFrom, dayMS, shanghaiMS))
	if st.rollupsFrom >= limit {
		return false, nil
	}
	end, err := l.sliceEnd(ctx, "probe_hours", "start", st.rollupsFrom, limit)
	if err != nil {
		return false, err
	}
	// Whole days at a time, so that a day is never left with half its hours.
	end = min(ceilUnit(end, dayMS, shanghaiMS), limit)
	n, err := l.writeBatch(ctx, st, func(tx *sql.Tx) (int64, error) {
		var n int64
		for _, q := range []string{
			`DELETE FROM probe_hours WHERE start < ?`,
			`DELETE FROM probe_days WHERE start < ?`,
			`DELETE FROM watch_spans WHERE ended_at < ?`,
		} {
			res, err := tx.ExecContext(ctx, q, end)
			if err != nil {
				return 0, err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		_, err := tx.ExecContext(ctx, `UPDATE rollup_state SET rollups_from = ?`, end)
		return n, err
	})
	if err != nil {
		return false, err
	}
	done.Pruned += int(n)
	return true, nil
}

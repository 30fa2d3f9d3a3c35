// Package ledger is creditwatch's durable record of what it saw: every probe result,
// every incident and risk event, and the state needed to resume after a crash. It is a
// SQLite file (modernc.org/sqlite, pure Go) in WAL mode with synchronous=FULL, so a
// result acknowledged by RecordProbe survives a SIGKILL or a power cut.
//
// Times are stored as UTC Unix milliseconds.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Ledger is an open ledger file.
type Ledger struct {
	path string // the file, or the redacted URL of a PostgreSQL ledger
	// postgres: the ledger is a PostgreSQL database (postgres.go), its SQL rewritten by
	// pgDialect.
	postgres bool
	piiKey   []byte // the key of ID-number hashes; nil: numbers are only masked
	// publishing is held by an import publishing its records, and read-held by figures
	// (HoldPublications).
	publishing sync.RWMutex
	// afterImportBatch, for tests, runs after each batch an import commits.
	afterImportBatch func()
	importBatch      int           // for tests; 0: ImportBatch
	publishTime      time.Duration // for tests; 0: publishTime
	w                *sql.DB       // the single writer connection
	r                *sql.DB       // readers
	// publicityWrites counts committed publicity writes, so readers can tell when figures
	// computed from the records are stale.
	publicityWrites atomic.Int64
	// pw writes probes by group commit (probewriter.go).
	pw *probeWriter
	// stmts are the readers' statements run at every probe or rescore, prepared once
	// (readStmt).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	// retention is held while rollups and retention run; afterRetentionBatch, for tests,
	// runs after each of their transactions, and retentionRows sizes them (0:
	// RetentionBatch).
	retention           sync.Mutex
	afterRetentionBatch func()
	retentionRows       int
}

// maxReadStmts bounds the statements readStmt keeps: queries are few, but some are built
// (a list of ids, a filter), and those past the bound are prepared at each run.
const maxReadStmts = 512

// errStmtCacheFull: readStmt keeps maxReadStmts statements already.
var errStmtCacheFull = errors.New("statement cache full")

// readStmt is q prepared on the readers, once: a query run at every probe or rescore is
// not parsed each time (at the first start of 5,000 targets, parsing the score's queries
// again at each rescore took a seventh of the process's CPU).
func (l *Ledger) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	l.stmtMu.Lock()
	defer l.stmtMu.Unlock()
	if st := l.stmts[q]; st != nil {
		return st, nil
	}
	if len(l.stmts) >= maxReadStmts {
		return nil, errStmtCacheFull
	}
	st, err := l.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if l.stmts == nil {
		l.stmts = map[string]*sql.Stmt{}
	}
	l.stmts[q] = st
	return st, nil
}

// query runs q on the readers, prepared once by readStmt; past maxReadStmts, unprepared.
func (l *Ledger) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := l.readStmt(ctx, q)
	switch {
	case err == nil:
		return st.QueryContext(ctx, args...)
	case errors.Is(err, errStmtCacheFull):
		return l.r.QueryContext(ctx, q, args...)
	}
	return nil, err
}

// queryRow is query for one row. A statement that cannot be prepared is run unprepared,
// which reports its error at Scan.
func (l *Ledger) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st, err := l.readStmt(ctx, q); err == nil {
		return st.QueryRowContext(ctx, args...)
	}
	return l.r.QueryRowContext(ctx, q, args...)
}

// PublicityVersion changes whenever publicity records are written.
func (l *Ledger) PublicityVersion() int64 { return l.publicityWrites.Load() }

// Open opens or creates the ledger at path and migrates its schema.
// A PostgreSQL URL (postgres://…) opens that database instead (OpenPostgres).
func Open(ctx context.Context, path string) (*Ledger, error) {
	if IsPostgresURL(path) {
		return OpenPostgres(ctx, path, PostgresOptions{})
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("creating ledger directory: %w", err)
		}
	}
	if err := prepareFile(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	// secure_delete: what a row held before an update (an ID number before it was masked)
	// is overwritten in the file, not left in a free page.
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(ON)", "secure_delete(ON)"} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening ledger %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	// As many kept as opened: a reader closed and opened again costs its setup and the
	// preparing of its statements again.
	r.SetMaxIdleConns(4)
	l := &Ledger{w: w, r: r, path: path}
	if err := l.migrate(ctx); err != nil {
		l.Close()
		return nil, corrupt(path, fmt.Errorf("migrating ledger %s: %w", path, err))
	}
	if err := l.startProbeWriter(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close writes the probes handed over, refuses others and closes the ledger.
func (l *Ledger) Close() error {
	l.stopProbeWriter()
	l.stmtMu.Lock()
	for q, st := range l.stmts {
		st.Close()
		delete(l.stmts, q)
	}
	l.stmtMu.Unlock()
	return errors.Join(l.r.Close(), l.w.Close())
}

// migrations are applied in order, each once; never edit one that has shipped.
var migrations = []string{
	// 1: probes, incidents, risk events, resumable state, runs of the monitor.
	`CREATE TABLE probes (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		duration_seconds REAL NOT NULL,
		outcome TEXT NOT NULL,
		failed INTEGER NOT NULL,
		status_code INTEGER NOT NULL,
		error TEXT NOT NULL,
		dns_seconds REAL NOT NULL,
		connect_seconds REAL NOT NULL,
		tls_seconds REAL NOT NULL,
		first_byte_seconds REAL NOT NULL,
		body_bytes INTEGER NOT NULL,
		cert_expiry INTEGER
	);
	CREATE INDEX probes_by_target_time ON probes (target, started_at);
	CREATE INDEX probes_by_time ON probes (started_at);
	CREATE TABLE incidents (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		confirmed_at INTEGER NOT NULL,
		ended_at INTEGER,
		outcome TEXT NOT NULL,
		first_error TEXT NOT NULL,
		failed_probes INTEGER NOT NULL
	);
	CREATE UNIQUE INDEX one_open_incident_per_target ON incidents (target) WHERE ended_at IS NULL;
	CREATE INDEX incidents_by_start ON incidents (started_at);
	CREATE TABLE risk_events (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		ended_at INTEGER NOT NULL,
		outcome TEXT NOT NULL,
		first_error TEXT NOT NULL,
		failed_probes INTEGER NOT NULL
	);
	CREATE INDEX risk_events_by_start ON risk_events (started_at);
	CREATE TABLE target_state (
		target TEXT PRIMARY KEY,
		fail_streak INTEGER NOT NULL,
		good_streak INTEGER NOT NULL,
		streak_started_at INTEGER NOT NULL,
		streak_outcome TEXT NOT NULL,
		streak_error TEXT NOT NULL,
		good_started_at INTEGER NOT NULL,
		open_incident_id INTEGER REFERENCES incidents (id)
	);
	CREATE TABLE runs (
		id INTEGER PRIMARY KEY,
		started_at INTEGER NOT NULL,
		last_seen_at INTEGER NOT NULL,
		version TEXT NOT NULL
	);`,
	// 2: double-publicity records with their assessment, source cursors and imported files.
	`CREATE TABLE publicity_records (
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		source TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		stored_at INTEGER NOT NULL,
		department TEXT NOT NULL,
		deadline TEXT NOT NULL,
		reported INTEGER NOT NULL,
		compliant INTEGER NOT NULL,
		timely INTEGER NOT NULL,
		subject_code TEXT NOT NULL,
		subject_name TEXT NOT NULL,
		code_valid INTEGER NOT NULL,
		fields TEXT NOT NULL,
		PRIMARY KEY (kind, id)
	);
	CREATE INDEX publicity_by_department ON publicity_records (kind, department);
	CREATE INDEX publicity_by_code ON publicity_records (subject_code) WHERE subject_code != '';
	CREATE TABLE publicity_violations (
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		field TEXT NOT NULL,
		rule TEXT NOT NULL,
		message TEXT NOT NULL,
		FOREIGN KEY (kind, id) REFERENCES publicity_records (kind, id) ON DELETE CASCADE
	);
	CREATE INDEX publicity_violations_by_record ON publicity_violations (kind, id);
	CREATE TABLE source_cursors (
		source TEXT NOT NULL,
		stream TEXT NOT NULL,
		cursor TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (source, stream)
	);
	CREATE TABLE source_files (
		source TEXT NOT NULL,
		sha256 TEXT NOT NULL,
		name TEXT NOT NULL,
		size INTEGER NOT NULL,
		records INTEGER NOT NULL,
		imported_at INTEGER NOT NULL,
		error TEXT NOT NULL,
		PRIMARY KEY (source, sha256)
	);`,
	// 3: covering indexes so that figures over a million records read narrow index pages
	// rather than the records' evidence; violations carry their department.
	`CREATE INDEX publicity_figures ON publicity_records (kind, department, reported, compliant, timely, deadline);
	DROP INDEX publicity_by_department;
	CREATE INDEX publicity_codes ON publicity_records (subject_code, code_valid, subject_name) WHERE subject_code != '';
	DROP INDEX publicity_by_code;
	ALTER TABLE publicity_violations ADD COLUMN department TEXT NOT NULL DEFAULT '';
	UPDATE publicity_violations SET department = (SELECT department FROM publicity_records r
		WHERE r.kind = publicity_violations.kind AND r.id = publicity_violations.id);
	CREATE INDEX publicity_violations_by_department ON publicity_violations (kind, department, rule);`,
	// 4: objection and repair cases as received; each publicity record's report date.
	`CREATE TABLE cases (
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		source TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		stored_at INTEGER NOT NULL,
		fields TEXT NOT NULL,
		PRIMARY KEY (kind, id)
	);
	ALTER TABLE publicity_records ADD COLUMN reported_on TEXT NOT NULL DEFAULT '';
	CREATE INDEX publicity_by_report_date ON publicity_records (reported_on) WHERE reported_on != '';`,
	// 5: frozen monthly reports: the exact data a finished month's report was made from.
	`CREATE TABLE reports (
		month TEXT PRIMARY KEY,
		data BLOB NOT NULL,
		digest TEXT NOT NULL,
		frozen_at INTEGER NOT NULL
	);`,
	// 6: a covering index for the report's daily figures, so a month of probes is read
	// from the index alone.
	`CREATE INDEX probes_daily ON probes (started_at, target, failed, duration_seconds);
	DROP INDEX probes_by_time;`,
	// 7: publicity records keep every version, so that a figure as of a past instant reads
	// the record as it stood then (a correction made later does not rewrite the past), and
	// carry their decision date, which decides the period they count in.
	`CREATE TABLE publicity_versions (
		rid INTEGER PRIMARY KEY,
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		source TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		effective_at INTEGER NOT NULL,
		superseded_at INTEGER,
		stored_at INTEGER NOT NULL,
		department TEXT NOT NULL,
		decided_on TEXT NOT NULL,
		deadline TEXT NOT NULL,
		deadline_unknown INTEGER NOT NULL,
		reported INTEGER NOT NULL,
		reported_on TEXT NOT NULL,
		compliant INTEGER NOT NULL,
		timely INTEGER NOT NULL,
		subject_code TEXT NOT NULL,
		subject_name TEXT NOT NULL,
		code_valid INTEGER NOT NULL,
		fields TEXT NOT NULL
	);
	INSERT INTO publicity_versions (kind, id, source, updated_at, effective_at, stored_at, department, decided_on,
		deadline, deadline_unknown, reported, reported_on, compliant, timely, subject_code, subject_name, code_valid, fields)
		SELECT kind, id, source, updated_at, MIN(updated_at, stored_at), stored_at, department, '', deadline, 0,
		reported, reported_on, compliant, timely, subject_code, subject_name, code_valid, fields FROM publicity_records;
	CREATE TABLE publicity_version_violations (
		rid INTEGER NOT NULL REFERENCES publicity_versions (rid) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		department TEXT NOT NULL,
		field TEXT NOT NULL,
		rule TEXT NOT NULL,
		message TEXT NOT NULL
	);
	INSERT INTO publicity_version_violations (rid, kind, department, field, rule, message)
		SELECT p.rid, v.kind, v.department, v.field, v.rule, v.message FROM publicity_violations v
		JOIN publicity_versions p ON p.kind = v.kind AND p.id = v.id;
	DROP TABLE publicity_violations;
	DROP TABLE publicity_records;
	ALTER TABLE publicity_versions RENAME TO publicity_records;
	ALTER TABLE publicity_version_violations RENAME TO publicity_violations;
	CREATE UNIQUE INDEX publicity_current ON publicity_records (kind, id) WHERE superseded_at IS NULL;
	CREATE INDEX publicity_figures ON publicity_records (decided_on, kind, department, reported, reported_on,
		compliant, timely, deadline, deadline_unknown, effective_at) WHERE superseded_at IS NULL;
	CREATE INDEX publicity_codes ON publicity_records (subject_code, code_valid, subject_name, decided_on, effective_at)
		WHERE superseded_at IS NULL AND subject_code != '';
	CREATE INDEX publicity_by_report_date ON publicity_records (reported_on, effective_at)
		WHERE superseded_at IS NULL AND reported_on != '';
	CREATE INDEX publicity_superseded ON publicity_records (superseded_at, effective_at) WHERE superseded_at IS NOT NULL;
	CREATE INDEX publicity_violations_by_record ON publicity_violations (rid);`,
	// 8: cases keep every version too: a case closed after an instant was open at it.
	`CREATE TABLE case_versions (
		rid INTEGER PRIMARY KEY,
		kind TEXT NOT NULL,
		id TEXT NOT NULL,
		source TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		effective_at INTEGER NOT NULL,
		superseded_at INTEGER,
		stored_at INTEGER NOT NULL,
		fields TEXT NOT NULL
	);
	INSERT INTO case_versions (kind, id, source, updated_at, effective_at, stored_at, fields)
		SELECT kind, id, source, updated_at, MIN(updated_at, stored_at), stored_at, fields FROM cases;
	DROP TABLE cases;
	ALTER TABLE case_versions RENAME TO cases;
	CREATE UNIQUE INDEX cases_current ON cases (kind, id) WHERE superseded_at IS NULL;
	CREATE INDEX cases_superseded ON cases (kind, superseded_at) WHERE superseded_at IS NOT NULL;`,
	// 9: an incident carries what scoring needs from the config of its time: the site it is
	// a page of, whether that site is the assessed portal, the window within which a
	// following incident of the site is the same outage, and why it ended.
	`ALTER TABLE incidents ADD COLUMN site TEXT NOT NULL DEFAULT 'portal';
	ALTER TABLE incidents ADD COLUMN scored INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE incidents ADD COLUMN merge_window_ms INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE incidents ADD COLUMN end_cause TEXT NOT NULL DEFAULT '';
	ALTER TABLE incidents ADD COLUMN end_confirmed_at INTEGER;
	UPDATE incidents SET end_cause = 'recovered', end_confirmed_at = ended_at WHERE ended_at IS NOT NULL;
	CREATE INDEX incidents_by_confirmation ON incidents (confirmed_at);`,
	// 10: the ledger as evidence. A clean stop is recorded; watch spans say when each target
	// was watched (unknown time is neither up nor down); incidents, risk events, frozen
	// reports and annotations are hash-chained; each incident keeps the evidence of the
	// probes that began and ended it; frozen reports keep every version; deliveries of the
	// monthly report are recorded so that a missed one happens at the next start.
	`ALTER TABLE runs ADD COLUMN stopped_at INTEGER;
	ALTER TABLE runs ADD COLUMN vantage TEXT NOT NULL DEFAULT '';
	CREATE TABLE watch_spans (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		ended_at INTEGER NOT NULL
	);
	CREATE INDEX watch_spans_by_end ON watch_spans (ended_at, started_at);
	ALTER TABLE target_state ADD COLUMN span_id INTEGER;
	ALTER TABLE target_state ADD COLUMN span_end INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE target_state ADD COLUMN streak_evidence TEXT NOT NULL DEFAULT '';
	ALTER TABLE target_state ADD COLUMN good_evidence TEXT NOT NULL DEFAULT '';
	CREATE TABLE chain (
		seq INTEGER PRIMARY KEY,
		kind TEXT NOT NULL,
		ref TEXT NOT NULL,
		at INTEGER NOT NULL,
		content TEXT NOT NULL,
		prev_hash TEXT NOT NULL,
		hash TEXT NOT NULL
	);
	CREATE INDEX chain_by_ref ON chain (kind, ref);
	CREATE TABLE annotations (
		id INTEGER PRIMARY KEY,
		incident_id INTEGER NOT NULL REFERENCES incidents (id),
		cause TEXT NOT NULL,
		note TEXT NOT NULL,
		by TEXT NOT NULL,
		at INTEGER NOT NULL
	);
	CREATE INDEX annotations_by_incident ON annotations (incident_id, id);
	CREATE TABLE incident_evidence (
		incident_id INTEGER NOT NULL REFERENCES incidents (id),
		role TEXT NOT NULL,
		evidence TEXT NOT NULL,
		PRIMARY KEY (incident_id, role)
	);
	CREATE TABLE report_versions (
		month TEXT NOT NULL,
		version INTEGER NOT NULL,
		data BLOB NOT NULL,
		digest TEXT NOT NULL,
		meta TEXT NOT NULL,
		frozen_at INTEGER NOT NULL,
		reason TEXT NOT NULL,
		PRIMARY KEY (month, version)
	);
	INSERT INTO report_versions SELECT month, 1, data, digest, '{}', frozen_at, 'frozen' FROM reports;
	DROP TABLE reports;
	CREATE TABLE deliveries (
		month TEXT PRIMARY KEY,
		delivered_at INTEGER NOT NULL,
		files TEXT NOT NULL,
		notices TEXT NOT NULL
	);`,
	// 11: what the portal shows. Every check of an enterprise credit report (a
	// non-conforming one is chained: it is the evidence of a deduction); security incidents,
	// the defacements the probes confirmed and the incidents the office records, chained
	// with their evidence; the page baselines accepted (chained, with who and when); each
	// target's content state (confirmation streaks and the latest page seen, the candidate
	// for the next acceptance); each list page's newest item date, from when it was seen.
	`CREATE TABLE report_checks (
		id INTEGER PRIMARY KEY,
		code TEXT NOT NULL,
		name TEXT NOT NULL,
		url TEXT NOT NULL,
		sampled INTEGER NOT NULL,
		checked_at INTEGER NOT NULL,
		result TEXT NOT NULL,
		edition TEXT NOT NULL,
		format TEXT NOT NULL,
		reasons TEXT NOT NULL,
		error_class TEXT NOT NULL,
		error TEXT NOT NULL,
		body_sha256 TEXT NOT NULL,
		found TEXT NOT NULL
	);
	CREATE INDEX report_checks_by_time ON report_checks (checked_at, result, code, sampled);
	CREATE INDEX report_checks_by_code ON report_checks (code, result, checked_at);
	CREATE TABLE security_incidents (
		id INTEGER PRIMARY KEY,
		source TEXT NOT NULL,
		kind TEXT NOT NULL,
		target TEXT NOT NULL,
		site TEXT NOT NULL,
		scored INTEGER NOT NULL,
		rules TEXT NOT NULL,
		occurred_on TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		confirmed_at INTEGER NOT NULL,
		ended_at INTEGER,
		ref TEXT NOT NULL,
		note TEXT NOT NULL,
		by TEXT NOT NULL,
		evidence TEXT NOT NULL
	);
	CREATE INDEX security_incidents_by_confirmation ON security_incidents (confirmed_at);
	CREATE INDEX security_incidents_open ON security_incidents (target) WHERE ended_at IS NULL;
	CREATE TABLE baselines (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		accepted_at INTEGER NOT NULL,
		by TEXT NOT NULL,
		reason TEXT NOT NULL,
		page_sha256 TEXT NOT NULL,
		page_seen_at INTEGER NOT NULL,
		title TEXT NOT NULL,
		baseline TEXT NOT NULL
	);
	CREATE INDEX baselines_by_target ON baselines (target, id);
	CREATE TABLE content_state (
		target TEXT PRIMARY KEY,
		state TEXT NOT NULL,
		page_sha256 TEXT NOT NULL DEFAULT '',
		page_seen_at INTEGER NOT NULL DEFAULT 0,
		page_title TEXT NOT NULL DEFAULT '',
		page_baseline TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE freshness (
		id INTEGER PRIMARY KEY,
		target TEXT NOT NULL,
		checked_at INTEGER NOT NULL,
		newest_on TEXT NOT NULL,
		max_age_workdays INTEGER NOT NULL
	);
	CREATE INDEX freshness_by_time ON freshness (checked_at, target);`,
	// 12: imports stage their records a batch at a time, then publish them.
	`ALTER TABLE source_files ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
	UPDATE source_files SET state = 'failed' WHERE error != '';
	CREATE TABLE staged_records (
		source TEXT NOT NULL,
		sha256 TEXT NOT NULL,
		seq INTEGER NOT NULL,
		record TEXT NOT NULL,
		PRIMARY KEY (source, sha256, seq)
	);`,
	// 13: rollups of the probes by quarter-hour, hour and day, where retention stands, and
	// the trigger that adds a probe recorded late to the rollups (rollup.go).
	rollupMigration,
	// 14: several vantages in one ledger. Each vantage keeps its own resumable state of a
	// target and may have its own open incident of it (rows written before are the vantage of their watch span, open incident or
	// last run); leases say which instance runs the jobs that must run once (lease.go); the
	// ledger's settings record what every instance must agree on (the personal data key).
	`CREATE TABLE target_state_v (
		target TEXT NOT NULL,
		vantage TEXT NOT NULL,
		fail_streak INTEGER NOT NULL,
		good_streak INTEGER NOT NULL,
		streak_started_at INTEGER NOT NULL,
		streak_outcome TEXT NOT NULL,
		streak_error TEXT NOT NULL,
		good_started_at INTEGER NOT NULL,
		open_incident_id INTEGER REFERENCES incidents (id),
		span_id INTEGER,
		span_end INTEGER NOT NULL DEFAULT 0,
		streak_evidence TEXT NOT NULL DEFAULT '',
		good_evidence TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (target, vantage)
	);
	INSERT INTO target_state_v SELECT target,
		COALESCE((SELECT vantage FROM watch_spans WHERE id = span_id), (SELECT vantage FROM incidents WHERE id = open_incident_id),
			(SELECT vantage FROM runs ORDER BY id DESC LIMIT 1), 'local'),
		fail_streak, good_streak, streak_started_at, streak_outcome, streak_error, good_started_at, open_incident_id,
		span_id, span_end, streak_evidence, good_evidence FROM target_state;
	DROP TABLE target_state;
	ALTER TABLE target_state_v RENAME TO target_state;
	DROP INDEX one_open_incident_per_target;
	CREATE UNIQUE INDEX one_open_incident_per_target_vantage ON incidents (target, vantage) WHERE ended_at IS NULL;
	CREATE TABLE ledger_settings (
		name TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE leases (
		name TEXT PRIMARY KEY,
		holder TEXT NOT NULL,
		acquired_at INTEGER NOT NULL,
		renewed_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);`,
}

// backfills run in the transaction of the migration of the same number, for data that
// SQL alone cannot convert.
var backfills = map[int]func(context.Context, *sql.Tx) error{
	4:  backfillReportedOn,
	7:  backfillDecidedOn,
	10: backfillEvidence,
}

func (l *Ledger) migrate(ctx context.Context) error { return l.migrateTo(ctx, len(migrations)) }

func (l *Ledger) migrateTo(ctx context.Context, target int) error {
	// On PostgreSQL, instances starting together migrate one after the other: the second
	// finds the schema done.
	release, _, err := l.instanceLock(ctx, "migrate", false)
	if err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer release()
	if _, err := l.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	var have int
	if err := l.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("ledger schema version %d is newer than this creditwatch (%d)", have, len(migrations))
	}
	for v := have + 1; v <= target; v++ {
		tx, err := l.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, l.migrationSQL(v)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if fill := backfills[v]; fill != nil {
			if err := fill(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?)`, v, ms(time.Now())); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// SchemaVersion is the version of the ledger's schema.
func (l *Ledger) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := l.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	return v, err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

package ledger

// A ledger on PostgreSQL: the same schema, migrations and SQL as on SQLite, rewritten by
// pgDialect (dialect.go), for several creditwatch instances sharing one ledger.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL says whether a ledger's location is a PostgreSQL URL rather than a file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// RedactURL is a PostgreSQL URL fit for a log: its password, if any, is replaced by "xxxxx".
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(a PostgreSQL URL that does not parse)"
	}
	return u.Redacted()
}

// PostgresOptions are how a PostgreSQL ledger is reached beyond its URL.
type PostgresOptions struct {
	// PasswordFile holds the password (its first line). Unset: the URL's password, or
	// PostgreSQL's own sources (PGPASSWORD, PGPASSFILE or ~/.pgpass).
	PasswordFile string
}

// OpenPostgres opens the ledger in the PostgreSQL database at rawURL (postgres://…) and
// migrates its schema. The database must exist; the ledger's tables are created in its
// search path.
func OpenPostgres(ctx context.Context, rawURL string, o PostgresOptions) (*Ledger, error) {
	where := RedactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's message may quote the URL, password and all: it is not passed on.
		return nil, fmt.Errorf("ledger URL %s does not parse as a PostgreSQL connection string", where)
	}
	if o.PasswordFile != "" {
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading the ledger's password file: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		cfg.Password = strings.TrimRight(pw, "\r")
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "creditwatch"
	}
	d := &pgDialect{}
	wcfg := cfg.Copy()
	// A probe is acknowledged once its transaction is durable, whatever the server's
	// default: the commit waits for the server's WAL flush (as SQLite's synchronous=FULL).
	wcfg.RuntimeParams["synchronous_commit"] = "on"
	w := sql.OpenDB(&pgConnector{base: stdlib.GetConnector(*wcfg), dialect: d, writer: true})
	// One writer connection, as on SQLite: the probe writer's group commit and every
	// write transaction of this process take turns; pgWriteLockKey orders them with other
	// processes'.
	w.SetMaxOpenConns(1)
	rcfg := cfg.Copy()
	// Readers read a snapshot, as SQLite's do in WAL mode, and cannot write.
	rcfg.RuntimeParams["default_transaction_isolation"] = "repeatable read"
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	r := sql.OpenDB(&pgConnector{base: stdlib.GetConnector(*rcfg), dialect: d})
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	l := &Ledger{w: w, r: r, path: where, postgres: true}
	if err := w.PingContext(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("connecting to the ledger at %s: %w", where, err)
	}
	if err := l.migrate(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("migrating ledger %s: %w", where, err)
	}
	if err := l.startProbeWriter(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// OpenStorage opens the ledger at location: a SQLite file (Open), or a PostgreSQL URL,
// reached with o (OpenPostgres).
func OpenStorage(ctx context.Context, location string, o PostgresOptions) (*Ledger, error) {
	if IsPostgresURL(location) {
		return OpenPostgres(ctx, location, o)
	}
	return Open(ctx, location)
}

// Describe is a ledger's location fit for a log: a URL (PostgreSQL's, or any other
// given by mistake) without its password.
func Describe(location string) string {
	if strings.Contains(location, "://") {
		return RedactURL(location)
	}
	return location
}

// Postgres says whether the ledger is on PostgreSQL.
func (l *Ledger) Postgres() bool { return l.postgres }

// errPostgresBackup: a PostgreSQL ledger is backed up by PostgreSQL's own tools.
var errPostgresBackup = errors.New("the ledger is on PostgreSQL: back it up with pg_dump (or the server's own backups) and restore it with pg_restore")

// migrationSQL is migration v (1-based) for the ledger's engine.
func (l *Ledger) migrationSQL(v int) string {
	if l.postgres {
		if s, ok := pgMigrations[v]; ok {
			return s
		}
	}
	return migrations[v-1]
}

// pgMigrations are the PostgreSQL forms of the migrations that cannot be rewritten
// mechanically (pgDialect), keyed by their number.
var pgMigrations = map[int]string{
	13: pgRollupMigration,
}

// checkPostgres is Check's integrity part on PostgreSQL: every table of the ledger is read
// whole (a damaged page fails the read), and, where the server has the amcheck extension
// installed, every B-tree index of the ledger is checked against its structure
// (bt_index_check). The server's own data checksums, if enabled, are checked as pages are
// read. The findings are returned; an error is returned only when the checks cannot run.
func (l *Ledger) checkPostgres(ctx context.Context) ([]string, error) {
	var tables []string
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
		return nil
	}, pgVerbatim+`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, t := range tables {
		var n int64
		if err := l.r.QueryRowContext(ctx, pgVerbatim+`SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			found = append(found, fmt.Sprintf("table %s cannot be read: %v", t, err))
		}
	}
	var amcheck bool
	if err := l.r.QueryRowContext(ctx, pgVerbatim+`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'amcheck')`).Scan(&amcheck); err != nil {
		return nil, err
	}
	if !amcheck {
		return found, nil
	}
	var indexes []string
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var i string
		if err := rows.Scan(&i); err != nil {
			return err
		}
		indexes = append(indexes, i)
		return nil
	}, pgVerbatim+`SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace
		ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	for _, i := range indexes {
		if _, err := l.r.ExecContext(ctx, pgVerbatim+`SELECT bt_index_check($1::regclass)`, pgx.Identifier{i}.Sanitize()); err != nil {
			found = append(found, fmt.Sprintf("index %s: %v", i, err))
		}
	}
	return found, nil
}

// instanceLock takes, on PostgreSQL, the session-level advisory lock named key for work that
// spans several transactions and that two instances must not do at once (retention, an
// import). It is held on a connection of its own until release; with try, it gives up at
// once (held false) when another instance holds it, else it waits. On SQLite it does
// nothing: one instance holds a SQLite ledger (Acquire).
func (l *Ledger) instanceLock(ctx context.Context, key string, try bool) (release func(), held bool, err error) {
	if !l.postgres {
		return func() {}, true, nil
	}
	conn, err := l.r.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	q := pgVerbatim + `SELECT pg_advisory_lock(hashtextextended($1, 0)), true`
	if try {
		q = pgVerbatim + `SELECT true, pg_try_advisory_lock(hashtextextended($1, 0))`
	}
	var ignored any // pg_advisory_lock returns void
	if err := conn.QueryRowContext(ctx, q, "creditwatch "+key).Scan(&ignored, &held); err != nil || !held {
		conn.Close()
		return nil, false, err
	}
	return func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := conn.ExecContext(ctx, pgVerbatim+`SELECT pg_advisory_unlock(hashtextextended($1, 0))`, "creditwatch "+key); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // the session ends, and its lock with it
		}
		conn.Close()
	}, true, nil
}

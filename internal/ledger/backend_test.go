package ledger

// The ledger's tests are its conformance suite: TestMain runs them on SQLite, then again
// on PostgreSQL when CREDITWATCH_TEST_POSTGRES names a server (a postgres:// URL of a user
// who may create databases), each ledger a database of its own, dropped after its test.
// Under CI=true a missing server fails the run; elsewhere its half is skipped, saying so.
// Tests of what only SQLite has (its file, WAL, VACUUM INTO) skip the PostgreSQL run
// (sqliteOnly), saying why.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/creditwatch/creditwatch/internal/ledger/pgtest"
)

// testPostgres is the server of the PostgreSQL run, "" in the SQLite run.
var testPostgres string

// CREDITWATCH_TEST_BACKENDS=sqlite or =postgres runs the tests on that backend only, asked
// for by name: the test script runs the SQLite half under the race detector with the rest
// of the tests and the PostgreSQL half on its own, and its runs under other time zones on
// SQLite only (what they check is computed in Go, the same on either backend).
func TestMain(m *testing.M) {
	only := os.Getenv("CREDITWATCH_TEST_BACKENDS")
	code := 0
	if only != "postgres" {
		code = m.Run()
	}
	u := os.Getenv("CREDITWATCH_TEST_POSTGRES")
	switch {
	case only == "sqlite":
		fmt.Println("ledger: SQLite only (CREDITWATCH_TEST_BACKENDS=sqlite)")
		os.Exit(code)
	case u == "" && os.Getenv("CI") == "true":
		fmt.Fprintln(os.Stderr, "FAIL: the ledger tests on PostgreSQL cannot run: CREDITWATCH_TEST_POSTGRES is unset (scripts/test.sh starts a PostgreSQL and sets it)")
		os.Exit(1)
	case u == "":
		fmt.Println("ledger: the PostgreSQL run is skipped: CREDITWATCH_TEST_POSTGRES is unset (source scripts/postgres.sh to start one)")
		os.Exit(code)
	}
	testPostgres = u
	fmt.Println("ledger: the same tests on PostgreSQL")
	if pg := m.Run(); pg != 0 {
		code = pg
	}
	if err := pgtest.Drop(templateName); err != nil {
		fmt.Fprintf(os.Stderr, "dropping the template database %s: %v\n", templateName, err)
	}
	os.Exit(code)
}

// sqliteOnly skips the PostgreSQL run of a test of what only SQLite has.
func sqliteOnly(tb testing.TB, why string) {
	tb.Helper()
	if testPostgres != "" {
		tb.Skip("SQLite only: " + why)
	}
}

var testDatabases sync.Map // path → database URL

// ledgerAt is where the test ledger named path is: path itself on SQLite; on PostgreSQL
// a database made for it on first use (the same for the same path) and dropped when tb
// ends.
func ledgerAt(tb testing.TB, path string) string {
	tb.Helper()
	if testPostgres == "" {
		return path
	}
	if u, ok := testDatabases.Load(path); ok {
		return u.(string)
	}
	return testDatabase(tb, path, migratedTemplate(tb))
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// migratedTemplate is a database holding a new ledger, which the tests' databases are
// copies of: the migrations run once, not for every test (TestMigrationKeepsData and
// TestNewerSchemaRefused still run them).
func migratedTemplate(tb testing.TB) string {
	tb.Helper()
	templateOnce.Do(func() {
		templateName = fmt.Sprintf("cw_test_template_%d", os.Getpid())
		_, templateErr = pgtest.Shared(testPostgres, templateName, func(u string) error {
			l, err := Open(context.Background(), u)
			if err != nil {
				return err
			}
			return l.Close()
		})
	})
	if templateErr != nil {
		tb.Fatalf("making the template ledger: %v", templateErr)
	}
	return templateName
}

// testDatabase makes the database of the test ledger named path, a copy of template.
func testDatabase(tb testing.TB, path, template string) string {
	tb.Helper()
	u := pgtest.Database(tb, testPostgres, path, template)
	testDatabases.Store(path, u)
	tb.Cleanup(func() { testDatabases.Delete(path) })
	return u
}

// copyLedger copies the closed test ledger at from to a new one, and returns its name.
func copyLedger(t *testing.T, from string) string {
	t.Helper()
	if testPostgres == "" {
		return copyFile(t, from)
	}
	to := filepath.Join(t.TempDir(), "copy.db")
	testDatabase(t, to, pgtest.Name(ledgerAt(t, from)))
	return to
}

// editLedger changes the closed test ledger at path behind creditwatch's back, as someone
// with access to the file (the sqlite3 shell) or to the database (psql) could.
func editLedger(t *testing.T, path, stmt string) {
	t.Helper()
	if testPostgres == "" {
		sqlite3(t, path, stmt)
		return
	}
	db, err := sql.Open("pgx", ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("psql %q: %v", stmt, err)
	}
}

// testTrigger is a test's trigger in the dialect of the run: triggers are the one thing
// the ledger's SQL is not rewritten for (pgDialect).
func testTrigger(sqlite, postgres string) string {
	if testPostgres == "" {
		return sqlite
	}
	return pgVerbatim + postgres
}

// rawLedgerDB opens the test ledger named path as a bare database, its SQL rewritten as
// the ledger's is, for a test that writes a ledger of an older schema.
func rawLedgerDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	if testPostgres == "" {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	cfg, err := pgx.ParseConfig(testDatabase(t, path, "template0"))
	if err != nil {
		t.Fatal(err)
	}
	return sql.OpenDB(&pgConnector{base: stdlib.GetConnector(*cfg), dialect: &pgDialect{}, writer: true})
}

// Two instances writing one PostgreSQL ledger at once (several vantages): their write
// transactions take turns (pgWriteLockKey), so the hash chain stays one line and every
// incident is recorded once. On SQLite one instance holds a ledger (Acquire).
func TestInstancesShareOnePostgresLedger(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: a SQLite ledger is held by one instance (lock.go)")
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTemp(t, path), openTemp(t, path)
	var wg sync.WaitGroup
	for i, l := range []*Ledger{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feed(t, l, fmt.Sprintf("target-%d", i), "xxx..xxx..xxx..", 0)
		}()
	}
	wg.Wait()
	c, err := a.VerifyChain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Each target: three incidents, each opened and ended (the last ends at its second good
	// probe), all chained.
	if !c.OK() || c.Events != 4*3*2 || c.Rows["incident"] != 12 {
		t.Errorf("chain after two instances wrote at once: %d events, rows %v, problems %v", c.Events, c.Rows, c.Problems)
	}
}

// Work that spans transactions runs on one instance at a time: retention, and the import
// of a file, which an instance that comes second does not repeat.
func TestInstancesTakeTurnsAtLongWork(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: a SQLite ledger is held by one instance (lock.go)")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	a, b := openTemp(t, path), openTemp(t, path)
	release, held, err := a.instanceLock(ctx, "retention", true)
	if err != nil || !held {
		t.Fatalf("taking the retention lock: %t, %v", held, err)
	}
	if _, err := b.RunRetention(ctx, t0, Retention{RawProbes: time.Hour, Lag: time.Minute}); !errors.Is(err, ErrRetentionBusy) {
		t.Errorf("retention while another instance runs it: %v, want ErrRetentionBusy", err)
	}
	release()
	if _, err := b.RunRetention(ctx, t0, Retention{RawProbes: time.Hour, Lag: time.Minute}); err != nil {
		t.Errorf("retention after the other instance's: %v", err)
	}

	// b waits for a's import of the file, then finds it done.
	started, proceed, first := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := a.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, func(w *FileWriter) error {
			close(started)
			<-proceed
			return putRecords(w)
		})
		first <- err
	}()
	<-started
	second := make(chan error, 1)
	go func() {
		n, err := b.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, func(*FileWriter) error {
			return errors.New("imported a second time")
		})
		if err == nil && n != importRecords {
			err = fmt.Errorf("%d records, want the first import's %d", n, importRecords)
		}
		second <- err
	}()
	select {
	case err := <-second:
		t.Fatalf("the second import did not wait for the first: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(proceed)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Error(err)
	}
}

// Instances starting together on a new database migrate it once, one after the other.
func TestInstancesMigrateTogether(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: a SQLite ledger is held by one instance (lock.go)")
	}
	u := testDatabase(t, filepath.Join(t.TempDir(), "new.db"), "template0")
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			l, err := Open(context.Background(), u)
			if err == nil {
				var v int
				if v, err = l.SchemaVersion(context.Background()); err == nil && v != len(migrations) {
					err = fmt.Errorf("schema version %d, want %d", v, len(migrations))
				}
				l.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// The sessions of a PostgreSQL ledger: the writer's commits are durable whatever the
// server's default, readers read a snapshot and cannot write.
func TestPostgresSessions(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: SQLite's are set by the pragmas of Open")
	}
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	for _, tc := range []struct {
		db         *sql.DB
		name, want string
	}{
		{l.w, "synchronous_commit", "on"},
		{l.r, "default_transaction_isolation", "repeatable read"},
		{l.r, "default_transaction_read_only", "on"},
		{l.r, "application_name", "creditwatch"},
	} {
		var got string
		if err := tc.db.QueryRowContext(ctx, pgVerbatim+`SELECT current_setting($1)`, tc.name).Scan(&got); err != nil || got != tc.want {
			t.Errorf("%s = %q (%v), want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := l.r.ExecContext(ctx, `DELETE FROM probes`); err == nil {
		t.Error("a reader deleted probes")
	}
}

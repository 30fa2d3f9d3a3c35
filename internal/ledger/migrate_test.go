package ledger

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// ledgerAtVersion is a ledger at path as schema version v left it, open without the
// ledger's own machinery (on PostgreSQL, the test's database for path).
func ledgerAtVersion(t *testing.T, path string, v int) *sql.DB {
	t.Helper()
	db := rawLedgerDB(t, path)
	old := &Ledger{w: db, r: db, postgres: testPostgres != ""}
	if err := old.migrateTo(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMigrationKeepsData opens a ledger written by schema 2 (records with violations) and
// checks that schema 3 keeps every row and gives the violations their department.
func TestMigrationKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v2.db")
	db := ledgerAtVersion(t, path, 2)
	for _, q := range []string{
		`INSERT INTO publicity_records VALUES ('penalty','濮罚1','platform',1,1,'濮阳市商务局','2026-01-12',1,0,1,'','',0,'{"上报日期":"2026/9/3"}')`,
		`INSERT INTO publicity_violations VALUES ('penalty','濮罚1','违法事实','missing_field','必填字段为空')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l, err := Open(ctx, ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if v, _ := l.SchemaVersion(ctx); v != len(migrations) {
		t.Fatalf("schema version %d", v)
	}
	var dept string
	if err := l.r.QueryRow(`SELECT department FROM publicity_violations`).Scan(&dept); err != nil || dept != "濮阳市商务局" {
		t.Errorf("violation department = %q, %v", dept, err)
	}
	if n, _ := l.CountPublicity(ctx); n != 1 {
		t.Errorf("%d records after migration", n)
	}
	// Schema 4 backfills the report date from the record's evidence, normalised.
	sept3 := View{At: time.Date(2026, 9, 4, 0, 0, 0, 0, clock.Shanghai), From: time.Date(2026, 9, 3, 0, 0, 0, 0, clock.Shanghai)}
	if n, err := l.CountPublished(ctx, View{At: time.Date(2027, 1, 1, 0, 0, 0, 0, clock.Shanghai), From: sept3.From}); n != 1 {
		t.Errorf("records reported from 2026-09-03 after migration = %d (%v), want 1", n, err)
	}
	// Schema 7 gives the record its decision date from its evidence (none here: the
	// day it was received, 1970-01-01) and keeps its violation with the version.
	var decided string
	if err := l.r.QueryRow(`SELECT decided_on FROM publicity_records`).Scan(&decided); err != nil || decided != "1970-01-01" {
		t.Errorf("decided_on = %q, %v", decided, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "future.db")
	l, err := Open(ctx, ledgerAt(t, path))
	if err != nil {
		t.Fatal(err)
	}
	l.w.Exec(`INSERT INTO schema_migrations VALUES (99, 0)`)
	l.Close()
	if _, err := Open(ctx, ledgerAt(t, path)); err == nil {
		t.Error("a ledger from a newer creditwatch was opened")
	}
}

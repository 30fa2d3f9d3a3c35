package ledger

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupCheckAndRestore(t *testing.T) {
	sqliteOnly(t, "a backup by VACUUM INTO and the restore of a damaged file (TestPostgresBackupAndCheck)")
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "l.db")
	l := openTemp(t, path)
	feed(t, l, "portal", "..xxx...", 0)
	backup := filepath.Join(dir, "backup.db")
	if err := l.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := l.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a backup over an existing file: %v", err)
	}
	h, err := l.Check(ctx)
	if err != nil || !h.OK() {
		t.Fatalf("check = %+v, %v", h, err)
	}
	l.Close()
	for _, p := range []string{path, backup} {
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	// The ledger is damaged: the next start says so and how to restore, and makes no new one.
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	data, _ := os.ReadFile(path)
	copy(data, "this is no database")
	os.WriteFile(path, data, 0o600)
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), path+" is not a SQLite database") ||
		!strings.Contains(err.Error(), "creditwatch ledger restore --from BACKUP --storage.path "+path) {
		t.Fatalf("opening a damaged ledger: %v", err)
	}
	if err := Restore(ctx, backup, path); err != nil {
		t.Fatal(err)
	}
	r := openTemp(t, path)
	if n, _ := r.CountProbes(ctx, "portal"); n != 8 {
		t.Errorf("restored ledger has %d probes, want 8", n)
	}
	if incs, _ := r.Incidents(ctx, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0), false); len(incs) != 1 {
		t.Errorf("restored ledger has %d incidents", len(incs))
	}
	// Restoring under a running creditwatch is refused.
	lock, _ := Acquire(path, "serve", t0)
	defer lock.Release()
	if err := Restore(ctx, backup, path); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("restore under a running creditwatch: %v", err)
	}
}

// A ledger made by an older creditwatch with a looser mode is made private when opened.
func TestLedgerIsPrivate(t *testing.T) {
	sqliteOnly(t, "the mode of the ledger file")
	path := filepath.Join(t.TempDir(), "l.db")
	openTemp(t, path).Close()
	os.Chmod(path, 0o644)
	openTemp(t, path)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// On PostgreSQL the server's tools back the ledger up, and Check runs PostgreSQL's checks.
func TestPostgresBackupAndCheck(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: SQLite's backup and check are TestBackupCheckAndRestore's")
	}
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	feed(t, l, "portal", "..xxx...", 0)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := l.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backing up a PostgreSQL ledger: %v, want the advice to use pg_dump", err)
	}
	if _, err := os.Stat(backup); err == nil {
		t.Errorf("a backup of a PostgreSQL ledger wrote %s", backup)
	}
	h, err := l.Check(ctx)
	if err != nil || !h.OK() || h.Chain.Events == 0 {
		t.Fatalf("check = %+v, %v", h, err)
	}
}

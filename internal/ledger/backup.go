package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// sqliteMagic begins every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// prepareFile creates a new ledger file readable by its owner only, and refuses an existing
// file that is not a SQLite database: a corrupt ledger must never silently become a new one.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening ledger %s: %w", path, err)
	}
	defer f.Close()
	// The ledger holds records about people: its owner alone reads it.
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("making ledger %s private: %w", path, err)
		}
	}
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (errors.Is(err, io.EOF) || err == nil):
		return nil // a new ledger
	case !bytes.Equal(head[:n], sqliteMagic):
		return corrupt(path, fmt.Errorf("ledger %s is not a SQLite database", path))
	}
	return nil
}

// corrupt adds, to an error that says a ledger cannot be read, how to restore it.
func corrupt(path string, err error) error {
	msg := err.Error()
	for _, sign := range []string{"not a SQLite database", "malformed", "file is not a database", "corrupt"} {
		if strings.Contains(msg, sign) {
			return fmt.Errorf("%w; the ledger file %s is damaged: stop creditwatch and restore the last backup with "+
				"creditwatch ledger restore --from BACKUP --storage.path %s (backups are made with creditwatch ledger backup)", err, path, path)
		}
	}
	return err
}

// Backup writes a consistent copy of the ledger to dest (which must not exist), while
// creditwatch keeps running: SQLite's VACUUM INTO reads one snapshot of the database.
// A PostgreSQL ledger is backed up with PostgreSQL's tools (errPostgresBackup).
func (l *Ledger) Backup(ctx context.Context, dest string) error {
	if l.postgres {
		return errPostgresBackup
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backing up the ledger: %s exists; give a new file", dest)
	}
	if _, err := l.r.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("backing up the ledger to %s: %w", dest, err)
	}
	return os.Chmod(dest, 0o600)
}

// Health is what checking a ledger found.
type Health struct {
	// Integrity are SQLite's integrity_check findings, or what PostgreSQL's checks found
	// (checkPostgres); empty when sound.
	Integrity []string
	Chain     *ChainCheck
}

// OK reports whether the ledger is sound and agrees with its chain.
func (h *Health) OK() bool { return len(h.Integrity) == 0 && h.Chain.OK() }

// Check runs SQLite's integrity check over the whole file and walks the hash chain.
// On PostgreSQL, checkPostgres runs in its place.
func (l *Ledger) Check(ctx context.Context) (*Health, error) {
	h := &Health{}
	if l.postgres {
		var err error
		if h.Integrity, err = l.checkPostgres(ctx); err != nil {
			return nil, fmt.Errorf("checking ledger %s: %w", l.path, err)
		}
		if h.Chain, err = l.VerifyChain(ctx); err != nil {
			return nil, err
		}
		return h, nil
	}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			h.Integrity = append(h.Integrity, s)
		}
		return nil
	}, `PRAGMA integrity_check`)
	if err != nil {
		return nil, corrupt(l.path, fmt.Errorf("checking ledger %s: %w", l.path, err))
	}
	if h.Chain, err = l.VerifyChain(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// Restore puts a backup in place of the ledger at path, after checking it. It takes the
// ledger's lock for the time, so it refuses while a creditwatch runs on the ledger.
func Restore(ctx context.Context, backup, path string) error {
	lock, err := Acquire(path, "restore", nowUTC())
	if err != nil {
		return err
	}
	defer lock.Release()
	b, err := Open(ctx, backup)
	if err != nil {
		return fmt.Errorf("reading the backup %s: %w", backup, err)
	}
	h, err := b.Check(ctx)
	b.Close()
	if err != nil {
		return err
	}
	if !h.OK() {
		return fmt.Errorf("the backup %s is not sound: %s", backup, strings.Join(append(h.Integrity, h.Chain.Problems...), "; "))
	}
	data, err := os.ReadFile(backup)
	if err != nil {
		return err
	}
	tmp := path + ".restoring"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("restoring %s: %w", path, err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		os.Remove(path + side) // the damaged file's journal belongs to it, not to the backup
	}
	return os.Rename(tmp, path)
}

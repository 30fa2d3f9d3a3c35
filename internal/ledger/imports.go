package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// An exported file is imported in two phases, so that probes never wait for it: its records
// are staged a batch at a time (each batch its own short transaction, invisible to every
// figure), then published a batch at a time. Publishing is all or nothing as far as anyone
// reading the ledger can tell: in this process readers hold off (HoldPublications) until
// the last batch, and a file whose publishing was interrupted is finished by the next start
// (RecoverImports) before any figure is computed. A crash while staging leaves nothing: the
// staged rows are dropped and the file is read again.

// ImportBatch is how many records one transaction of an import stages or publishes: small
// enough that a probe waiting for the writer waits a few milliseconds.
const ImportBatch = 500

func (l *Ledger) batch() int {
	if l.importBatch > 0 {
		return l.importBatch
	}
	return ImportBatch
}

// publishTime bounds the time one transaction of a publish holds the writer.
const publishTime = 20 * time.Millisecond

func (l *Ledger) publishBudget() time.Duration {
	if l.publishTime > 0 {
		return l.publishTime
	}
	return publishTime
}

// File states in source_files.
const (
	fileStaging    = "staging"
	filePublishing = "publishing"
	fileDone       = "done"
	fileFailed     = "failed"
)

// stagedRecord is one staged record: a publicity record or a case.
type stagedRecord struct {
	Publicity *PublicityRecord `json:"p,omitempty"`
	Case      *CaseRecord      `json:"c,omitempty"`
}

// FileImported reports whether a file with this digest was already seen by source: imported,
// or failed (a corrected file has another digest, so it is read again).
func (l *Ledger) FileImported(ctx context.Context, source, sha string) (bool, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM source_files WHERE source = ? AND sha256 = ?
		AND state IN ('done', 'failed')`, source, sha).Scan(&n)
	return n > 0, err
}

// FileState returns the state of the file with this digest in source: "" when it was never
// seen, staging or publishing (an import under way or interrupted), done or failed.
func (l *Ledger) FileState(ctx context.Context, source, sha string) (string, error) {
	var state string
	err := l.r.QueryRowContext(ctx, `SELECT state FROM source_files WHERE source = ? AND sha256 = ?`, source, sha).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return state, err
}

// States of a file, as FileState returns them: imported, or failed (not read again unless
// replaced by a file with other content).
const (
	FileDone   = fileDone
	FileFailed = fileFailed
)

// FileWriter stages the records of one imported file.
type FileWriter struct {
	ctx         context.Context
	l           *Ledger
	source, sha string
	batch       []stagedRecord
	n           int
}

// PutPublicity stages a licence or penalty record.
func (w *FileWriter) PutPublicity(r PublicityRecord) error {
	r.Fields, _ = protect(r.Fields, w.l.piiKey)
	return w.add(stagedRecord{Publicity: &r})
}

// PutCase stages an objection or repair case.
func (w *FileWriter) PutCase(c CaseRecord) error {
	c.Fields, _ = protect(c.Fields, w.l.piiKey)
	return w.add(stagedRecord{Case: &c})
}

func (w *FileWriter) add(r stagedRecord) error {
	w.batch = append(w.batch, r)
	if len(w.batch) >= w.l.batch() {
		return w.flush()
	}
	return nil
}

// flush stages the records put since the last flush, in one transaction.
func (w *FileWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	err := w.l.writeTx(w.ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(w.ctx, `INSERT INTO staged_records (source, sha256, seq, record) VALUES (?,?,?,?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, r := range w.batch {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(w.ctx, w.source, w.sha, w.n+i, string(b)); err != nil {
				return fmt.Errorf("staging record %d: %w", w.n+i+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.n += len(w.batch)
	w.batch = w.batch[:0]
	if w.l.afterImportBatch != nil {
		w.l.afterImportBatch()
	}
	return nil
}

// ImportFile stores every record that each puts, all or nothing, and notes the file as
// imported; if each fails nothing of the file is kept and the failure is noted instead.
// It holds the ledger's writer for one batch at a time.
func (l *Ledger) ImportFile(ctx context.Context, source, name, sha string, size int64, each func(*FileWriter) error) (int, error) {
	// On PostgreSQL another instance may be importing the same file: one at a time, and a
	// file the other finished is not imported again.
	release, _, err := l.instanceLock(ctx, "import "+source+"/"+sha, false)
	if err != nil {
		return 0, fmt.Errorf("taking the import lock of %s: %w", name, err)
	}
	defer release()
	var state string
	var records int
	err = l.w.QueryRowContext(ctx, `SELECT state, records FROM source_files WHERE source = ? AND sha256 = ?`, source, sha).Scan(&state, &records)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, err
	case l.postgres && state == fileDone:
		return records, nil
	case state == filePublishing:
		// Staged whole before an error stopped its publishing: finish it.
		if err := l.publish(ctx, source, sha); err != nil {
			return 0, fmt.Errorf("publishing %s: %w", name, err)
		}
		return records, nil
	case state == fileStaging:
		if err := l.dropStaged(ctx, source, sha); err != nil {
			return 0, err
		}
	}
	err = l.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO source_files (source, sha256, name, size, records, imported_at, error, state)
			VALUES (?,?,?,?,0,?,'',?) ON CONFLICT (source, sha256) DO UPDATE SET name = excluded.name,
			imported_at = excluded.imported_at, error = '', state = excluded.state`, source, sha, name, size, ms(time.Now()), fileStaging)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("starting the import of %s: %w", name, err)
	}
	w := &FileWriter{ctx: ctx, l: l, source: source, sha: sha}
	err = each(w)
	if err == nil {
		err = w.flush()
	}
	if err == nil {
		err = l.writeTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE source_files SET state = ?, records = ? WHERE source = ? AND sha256 = ?`,
				filePublishing, w.n, source, sha)
			return err
		})
	}
	if err != nil {
		// Whatever was staged goes; the file is noted as failed with the reason.
		ctx := context.WithoutCancel(ctx)
		derr := l.dropStaged(ctx, source, sha)
		_, nerr := l.w.ExecContext(ctx, `UPDATE source_files SET state = ?, records = 0, error = ?, imported_at = ?
			WHERE source = ? AND sha256 = ?`, fileFailed, err.Error(), ms(time.Now()), source, sha)
		return 0, errors.Join(err, derr, nerr)
	}
	if err := l.publish(ctx, source, sha); err != nil {
		return 0, fmt.Errorf("publishing %s (finished at the next start): %w", name, err)
	}
	return w.n, nil
}

// dropStaged deletes a file's staged records, a batch at a time.
func (l *Ledger) dropStaged(ctx context.Context, source, sha string) error {
	for {
		res, err := l.w.ExecContext(ctx, `DELETE FROM staged_records WHERE source = ? AND sha256 = ? AND seq IN (SELECT seq FROM staged_records
			WHERE source = ? AND sha256 = ? LIMIT ?)`, source, sha, source, sha, 4*l.batch())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
	}
}

// publish moves a file's staged records into the ledger a batch at a time, then marks the
// file done. Readers in this process wait until it is done (HoldPublications).
func (l *Ledger) publish(ctx context.Context, source, sha string) error {
	l.publishing.Lock()
	defer l.publishing.Unlock()
	for {
		more := false
		err := l.writeTx(ctx, func(tx *sql.Tx) error {
			type staged struct {
				seq int64
				r   stagedRecord
			}
			var batch []staged
			rows, err := tx.QueryContext(ctx, `SELECT seq, record FROM staged_records WHERE source = ? AND sha256 = ?
				ORDER BY seq LIMIT ?`, source, sha, l.batch())
			if err != nil {
				return err
			}
			for rows.Next() {
				var s staged
				var rec string
				if err := rows.Scan(&s.seq, &rec); err != nil {
					rows.Close()
					return err
				}
				if err := json.Unmarshal([]byte(rec), &s.r); err != nil {
					rows.Close()
					return fmt.Errorf("staged record %d: %w", s.seq, err)
				}
				batch = append(batch, s)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(batch) == 0 {
				return nil
			}
			more = true
			var pub *publicityWriter
			var cs *caseWriter
			defer func() {
				if pub != nil {
					pub.close()
				}
				if cs != nil {
					cs.close()
				}
			}()
			// A batch ends after publishTime even if it is not through: the writer is held for
			// about that long, whatever the records cost to store.
			start, last := time.Now(), batch[len(batch)-1].seq
			for i, s := range batch {
				if i > 0 && time.Since(start) > l.publishBudget() {
					last = batch[i-1].seq
					break
				}
				switch {
				case s.r.Publicity != nil:
					if pub == nil {
						if pub, err = newPublicityWriter(ctx, tx); err != nil {
							return err
						}
						pub.piiKey = l.piiKey
					}
					err = pub.put(ctx, *s.r.Publicity)
				case s.r.Case != nil:
					if cs == nil {
						if cs, err = newCaseWriter(ctx, tx, l.piiKey); err != nil {
							return err
						}
					}
					err = cs.put(ctx, *s.r.Case)
				}
				if err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM staged_records WHERE source = ? AND sha256 = ? AND seq <= ?`,
				source, sha, last)
			return err
		})
		if err != nil {
			return err
		}
		if !more {
			break
		}
		if l.afterImportBatch != nil {
			l.afterImportBatch()
		}
	}
	return l.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE source_files SET state = ?, imported_at = ? WHERE source = ? AND sha256 = ?`,
			fileDone, ms(time.Now()), source, sha)
		return err
	})
}

// RecoverImports finishes the imports an earlier run left: a file interrupted while staged is
// dropped (to be read again), one interrupted while published is published. Only the
// process holding the ledger (serve) calls it, before computing any figure.
func (l *Ledger) RecoverImports(ctx context.Context) (published, dropped []string, err error) {
	type file struct{ source, sha, name, state string }
	var files []file
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var f file
		if err := rows.Scan(&f.source, &f.sha, &f.name, &f.state); err != nil {
			return err
		}
		files = append(files, f)
		return nil
	}, `SELECT source, sha256, name, state FROM source_files WHERE state IN ('staging', 'publishing') ORDER BY imported_at`)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if err := l.recoverImport(ctx, f.source, f.sha, f.name, f.state, &published, &dropped); err != nil {
			return published, dropped, err
		}
	}
	return published, dropped, nil
}

// recoverImport finishes or drops one import a run left half done. On PostgreSQL an import
// another instance is doing now is left to it.
func (l *Ledger) recoverImport(ctx context.Context, source, sha, name, state string, published, dropped *[]string) error {
	release, held, err := l.instanceLock(ctx, "import "+source+"/"+sha, true)
	if err != nil || !held {
		return err
	}
	defer release()
	if l.postgres {
		// What it is now, under the lock: another instance may have finished it.
		err := l.w.QueryRowContext(ctx, `SELECT state FROM source_files WHERE source = ? AND sha256 = ?`, source, sha).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	switch state {
	case filePublishing:
		if err := l.publish(ctx, source, sha); err != nil {
			return fmt.Errorf("finishing the import of %s (%s): %w", name, source, err)
		}
		*published = append(*published, name)
	case fileStaging:
		if err := l.dropStaged(ctx, source, sha); err != nil {
			return err
		}
		if _, err := l.w.ExecContext(ctx, `DELETE FROM source_files WHERE source = ? AND sha256 = ?`, source, sha); err != nil {
			return err
		}
		*dropped = append(*dropped, name)
	}
	return nil
}

type heldKey struct{ l *Ledger }

// ErrPublishing is returned by HoldPublications when a file is still being published by
// another process, or was left half published by a run that stopped.
var ErrPublishing = errors.New("an imported file is being published")

// HoldPublications keeps imports from publishing until release is called, so that figures
// computed meanwhile see each file whole or not at all. It waits for a publish under way
// in this process; when the ledger shows one from another (serve, for a command run beside
// it) it waits up to wait for it to finish.
//
// The context it returns marks the hold: a HoldPublications under it (a report computing
// several cards) holds nothing more and returns at once.
func (l *Ledger) HoldPublications(ctx context.Context, wait time.Duration) (context.Context, func(), error) {
	if ctx.Value(heldKey{l}) != nil {
		return ctx, func() {}, nil
	}
	l.publishing.RLock()
	deadline := time.Now().Add(wait)
	for {
		var name string
		err := l.r.QueryRowContext(ctx, `SELECT name FROM source_files WHERE state = 'publishing' LIMIT 1`).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return context.WithValue(ctx, heldKey{l}, true), l.publishing.RUnlock, nil
		}
		if err == nil && time.Now().After(deadline) {
			err = fmt.Errorf("%w: %s is half published (serve finishes it at its next start)", ErrPublishing, name)
		}
		if err != nil {
			l.publishing.RUnlock()
			return ctx, nil, err
		}
		select {
		case <-ctx.Done():
			l.publishing.RUnlock()
			return ctx, nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// SourceFile is an exported file creditwatch has seen.
type SourceFile struct {
	Source, Name, SHA256 string
	Size                 int64
	Records              int
	// State is staging or publishing (an import under way, or interrupted), done or failed.
	State      string
	Error      string
	ImportedAt time.Time
}

// Files lists the exported files seen, the latest first.
func (l *Ledger) Files(ctx context.Context) ([]SourceFile, error) {
	var out []SourceFile
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var f SourceFile
		var at int64
		if err := rows.Scan(&f.Source, &f.Name, &f.SHA256, &f.Size, &f.Records, &f.State, &f.Error, &at); err != nil {
			return err
		}
		f.ImportedAt = time.UnixMilli(at).UTC()
		out = append(out, f)
		return nil
	}, `SELECT source, name, sha256, size, records, state, error, imported_at FROM source_files ORDER BY imported_at DESC, name`)
	return out, err
}

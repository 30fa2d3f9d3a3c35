package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// PublicityRecord is an assessed licence or penalty record as stored.
type PublicityRecord struct {
	Kind       publicity.Kind
	ID         string
	Source     string
	UpdatedAt  time.Time // the platform's update time; older updates never overwrite newer ones
	Assessment publicity.Assessment
	Fields     map[string]string // the record as received, kept as evidence
}

// Cursor is a source's position in one of its change streams.
type Cursor struct {
	Source, Stream, Value string
}

// Cursor returns the stored position of a stream, "" at the start.
func (l *Ledger) Cursor(ctx context.Context, source, stream string) (string, error) {
	var v string
	err := l.r.QueryRowContext(ctx, `SELECT cursor FROM source_cursors WHERE source = ? AND stream = ?`, source, stream).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading cursor of %s/%s: %w", source, stream, err)
	}
	return v, nil
}

// StorePublicity upserts records and, when next is set, moves the stream's cursor, in one
// transaction: a crash leaves either both or neither.
func (l *Ledger) StorePublicity(ctx context.Context, recs []PublicityRecord, next *Cursor) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newPublicityWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for _, r := range recs {
			if err := w.put(ctx, r); err != nil {
				return err
			}
		}
		return saveCursor(ctx, tx, next)
	})
}

func (l *Ledger) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	defer l.publicityWrites.Add(1)
	return tx.Commit()
}

type publicityWriter struct {
	upsert, delViolations, addViolation *sql.Stmt
}

func newPublicityWriter(ctx context.Context, tx *sql.Tx) (*publicityWriter, error) {
	w := &publicityWriter{}
	var err error
	if w.upsert, err = tx.PrepareContext(ctx, `INSERT INTO publicity_records (kind, id, source, updated_at, stored_at,
		department, deadline, reported, compliant, timely, subject_code, subject_name, code_valid, fields, reported_on)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (kind, id) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at,
		stored_at = excluded.stored_at, department = excluded.department, deadline = excluded.deadline,
		reported = excluded.reported, compliant = excluded.compliant, timely = excluded.timely,
		subject_code = excluded.subject_code, subject_name = excluded.subject_name, code_valid = excluded.code_valid,
		fields = excluded.fields, reported_on = excluded.reported_on
		WHERE excluded.updated_at >= publicity_records.updated_at`); err != nil {
		return nil, err
	}
	if w.delViolations, err = tx.PrepareContext(ctx, `DELETE FROM publicity_violations WHERE kind = ? AND id = ?`); err != nil {
		return nil, err
	}
	if w.addViolation, err = tx.PrepareContext(ctx, `INSERT INTO publicity_violations (kind, id, field, rule, message, department)
		VALUES (?,?,?,?,?,?)`); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *publicityWriter) close() {
	for _, s := range []*sql.Stmt{w.upsert, w.delViolations, w.addViolation} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *publicityWriter) put(ctx context.Context, r PublicityRecord) error {
	a := r.Assessment
	fields, err := json.Marshal(r.Fields)
	if err != nil {
		return err
	}
	deadline, reportedOn := "", ""
	if !a.Deadline.IsZero() {
		deadline = a.Deadline.Format(time.DateOnly)
	}
	if !a.ReportedOn.IsZero() {
		reportedOn = a.ReportedOn.Format(time.DateOnly)
	}
	res, err := w.upsert.ExecContext(ctx, string(r.Kind), r.ID, r.Source, ms(r.UpdatedAt), ms(time.Now()), a.Department,
		deadline, a.Reported, a.Compliant, a.Timely, a.SubjectCode, a.SubjectName, a.CodeValid, string(fields), reportedOn)
	if err != nil {
		return fmt.Errorf("storing %s %s: %w", r.Kind, r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // an older version of a record already stored newer
	}
	if _, err := w.delViolations.ExecContext(ctx, string(r.Kind), r.ID); err != nil {
		return err
	}
	for _, v := range a.Violations {
		if _, err := w.addViolation.ExecContext(ctx, string(r.Kind), r.ID, v.Field, v.Rule, v.Message, a.Department); err != nil {
			return err
		}
	}
	return nil
}

// DepartmentFigures are one department's publicity figures as of a day.
type DepartmentFigures struct {
	Kind       publicity.Kind
	Department string
	publicity.Figures
}

// PublicityFigures computes every department's figures on day asOf, given the next working
// day after it, with the same rules as publicity.Assessment.StatusAt.
func (l *Ledger) PublicityFigures(ctx context.Context, asOf, nextWorkday time.Time) ([]DepartmentFigures, error) {
	today, next := asOf.Format(time.DateOnly), nextWorkday.Format(time.DateOnly)
	var out []DepartmentFigures
	index := map[[2]string]int{}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var d DepartmentFigures
		if err := rows.Scan(&d.Kind, &d.Department, &d.Total, &d.Due, &d.Reported, &d.Compliant, &d.Timely, &d.DueSoon); err != nil {
			return err
		}
		d.ViolationsByRule = map[string]int{}
		index[[2]string{string(d.Kind), d.Department}] = len(out)
		out = append(out, d)
		return nil
	}, `SELECT kind, department, COUNT(*),
		SUM(reported OR deadline = '' OR deadline < ?),
		SUM(reported), SUM(compliant), SUM(timely),
		SUM(NOT reported AND deadline >= ? AND deadline <= ?)
		FROM publicity_records GROUP BY kind, department ORDER BY kind, department`, today, today, next)
	if err != nil {
		return nil, fmt.Errorf("counting publicity records: %w", err)
	}
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var kind, dept, rule string
		var n int
		if err := rows.Scan(&kind, &dept, &rule, &n); err != nil {
			return err
		}
		if i, ok := index[[2]string{kind, dept}]; ok {
			out[i].ViolationsByRule[rule] = n
		}
		return nil
	}, `SELECT kind, department, rule, COUNT(*) FROM publicity_violations GROUP BY kind, department, rule`)
	if err != nil {
		return nil, fmt.Errorf("counting publicity violations: %w", err)
	}
	return out, nil
}

// PublicityCodeStats counts the subject codes of all publicity records: distinct, invalid,
// and valid codes used for two or more different names.
func (l *Ledger) PublicityCodeStats(ctx context.Context) (publicity.CodeStats, error) {
	var st publicity.CodeStats
	err := l.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(DISTINCT subject_code) FROM publicity_records WHERE subject_code != ''),
		(SELECT COUNT(DISTINCT subject_code) FROM publicity_records WHERE subject_code != '' AND NOT code_valid),
		(SELECT COUNT(*) FROM (SELECT subject_code FROM publicity_records WHERE subject_code != '' AND code_valid
			GROUP BY subject_code HAVING COUNT(DISTINCT subject_name) > 1))`).Scan(&st.Distinct, &st.Invalid, &st.Duplicated)
	if err != nil {
		return st, fmt.Errorf("counting codes: %w", err)
	}
	return st, nil
}

// FileImported reports whether a file with this digest was already seen by source: imported,
// or failed (a corrected file has another digest, so it is read again).
func (l *Ledger) FileImported(ctx context.Context, source, sha string) (bool, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM source_files WHERE source = ? AND sha256 = ?`,
		source, sha).Scan(&n)
	return n > 0, err
}

// FileWriter stores the records of one imported file inside its transaction.
type FileWriter struct {
	ctx   context.Context
	tx    *sql.Tx
	pub   *publicityWriter
	cases *sql.Stmt
	n     int
}

// PutPublicity stores a licence or penalty record.
func (w *FileWriter) PutPublicity(r PublicityRecord) error {
	if w.pub == nil {
		var err error
		if w.pub, err = newPublicityWriter(w.ctx, w.tx); err != nil {
			return err
		}
	}
	w.n++
	return w.pub.put(w.ctx, r)
}

// PutCase stores an objection or repair case.
func (w *FileWriter) PutCase(c CaseRecord) error {
	if w.cases == nil {
		var err error
		if w.cases, err = w.tx.PrepareContext(w.ctx, upsertCase); err != nil {
			return err
		}
	}
	fields, err := json.Marshal(c.Fields)
	if err != nil {
		return err
	}
	w.n++
	_, err = w.cases.ExecContext(w.ctx, c.Kind, c.ID, c.Source, ms(c.UpdatedAt), ms(time.Now()), string(fields))
	return err
}

func (w *FileWriter) close() {
	if w.pub != nil {
		w.pub.close()
	}
	if w.cases != nil {
		w.cases.Close()
	}
}

// ImportFile stores every record that each writes, in one transaction, and notes the file
// as imported; if each fails nothing of the file is kept and the failure is noted instead.
func (l *Ledger) ImportFile(ctx context.Context, source, name, sha string, size int64, each func(*FileWriter) error) (int, error) {
	n := 0
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		w := &FileWriter{ctx: ctx, tx: tx}
		defer w.close()
		if err := each(w); err != nil {
			return err
		}
		n = w.n
		_, err := tx.ExecContext(ctx, `INSERT INTO source_files VALUES (?,?,?,?,?,?,'')
			ON CONFLICT (source, sha256) DO UPDATE SET name = excluded.name, records = excluded.records,
			imported_at = excluded.imported_at, error = ''`, source, sha, name, size, n, ms(time.Now()))
		return err
	})
	if err != nil {
		_, nerr := l.w.ExecContext(context.WithoutCancel(ctx), `INSERT INTO source_files VALUES (?,?,?,?,0,?,?)
			ON CONFLICT (source, sha256) DO UPDATE SET error = excluded.error, imported_at = excluded.imported_at`,
			source, sha, name, size, ms(time.Now()), err.Error())
		return 0, errors.Join(err, nerr)
	}
	return n, nil
}

// CountPublicity counts stored publicity records.
func (l *Ledger) CountPublicity(ctx context.Context) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM publicity_records`).Scan(&n)
	return n, err
}

// PublicityIDs lists the ids of all stored publicity records, sorted.
func (l *Ledger) PublicityIDs(ctx context.Context) ([]string, error) {
	var out []string
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out = append(out, id)
		return nil
	}, `SELECT id FROM publicity_records ORDER BY id`)
	return out, err
}

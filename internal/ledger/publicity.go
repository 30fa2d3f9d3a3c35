package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
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

// View selects what a figure is computed over: the ledger as it stood just before the
// instant At (every version of a record effective before At, in force at At), and the
// records decided in the period from From (a midnight) to the day of At.
type View struct {
	At   time.Time
	From time.Time
}

// Day is the Asia/Shanghai day the view speaks for: the day of the last instant before At.
func (v View) Day() string { return clock.Date(clock.LastDay(v.At)) }

func (v View) from() string { return clock.Date(v.From) }

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

// StorePublicity stores records and, when next is set, moves the stream's cursor, in one
// transaction: a crash leaves either both or neither.
func (l *Ledger) StorePublicity(ctx context.Context, recs []PublicityRecord, next *Cursor) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newPublicityWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		w.piiKey = l.piiKey
		for _, r := range recs {
			if err := w.put(ctx, r); err != nil {
				return err
			}
		}
		return saveCursor(ctx, tx, next)
	})
}

// inTx runs f in a transaction that changes what figures are computed from.
func (l *Ledger) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	defer l.publicityWrites.Add(1)
	return l.writeTx(ctx, f)
}

// writeTx runs f in a transaction on the writer.
func (l *Ledger) writeTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

type publicityWriter struct {
	current, supersede, replace, insert, delViolations, addViolation *sql.Stmt
	piiKey                                                           []byte
}

const publicityColumns = `source, updated_at, stored_at, department, decided_on, deadline, deadline_unknown,
	reported, reported_on, compliant, timely, subject_code, subject_name, code_valid, fields`

func newPublicityWriter(ctx context.Context, tx *sql.Tx) (*publicityWriter, error) {
	w := &publicityWriter{}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&w.current, `SELECT rid, updated_at FROM publicity_records WHERE kind = ? AND id = ? AND superseded_at IS NULL`},
		{&w.supersede, `UPDATE publicity_records SET superseded_at = ? WHERE rid = ?`},
		{&w.replace, `UPDATE publicity_records SET (` + publicityColumns + `) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE rid = ?`},
		{&w.insert, `INSERT INTO publicity_records (kind, id, effective_at, ` + publicityColumns + `)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING rid`},
		{&w.delViolations, `DELETE FROM publicity_violations WHERE rid = ?`},
		{&w.addViolation, `INSERT INTO publicity_violations (rid, kind, department, field, rule, message) VALUES (?,?,?,?,?,?)`},
	} {
		var err error
		if *s.st, err = tx.PrepareContext(ctx, s.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *publicityWriter) close() {
	for _, s := range []*sql.Stmt{w.current, w.supersede, w.replace, w.insert, w.delViolations, w.addViolation} {
		if s != nil {
			s.Close()
		}
	}
}

// put stores a record: a new version when it is newer than the stored one (the stored one
// is then superseded, kept for figures as of earlier instants), the same version again
// when it carries the same update time, nothing when it is older.
func (w *publicityWriter) put(ctx context.Context, r PublicityRecord) error {
	now := time.Now()
	var rid, storedUpdate int64
	err := w.current.QueryRowContext(ctx, string(r.Kind), r.ID).Scan(&rid, &storedUpdate)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		rid = 0
	case err != nil:
		return fmt.Errorf("reading %s %s: %w", r.Kind, r.ID, err)
	case ms(r.UpdatedAt) < storedUpdate:
		return nil // an older version of a record already stored newer
	}
	vals, err := w.values(r, now)
	if err != nil {
		return err
	}
	switch {
	case rid != 0 && ms(r.UpdatedAt) == storedUpdate:
		if _, err := w.replace.ExecContext(ctx, append(vals, rid)...); err != nil {
			return fmt.Errorf("storing %s %s: %w", r.Kind, r.ID, err)
		}
		if _, err := w.delViolations.ExecContext(ctx, rid); err != nil {
			return err
		}
	default:
		effective := ms(EffectiveAt(r.UpdatedAt, now))
		if rid != 0 {
			if _, err := w.supersede.ExecContext(ctx, effective, rid); err != nil {
				return fmt.Errorf("superseding %s %s: %w", r.Kind, r.ID, err)
			}
		}
		args := append([]any{string(r.Kind), r.ID, effective}, vals...)
		if err := w.insert.QueryRowContext(ctx, args...).Scan(&rid); err != nil {
			return fmt.Errorf("storing %s %s: %w", r.Kind, r.ID, err)
		}
	}
	a := r.Assessment
	for _, v := range a.Violations {
		if _, err := w.addViolation.ExecContext(ctx, rid, string(r.Kind), a.Department, v.Field, v.Rule, v.Message); err != nil {
			return err
		}
	}
	return nil
}

// EffectiveAt is when a version received at now takes effect: its update time on the
// platform, but never later than its arrival (a platform clock ahead of ours must not hide
// a version from figures as of now).
func EffectiveAt(updated, now time.Time) time.Time {
	if updated.IsZero() || updated.After(now) {
		return now
	}
	return updated
}

func (w *publicityWriter) values(r PublicityRecord, now time.Time) ([]any, error) {
	a := r.Assessment
	// A natural person's ID number never reaches the disk whole.
	protected, _ := protect(r.Fields, w.piiKey)
	fields, err := json.Marshal(protected)
	if err != nil {
		return nil, err
	}
	decided := a.DecidedOn
	if decided.IsZero() {
		// An unreadable decision date counts in the period the record arrived in.
		decided = EffectiveAt(r.UpdatedAt, now)
	}
	return []any{r.Source, ms(r.UpdatedAt), ms(now), a.Department, clock.Date(decided), dateOrEmpty(a.Deadline),
		a.DeadlineUnknown, a.Reported, dateOrEmpty(a.ReportedOn), a.Compliant, a.Timely, a.SubjectCode, a.SubjectName,
		a.CodeValid, string(fields)}, nil
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return clock.Date(t)
}

// versionsAt is the set of publicity record versions in force at an instant (the first
// argument, twice) and decided in a period (from, to as YYYY-MM-DD): the current versions
// through their covering indexes, plus the few superseded ones still in force then.
func versionsAt(columns string) string {
	return `SELECT ` + columns + ` FROM publicity_records WHERE superseded_at IS NULL AND effective_at < :at
			AND decided_on >= :from AND decided_on <= :day
		UNION ALL SELECT ` + columns + ` FROM publicity_records WHERE superseded_at IS NOT NULL
			AND superseded_at >= :at AND effective_at < :at AND decided_on >= :from AND decided_on <= :day`
}

func (v View) args(extra ...any) []any {
	return append([]any{sql.Named("at", ms(v.At)), sql.Named("from", v.from()), sql.Named("day", v.Day())}, extra...)
}

// DepartmentFigures are one department's publicity figures as of a view.
type DepartmentFigures struct {
	Kind       publicity.Kind
	Department string
	publicity.Figures
}

// reportedBy is publicity.Assessment.ReportedBy in SQL: reported, with a report date (if
// readable) not after the view's day.
const reportedBy = `(reported = 1 AND (reported_on = '' OR reported_on <= :day))`

// PublicityFigures computes every department's figures as of a view, given the first
// working day after the view's day (zero when the calendar does not know it), with the same
// rules as publicity.Assessment.StatusAt.
func (l *Ledger) PublicityFigures(ctx context.Context, v View, nextWorkday time.Time) ([]DepartmentFigures, error) {
	var out []DepartmentFigures
	index := map[[2]string]int{}
	q := `SELECT kind, department, COUNT(*),
		SUM(CASE WHEN ` + reportedBy + ` OR (deadline = '' AND deadline_unknown = 0) OR (deadline != '' AND deadline < :day) THEN 1 ELSE 0 END),
		SUM(CASE WHEN ` + reportedBy + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN compliant = 1 AND ` + reportedBy + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN timely = 1 AND ` + reportedBy + ` THEN 1 ELSE 0 END),
		SUM(CASE WHEN NOT ` + reportedBy + ` AND deadline != '' AND deadline >= :day AND deadline <= :next THEN 1 ELSE 0 END),
		SUM(deadline_unknown)
		FROM (` + versionsAt(`kind, department, reported, reported_on, compliant, timely, deadline, deadline_unknown`) + `)
		GROUP BY kind, department ORDER BY kind, department`
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var d DepartmentFigures
		if err := rows.Scan(&d.Kind, &d.Department, &d.Total, &d.Due, &d.Reported, &d.Compliant, &d.Timely, &d.DueSoon, &d.DeadlineUnknown); err != nil {
			return err
		}
		d.ViolationsByRule = map[string]int{}
		index[[2]string{string(d.Kind), d.Department}] = len(out)
		out = append(out, d)
		return nil
	}, q, v.args(sql.Named("next", dateOrEmpty(nextWorkday)))...)
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
	}, `SELECT p.kind, p.department, v.rule, COUNT(*) FROM (`+versionsAt(`rid, kind, department`)+`) p
		JOIN publicity_violations v ON v.rid = p.rid GROUP BY p.kind, p.department, v.rule`, v.args()...)
	if err != nil {
		return nil, fmt.Errorf("counting publicity violations: %w", err)
	}
	return out, nil
}

// PublicityCodeStats counts the subject codes of the records of a view: distinct, invalid,
// and valid codes used for two or more different names.
func (l *Ledger) PublicityCodeStats(ctx context.Context, v View) (publicity.CodeStats, error) {
	var st publicity.CodeStats
	codes := `(` + versionsAt(`subject_code, code_valid, subject_name`) + `)`
	err := l.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(DISTINCT subject_code) FROM `+codes+` WHERE subject_code != ''),
		(SELECT COUNT(DISTINCT subject_code) FROM `+codes+` WHERE subject_code != '' AND code_valid = 0),
		(SELECT COUNT(*) FROM (SELECT subject_code FROM `+codes+` WHERE subject_code != '' AND code_valid = 1
			GROUP BY subject_code HAVING COUNT(DISTINCT subject_name) > 1) d)`, v.args()...).Scan(&st.Distinct, &st.Invalid, &st.Duplicated)
	if err != nil {
		return st, fmt.Errorf("counting codes: %w", err)
	}
	return st, nil
}

// CountPublished counts the records published (reported upstream) on the days of a view's
// period, whatever their decision date: the denominator of the objection share.
func (l *Ledger) CountPublished(ctx context.Context, v View) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (
		SELECT 1 FROM publicity_records WHERE superseded_at IS NULL AND effective_at < :at
			AND reported = 1 AND reported_on >= :from AND reported_on <= :day
		UNION ALL SELECT 1 FROM publicity_records WHERE superseded_at IS NOT NULL AND superseded_at >= :at
			AND effective_at < :at AND reported = 1 AND reported_on >= :from AND reported_on <= :day) p`, v.args()...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting published records: %w", err)
	}
	return n, nil
}

// CountPublicity counts stored publicity records (their current versions).
func (l *Ledger) CountPublicity(ctx context.Context) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM publicity_records WHERE superseded_at IS NULL`).Scan(&n)
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
	}, `SELECT id FROM publicity_records WHERE superseded_at IS NULL ORDER BY id`)
	return out, err
}

// HasPublicity reports whether any publicity record had been received before at.
func (l *Ledger) HasPublicity(ctx context.Context, at time.Time) (bool, error) {
	var found bool // EXISTS is an integer on SQLite, a boolean on PostgreSQL: both scan as bool
	err := l.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM publicity_records WHERE effective_at < ?)`, ms(at)).Scan(&found)
	return found, err
}

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

// CaseRecord is an objection or repair case as received.
type CaseRecord struct {
	Kind      string // "objection" or "repair"
	ID        string
	Source    string
	UpdatedAt time.Time
	Fields    map[string]string
}

// StoreCases stores cases (a newer version supersedes the stored one, an older one is
// ignored) and moves the stream's cursor, in one transaction.
func (l *Ledger) StoreCases(ctx context.Context, cs []CaseRecord, next *Cursor) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		w, err := newCaseWriter(ctx, tx, l.piiKey)
		if err != nil {
			return err
		}
		defer w.close()
		for _, c := range cs {
			if err := w.put(ctx, c); err != nil {
				return err
			}
		}
		return saveCursor(ctx, tx, next)
	})
}

type caseWriter struct {
	current, supersede, replace, insert *sql.Stmt
	piiKey                              []byte
}

func newCaseWriter(ctx context.Context, tx *sql.Tx, piiKey []byte) (*caseWriter, error) {
	w := &caseWriter{piiKey: piiKey}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&w.current, `SELECT rid, updated_at FROM cases WHERE kind = ? AND id = ? AND superseded_at IS NULL`},
		{&w.supersede, `UPDATE cases SET superseded_at = ? WHERE rid = ?`},
		{&w.replace, `UPDATE cases SET source = ?, stored_at = ?, fields = ? WHERE rid = ?`},
		{&w.insert, `INSERT INTO cases (kind, id, source, updated_at, effective_at, stored_at, fields) VALUES (?,?,?,?,?,?,?)`},
	} {
		var err error
		if *s.st, err = tx.PrepareContext(ctx, s.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *caseWriter) close() {
	for _, s := range []*sql.Stmt{w.current, w.supersede, w.replace, w.insert} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *caseWriter) put(ctx context.Context, c CaseRecord) error {
	now := time.Now()
	// A natural person's ID number never reaches the disk whole.
	protected, _ := protect(c.Fields, w.piiKey)
	fields, err := json.Marshal(protected)
	if err != nil {
		return err
	}
	var rid, storedUpdate int64
	err = w.current.QueryRowContext(ctx, c.Kind, c.ID).Scan(&rid, &storedUpdate)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		rid = 0
	case err != nil:
		return fmt.Errorf("reading %s %s: %w", c.Kind, c.ID, err)
	case ms(c.UpdatedAt) < storedUpdate:
		return nil
	case ms(c.UpdatedAt) == storedUpdate:
		_, err := w.replace.ExecContext(ctx, c.Source, ms(now), string(fields), rid)
		return err
	}
	effective := ms(EffectiveAt(c.UpdatedAt, now))
	if rid != 0 {
		if _, err := w.supersede.ExecContext(ctx, effective, rid); err != nil {
			return fmt.Errorf("superseding %s %s: %w", c.Kind, c.ID, err)
		}
	}
	if _, err := w.insert.ExecContext(ctx, c.Kind, c.ID, c.Source, ms(c.UpdatedAt), effective, ms(now), string(fields)); err != nil {
		return fmt.Errorf("storing %s %s: %w", c.Kind, c.ID, err)
	}
	return nil
}

func saveCursor(ctx context.Context, tx *sql.Tx, next *Cursor) error {
	if next == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO source_cursors VALUES (?,?,?,?) ON CONFLICT (source, stream)
		DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
		next.Source, next.Stream, next.Value, ms(time.Now()))
	if err != nil {
		return fmt.Errorf("saving cursor: %w", err)
	}
	return nil
}

// Cases returns the cases of a kind as they stood just before the instant at (the version of
// each in force then), ordered by id. A zero at means now: the current versions.
func (l *Ledger) Cases(ctx context.Context, kind string, at time.Time) ([]CaseRecord, error) {
	q := `SELECT id, source, updated_at, fields FROM cases WHERE kind = :kind AND superseded_at IS NULL AND effective_at < :at
		UNION ALL SELECT id, source, updated_at, fields FROM cases WHERE kind = :kind AND superseded_at IS NOT NULL
			AND superseded_at >= :at AND effective_at < :at ORDER BY id`
	bound := int64(1<<63 - 1)
	if !at.IsZero() {
		bound = ms(at)
	}
	var out []CaseRecord
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var c CaseRecord
		var upd int64
		var fields string
		if err := rows.Scan(&c.ID, &c.Source, &upd, &fields); err != nil {
			return err
		}
		c.Kind, c.UpdatedAt = kind, fromMS(upd)
		if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
			return fmt.Errorf("case %s %s: %w", kind, c.ID, err)
		}
		out = append(out, c)
		return nil
	}, q, sql.Named("kind", kind), sql.Named("at", bound))
	if err != nil {
		return nil, fmt.Errorf("listing %s cases: %w", kind, err)
	}
	return out, nil
}

func backfillReportedOn(ctx context.Context, tx *sql.Tx) error {
	return backfillFromFields(ctx, tx, `SELECT kind, id, fields, 0, '' FROM publicity_records`,
		`UPDATE publicity_records SET reported_on = ? WHERE kind = ? AND id = ?`,
		func(r storedRow) []any {
			if d, err := publicity.ParseDate(r.fields[publicity.FieldReported]); err == nil {
				return []any{clock.Date(d)}
			}
			return nil
		})
}

// backfillDecidedOn gives every stored version its decision date; an unreadable one counts
// in the period the record arrived in, and a readable one without a deadline needed a year
// the calendar did not know.
func backfillDecidedOn(ctx context.Context, tx *sql.Tx) error {
	return backfillFromFields(ctx, tx, `SELECT kind, rid, fields, effective_at, deadline FROM publicity_records`,
		`UPDATE publicity_records SET decided_on = ?, deadline_unknown = ? WHERE kind = ? AND rid = ?`,
		func(r storedRow) []any {
			if s, ok := publicity.Schemas[publicity.Kind(r.kind)]; ok {
				if d, err := publicity.ParseDate(r.fields[s.DecisionDate]); err == nil {
					return []any{clock.Date(d), r.deadline == ""}
				}
			}
			return []any{clock.Date(fromMS(r.effective)), false}
		})
}

// storedRow is a publicity record as a backfill reads it.
type storedRow struct {
	kind      string
	key       any
	fields    map[string]string
	effective int64
	deadline  string
}

// backfillFromFields reads rows (kind, key, fields JSON, effective_at, deadline) and updates
// each with the values fill returns (nil: leave it) followed by its kind and key.
func backfillFromFields(ctx context.Context, tx *sql.Tx, sel, upd string, fill func(storedRow) []any) error {
	rows, err := tx.QueryContext(ctx, sel)
	if err != nil {
		return err
	}
	var ups [][]any
	for rows.Next() {
		var r storedRow
		var fields string
		if err := rows.Scan(&r.kind, &r.key, &fields, &r.effective, &r.deadline); err != nil {
			rows.Close()
			return err
		}
		if json.Unmarshal([]byte(fields), &r.fields) != nil {
			r.fields = map[string]string{}
		}
		if vals := fill(r); vals != nil {
			ups = append(ups, append(vals, r.kind, r.key))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, upd, u...); err != nil {
			return err
		}
	}
	return nil
}

package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

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

const upsertCase = `INSERT INTO cases VALUES (?,?,?,?,?,?)
	ON CONFLICT (kind, id) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at,
	stored_at = excluded.stored_at, fields = excluded.fields WHERE excluded.updated_at >= cases.updated_at`

// StoreCases upserts cases (an older version never overwrites a newer one) and moves the
// stream's cursor, in one transaction.
func (l *Ledger) StoreCases(ctx context.Context, cs []CaseRecord, next *Cursor) error {
	return l.inTx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, upsertCase)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, c := range cs {
			fields, err := json.Marshal(c.Fields)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, c.Kind, c.ID, c.Source, ms(c.UpdatedAt), ms(time.Now()), string(fields)); err != nil {
				return fmt.Errorf("storing %s %s: %w", c.Kind, c.ID, err)
			}
		}
		return saveCursor(ctx, tx, next)
	})
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

// Cases returns every stored case of a kind, ordered by id.
func (l *Ledger) Cases(ctx context.Context, kind string) ([]CaseRecord, error) {
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
	}, `SELECT id, source, updated_at, fields FROM cases WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("listing %s cases: %w", kind, err)
	}
	return out, nil
}

// CountPublicityReported counts publicity records reported (published upstream) on days
// in [from, to).
func (l *Ledger) CountPublicityReported(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM publicity_records WHERE reported_on >= ? AND reported_on < ?`,
		from.Format(time.DateOnly), to.Format(time.DateOnly)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting published records: %w", err)
	}
	return n, nil
}

func backfillReportedOn(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT kind, id, fields FROM publicity_records`)
	if err != nil {
		return err
	}
	type upd struct{ kind, id, on string }
	var ups []upd
	for rows.Next() {
		var kind, id, fields string
		if err := rows.Scan(&kind, &id, &fields); err != nil {
			rows.Close()
			return err
		}
		var f map[string]string
		if json.Unmarshal([]byte(fields), &f) != nil {
			continue
		}
		if d, err := publicity.ParseDate(f[publicity.FieldReported]); err == nil {
			ups = append(ups, upd{kind, id, d.Format(time.DateOnly)})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, `UPDATE publicity_records SET reported_on = ? WHERE kind = ? AND id = ?`, u.on, u.kind, u.id); err != nil {
			return err
		}
	}
	return nil
}

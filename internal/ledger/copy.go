package ledger

// Moving a SQLite ledger to PostgreSQL (creditwatch ledger migrate): every table of the
// source is copied into a target migrated to the same schema, parents before children,
// in batches. Each batch and the table's high-water mark (the source rowid, or the primary
// key of a table without rowid, of its last row) are committed in one target transaction,
// in ledger_copy_progress, so a copy that stops, however it stops, continues where it
// stood when run again, and no row is copied twice. At the end the identity sequences
// are moved past the copied ids, the rows of every table are counted on both sides and
// the target's hash chain is verified.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CopyBatch is the rows of one copy transaction.
const CopyBatch = 2000

// CopyOptions tune CopyLedger.
type CopyOptions struct {
	Batch int // rows per transaction; 0: CopyBatch
	// Progress, if set, is told after each batch.
	Progress func(table string, copied, total int64)
	// afterBatch, for tests, runs after each committed batch; an error stops the copy.
	afterBatch func() error
}

// CopyCount is a table's rows on both sides after a copy.
type CopyCount struct {
	Table          string
	Source, Target int64
}

// CopyResult is what a copy did and found.
type CopyResult struct {
	Counts []CopyCount
	Chain  *ChainCheck // the target's
	// Resumed: some tables were copied, in whole or in part, by an earlier run.
	Resumed bool
}

// OK says whether every table has as many rows on both sides and the target's chain is
// intact.
func (r *CopyResult) OK() bool {
	for _, c := range r.Counts {
		if c.Source != c.Target {
			return false
		}
	}
	return r.Chain != nil && r.Chain.OK()
}

// copyTable is a source table as the copy reads it.
type copyTable struct {
	name    string
	columns []string
	// key are the columns batches are ordered by: "rowid" for a table with a rowid, its
	// primary key otherwise (WITHOUT ROWID).
	key []string
	// pk is the declared primary key, for the upsert of a row the target's migrations
	// already made (rollup_state).
	pk      []string
	parents []string
}

// copyProgressTable records, on the target, how far each table is copied.
const copyProgressTable = `CREATE TABLE IF NOT EXISTS ledger_copy_progress (
	tbl TEXT PRIMARY KEY,
	high_water TEXT NOT NULL, -- JSON array of the key of the last row copied
	copied INTEGER NOT NULL,
	done INTEGER NOT NULL
)`

// CopyLedger copies the SQLite ledger src into the PostgreSQL ledger dst, resuming a copy
// an earlier run began. Nothing may write src meanwhile (stop creditwatch); dst must hold
// nothing but what an earlier run of the copy wrote.
func CopyLedger(ctx context.Context, src, dst *Ledger, o CopyOptions) (*CopyResult, error) {
	if src.postgres || !dst.postgres {
		return nil, errors.New("a ledger is copied from SQLite to PostgreSQL")
	}
	if o.Batch <= 0 {
		o.Batch = CopyBatch
	}
	sv, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if dv, err := dst.SchemaVersion(ctx); err != nil || dv != sv {
		return nil, fmt.Errorf("the source ledger has schema %d, the target %d (%v): both must be opened by this creditwatch", sv, dv, err)
	}
	if _, err := dst.w.ExecContext(ctx, copyProgressTable); err != nil {
		return nil, fmt.Errorf("making the copy's progress table: %w", err)
	}
	tables, err := sourceTables(ctx, src)
	if err != nil {
		return nil, err
	}
	res := &CopyResult{}
	for _, t := range tables {
		resumed, err := copyOne(ctx, src, dst, t, o)
		if err != nil {
			return nil, fmt.Errorf("copying %s: %w", t.name, err)
		}
		res.Resumed = res.Resumed || resumed
	}
	if err := advanceIdentities(ctx, dst); err != nil {
		return nil, err
	}
	for _, t := range tables {
		c := CopyCount{Table: t.name}
		if err := src.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t.name+`"`).Scan(&c.Source); err != nil {
			return nil, err
		}
		if err := dst.r.QueryRowContext(ctx, pgVerbatim+`SELECT COUNT(*) FROM `+pgx.Identifier{t.name}.Sanitize()).Scan(&c.Target); err != nil {
			return nil, err
		}
		res.Counts = append(res.Counts, c)
	}
	if res.Chain, err = dst.VerifyChain(ctx); err != nil {
		return nil, fmt.Errorf("verifying the copied chain: %w", err)
	}
	return res, nil
}

// sourceTables are the source's tables in the order they are copied: a table after those
// its foreign keys reference, and rollup_state last, so that the target's trigger adding
// late probes to the rollups (which reads rolled_to) leaves the copied probes alone.
func sourceTables(ctx context.Context, src *Ledger) ([]copyTable, error) {
	var names []string
	err := src.scanRows(ctx, func(rows *sql.Rows) error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
		return nil
	}, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing the source's tables: %w", err)
	}
	byName := map[string]*copyTable{}
	for _, n := range names {
		t := &copyTable{name: n}
		type col struct {
			name string
			pk   int
		}
		var cols []col
		err := src.scanRows(ctx, func(rows *sql.Rows) error {
			var cid, notNull, pk int
			var name, typ string
			var dflt sql.NullString
			if err := rows.Scan(&cid, &name, &typ, &notNull, &dflt, &pk); err != nil {
				return err
			}
			cols = append(cols, col{name, pk})
			t.columns = append(t.columns, name)
			return nil
		}, `SELECT * FROM pragma_table_info(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("reading the columns of %s: %w", n, err)
		}
		sort.SliceStable(cols, func(i, j int) bool { return cols[i].pk < cols[j].pk })
		for _, c := range cols {
			if c.pk > 0 {
				t.pk = append(t.pk, c.name)
			}
		}
		var withoutRowid bool
		if err := src.r.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?
			AND sql LIKE '%WITHOUT ROWID%'`, n).Scan(&withoutRowid); err != nil {
			return nil, err
		}
		t.key = []string{"rowid"}
		if withoutRowid {
			t.key = t.pk
		}
		err = src.scanRows(ctx, func(rows *sql.Rows) error {
			var parent string
			if err := rows.Scan(&parent); err != nil {
				return err
			}
			if parent != n {
				t.parents = append(t.parents, parent)
			}
			return nil
		}, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
		if err != nil {
			return nil, fmt.Errorf("reading the foreign keys of %s: %w", n, err)
		}
		byName[n] = t
	}
	var out []copyTable
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		t := byName[n]
		if t == nil || state[n] == 2 {
			return nil
		}
		if state[n] == 1 {
			return fmt.Errorf("the foreign keys of %s form a cycle", n)
		}
		state[n] = 1
		for _, p := range t.parents {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, *t)
		return nil
	}
	for _, n := range names {
		if n == "rollup_state" {
			continue
		}
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	if t := byName["rollup_state"]; t != nil {
		out = append(out, *t)
	}
	return out, nil
}

// copyOne copies one table from where an earlier run left it; it says whether there was
// such a run.
func copyOne(ctx context.Context, src, dst *Ledger, t copyTable, o CopyOptions) (bool, error) {
	var hw string
	var copied int64
	var done bool
	err := dst.r.QueryRowContext(ctx, `SELECT high_water, copied, done FROM ledger_copy_progress WHERE tbl = ?`, t.name).
		Scan(&hw, &copied, &done)
	resumed := err == nil
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil || done {
		return resumed, err
	}
	var total int64
	if err := src.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+t.name+`"`).Scan(&total); err != nil {
		return resumed, err
	}
	var last []any
	if hw != "" {
		if err := json.Unmarshal([]byte(hw), &last); err != nil {
			return resumed, fmt.Errorf("the high-water mark %q: %w", hw, err)
		}
		// JSON numbers come back as float64; the keys are integers or text.
		for i, v := range last {
			if f, ok := v.(float64); ok {
				last[i] = int64(f)
			}
		}
	}
	types, err := targetTypes(ctx, dst, t.name)
	if err != nil {
		return resumed, err
	}
	quoted := func(cols []string) string {
		q := make([]string, len(cols))
		for i, c := range cols {
			q[i] = `"` + c + `"`
		}
		return strings.Join(q, ", ")
	}
	keyList := quoted(t.key)
	if t.key[0] == "rowid" {
		keyList = "rowid"
	}
	for {
		q := `SELECT ` + keyList + `, ` + quoted(t.columns) + ` FROM "` + t.name + `"`
		args := []any{}
		if last != nil {
			ph := strings.TrimSuffix(strings.Repeat("?, ", len(last)), ", ")
			q += ` WHERE (` + keyList + `) > (` + ph + `)`
			args = append(args, last...)
		}
		q += ` ORDER BY ` + keyList + ` LIMIT ?`
		args = append(args, o.Batch)
		rows, err := src.r.QueryContext(ctx, q, args...)
		if err != nil {
			return resumed, err
		}
		var batch [][]any
		nk := len(t.key)
		for rows.Next() {
			vals := make([]any, nk+len(t.columns))
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return resumed, err
			}
			batch = append(batch, vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return resumed, err
		}
		if len(batch) > 0 {
			last = batch[len(batch)-1][:nk]
		}
		copied += int64(len(batch))
		mark, err := json.Marshal(last)
		if err != nil {
			return resumed, err
		}
		finished := len(batch) < o.Batch
		if err := writeBatch(ctx, dst, t, types, batch, nk, string(mark), copied, finished); err != nil {
			return resumed, err
		}
		if o.Progress != nil {
			o.Progress(t.name, copied, total)
		}
		if o.afterBatch != nil {
			if err := o.afterBatch(); err != nil {
				return resumed, err
			}
		}
		if finished {
			return resumed, nil
		}
	}
}

// writeBatch inserts a batch of rows and moves the table's high-water mark, in one
// transaction. A row whose key the target's migrations already wrote (rollup_state's) is
// updated to the source's.
func writeBatch(ctx context.Context, dst *Ledger, t copyTable, types map[string]string, batch [][]any, nk int, mark string, copied int64, done bool) error {
	tx, err := dst.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// A statement takes at most 65535 parameters.
	for per := 60000 / len(t.columns); len(batch) > per; batch = batch[per:] {
		if err := insertRows(ctx, tx, t, types, batch[:per], nk); err != nil {
			return err
		}
	}
	if err := insertRows(ctx, tx, t, types, batch, nk); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_copy_progress (tbl, high_water, copied, done) VALUES (?, ?, ?, ?)
		ON CONFLICT (tbl) DO UPDATE SET high_water = excluded.high_water, copied = excluded.copied, done = excluded.done`,
		t.name, mark, copied, done); err != nil {
		return err
	}
	return tx.Commit()
}

// insertRows inserts rows of a batch in one statement.
func insertRows(ctx context.Context, tx *sql.Tx, t copyTable, types map[string]string, batch [][]any, nk int) error {
	if len(batch) == 0 {
		return nil
	}
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	var b strings.Builder
	b.WriteString(pgVerbatim + `INSERT INTO ` + pgx.Identifier{t.name}.Sanitize() + ` (` + strings.Join(cols, ", ") + `) VALUES `)
	var args []any
	for r, row := range batch {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		for i, v := range row[nk:] {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, toTarget(v, types[t.columns[i]]))
			fmt.Fprintf(&b, "$%d", len(args))
		}
		b.WriteString(")")
	}
	if len(t.pk) > 0 {
		pk := make([]string, len(t.pk))
		isPK := map[string]bool{}
		for i, c := range t.pk {
			pk[i] = pgx.Identifier{c}.Sanitize()
			isPK[c] = true
		}
		var set []string
		for _, c := range t.columns {
			if !isPK[c] {
				set = append(set, pgx.Identifier{c}.Sanitize()+" = excluded."+pgx.Identifier{c}.Sanitize())
			}
		}
		if len(set) > 0 {
			b.WriteString(" ON CONFLICT (" + strings.Join(pk, ", ") + ") DO UPDATE SET " + strings.Join(set, ", "))
		}
	}
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

// targetTypes are the PostgreSQL types of a target table's columns.
func targetTypes(ctx context.Context, dst *Ledger, table string) (map[string]string, error) {
	types := map[string]string{}
	err := dst.scanRows(ctx, func(rows *sql.Rows) error {
		var c, t string
		if err := rows.Scan(&c, &t); err != nil {
			return err
		}
		types[c] = t
		return nil
	}, pgVerbatim+`SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, fmt.Errorf("reading the target's columns of %s: %w", table, err)
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("the target has no table %s", table)
	}
	return types, nil
}

// toTarget is a SQLite value as the target column of type typ takes it: SQLite keeps what
// it is given whatever the column's declared type.
func toTarget(v any, typ string) any {
	switch typ {
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	case "text":
		if b, ok := v.([]byte); ok {
			return string(b)
		}
	case "bigint":
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			return int64(f)
		}
	}
	return v
}

// advanceIdentities moves every identity sequence of the target past the largest id its
// table holds, so the next row written gets a new id.
func advanceIdentities(ctx context.Context, dst *Ledger) error {
	type ident struct{ table, column string }
	var ids []ident
	err := dst.scanRows(ctx, func(rows *sql.Rows) error {
		var i ident
		if err := rows.Scan(&i.table, &i.column); err != nil {
			return err
		}
		ids = append(ids, i)
		return nil
	}, pgVerbatim+`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("listing the target's identity columns: %w", err)
	}
	for _, i := range ids {
		t, c := pgx.Identifier{i.table}.Sanitize(), pgx.Identifier{i.column}.Sanitize()
		if _, err := dst.w.ExecContext(ctx, pgVerbatim+`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX(`+c+`), 0) + 1, false) FROM `+t,
			t, i.column); err != nil {
			return fmt.Errorf("advancing the ids of %s: %w", i.table, err)
		}
	}
	return nil
}

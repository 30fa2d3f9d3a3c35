package ledger

import (
	"database/sql"
	"fmt"
	"os"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// CodeIndex is a publicity.CodeIndex in a throw-away SQLite file, so an audit of a large
// export keeps its distinct codes on disk rather than in memory.
type CodeIndex struct {
	db      *sql.DB
	path    string
	tx      *sql.Tx
	ins     *sql.Stmt
	pending int
}

var _ publicity.CodeIndex = (*CodeIndex)(nil)

// NewCodeIndex creates an index in a temporary file in dir ("" for the system default).
func NewCodeIndex(dir string) (*CodeIndex, error) {
	f, err := os.CreateTemp(dir, "creditwatch-codes-*.db")
	if err != nil {
		return nil, fmt.Errorf("creating code index: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+f.Name()+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-16000)")
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	db.SetMaxOpenConns(1)
	idx := &CodeIndex{db: db, path: f.Name()}
	if _, err := db.Exec(`CREATE TABLE codes (code TEXT NOT NULL, name TEXT NOT NULL, valid INTEGER NOT NULL,
		PRIMARY KEY (code, name)) WITHOUT ROWID`); err != nil {
		idx.Close()
		return nil, fmt.Errorf("creating code index: %w", err)
	}
	return idx, nil
}

// Add records that code was used for a subject of that (normalised) name.
func (c *CodeIndex) Add(code, name string, valid bool) error {
	if c.tx == nil {
		tx, err := c.db.Begin()
		if err != nil {
			return err
		}
		if c.ins, err = tx.Prepare(`INSERT OR IGNORE INTO codes VALUES (?, ?, ?)`); err != nil {
			tx.Rollback()
			return err
		}
		c.tx = tx
	}
	if _, err := c.ins.Exec(code, name, valid); err != nil {
		return err
	}
	if c.pending++; c.pending >= 20000 {
		return c.flush()
	}
	return nil
}

func (c *CodeIndex) flush() error {
	if c.tx == nil {
		return nil
	}
	c.ins.Close()
	err := c.tx.Commit()
	c.tx, c.ins, c.pending = nil, nil, 0
	return err
}

// Stats counts distinct, invalid and duplicated codes. A duplicated code is a valid code
// used for two or more different names; an invalid one is counted once, as invalid.
func (c *CodeIndex) Stats() (publicity.CodeStats, error) {
	var st publicity.CodeStats
	if err := c.flush(); err != nil {
		return st, err
	}
	err := c.db.QueryRow(`SELECT
		(SELECT COUNT(DISTINCT code) FROM codes),
		(SELECT COUNT(DISTINCT code) FROM codes WHERE valid = 0),
		(SELECT COUNT(*) FROM (SELECT code FROM codes WHERE valid = 1 GROUP BY code HAVING COUNT(*) > 1))`).
		Scan(&st.Distinct, &st.Invalid, &st.Duplicated)
	return st, err
}

// Close removes the index file.
func (c *CodeIndex) Close() error {
	if c.tx != nil {
		c.ins.Close()
		c.tx.Rollback()
	}
	err := c.db.Close()
	os.Remove(c.path)
	return err
}

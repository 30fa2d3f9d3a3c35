// Package recfile reads licence, penalty and case exports as the office keeps them: CSV in
// UTF-8 or GBK/GB18030, or the first sheet of an XLSX workbook, with a header row of the
// Chinese field names. Records stream one at a time; nothing grows with the file.
package recfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Limits applied when Options leave them 0. A CSV record is all its lines (a quoted field
// may hold line breaks); an XLSX part is one file of the workbook's ZIP, decompressed.
const (
	DefaultMaxRecord     = 1 << 20
	DefaultMaxField      = 256 << 10
	DefaultMaxPartBytes  = 64 << 20
	DefaultMaxTotalBytes = 256 << 20
)

// Row is one data row: its 1-based line (CSV) or row (XLSX) number and its cells.
type Row struct {
	Line   int
	Values []string
}

// Reader yields the rows of one file. Values of a row are valid until the next call.
type Reader interface {
	Header() []string
	// Next returns the next data row, or io.EOF.
	Next() (Row, error)
	// Progress is how far the reader is, in bytes (CSV) or rows (XLSX), and the total if known.
	Progress() (done, total int64, unit string)
	Close() error
}

// Options tune the readers.
type Options struct {
	MaxRecord int // CSV, bytes; DefaultMaxRecord when 0
	MaxField  int // CSV, bytes; DefaultMaxField when 0
	// MaxPartBytes caps each part of an XLSX workbook once decompressed, MaxTotalBytes all
	// of them; DefaultMaxPartBytes and DefaultMaxTotalBytes when 0.
	MaxPartBytes  int64
	MaxTotalBytes int64
	// DateColumns are converted from Excel date serials when an XLSX cell holds one.
	DateColumns map[string]bool
}

func (o Options) withDefaults() Options {
	if o.MaxPartBytes == 0 {
		o.MaxPartBytes = DefaultMaxPartBytes
	}
	if o.MaxTotalBytes == 0 {
		o.MaxTotalBytes = max(DefaultMaxTotalBytes, o.MaxPartBytes)
	}
	return o
}

// Open opens path as CSV or XLSX, by its content (a ZIP signature is XLSX) or extension.
func Open(path string, o Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	isZip := n == 4 && bytes.Equal(magic[:], []byte("PK\x03\x04"))
	ext := strings.ToLower(filepath.Ext(path))
	var r Reader
	switch {
	case isZip || ext == ".xlsx":
		r, err = newXLSX(f, path, st.Size(), o.withDefaults())
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return r, nil
	default:
		r, err = NewCSV(f, st.Size(), o)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	return &closer{Reader: r, c: f}, nil
}

type closer struct {
	Reader
	c io.Closer
}

func (c *closer) Close() error { return errors.Join(c.Reader.Close(), c.c.Close()) }

// countingReader counts bytes for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

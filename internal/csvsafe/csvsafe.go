// Package csvsafe writes CSV that spreadsheets open as data: a cell that a spreadsheet would
// read as a formula (starting with =, +, -, @, a tab or a carriage return) is prefixed with
// an apostrophe, unless it is a number, which stays a number.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// Cell makes one cell safe.
func Cell(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

// Writer is a csv.Writer whose cells are made safe.
type Writer struct{ w *csv.Writer }

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record.
func (w *Writer) Write(record []string) error {
	safe := make([]string, len(record))
	for i, c := range record {
		safe[i] = Cell(c)
	}
	return w.w.Write(safe)
}

// WriteAll writes records and flushes.
func (w *Writer) WriteAll(records [][]string) error {
	for _, r := range records {
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.w.Flush()
	return w.w.Error()
}

// Flush writes any buffered data.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

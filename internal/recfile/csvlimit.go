package recfile

import (
	"errors"
	"fmt"
	"io"
)

// ErrTooLong is wrapped by the error for a CSV record or field over its limit.
var ErrTooLong = errors.New("over the size limit")

// recordLimit fails a read once a CSV record or one of its fields exceeds its limit, before
// encoding/csv buffers it. A quoted field may hold line breaks, so a physical line is no
// bound: it follows the quotes (strict CSV, as the csv.Reader reads it) to find where
// records and fields end.
type recordLimit struct {
	r                   io.Reader
	maxRecord, maxField int
	quoted              bool // inside a quoted field
	record, field       int  // bytes so far
	line                int  // physical line being read, 1-based
	recordLine          int  // line the current record started on
	fieldLine           int  // line the current field started on
}

func newRecordLimit(r io.Reader, maxRecord, maxField int) *recordLimit {
	return &recordLimit{r: r, maxRecord: maxRecord, maxField: maxField, line: 1, recordLine: 1, fieldLine: 1}
}

func (l *recordLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if lerr := l.step(p[i]); lerr != nil {
			return i, lerr
		}
	}
	return n, err
}

func (l *recordLimit) step(c byte) error {
	switch {
	case c == '"':
		// An escaped quote ("") toggles twice; the state stays right for strict CSV.
		l.quoted = !l.quoted
	case c == '\n' && !l.quoted:
		l.line++
		l.record, l.field, l.recordLine, l.fieldLine = 0, 0, l.line, l.line
		return nil
	case c == '\n':
		l.line++
	case c == ',' && !l.quoted:
		l.field, l.fieldLine = -1, l.line // the separator belongs to no field
	}
	l.record++
	l.field++
	switch {
	case l.field > l.maxField:
		return l.tooLong("field", l.fieldLine, l.maxField)
	case l.record > l.maxRecord:
		return l.tooLong("record", l.recordLine, l.maxRecord)
	}
	return nil
}

func (l *recordLimit) tooLong(what string, start, limit int) error {
	msg := fmt.Sprintf("line %d: a %s longer than %d bytes", start, what, limit)
	if l.line > start {
		msg += fmt.Sprintf(", still open at line %d", l.line)
		if l.quoted {
			msg += " inside quotes (a closing quote missing?)"
		}
	}
	return &limitError{msg: msg, kind: ErrTooLong}
}

// limitError is an error over a limit whose text says so already: errors.Is(err, kind)
// holds without kind's text being appended.
type limitError struct {
	msg  string
	kind error
}

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == e.kind }

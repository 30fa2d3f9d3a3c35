package recfile

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

type csvReader struct {
	count  *countingReader
	size   int64
	csv    *csv.Reader
	header []string
	line   int
	enc    string
}

// NewCSV reads CSV from r (size bytes, 0 if unknown). The encoding is UTF-8 when the
// first 64 KiB are valid UTF-8 (or start with a BOM), GB18030 (a superset of GBK) otherwise.
func NewCSV(r io.Reader, size int64, o Options) (Reader, error) {
	if o.MaxRecord == 0 {
		o.MaxRecord = DefaultMaxRecord
	}
	if o.MaxField == 0 {
		o.MaxField = min(DefaultMaxField, o.MaxRecord)
	}
	count := &countingReader{r: r}
	br := bufio.NewReaderSize(count, 64<<10)
	peek, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("reading: %w", err)
	}
	var decoded io.Reader = br
	enc := "UTF-8"
	if !looksUTF8(peek, len(peek) < 64<<10) {
		decoded = transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
		enc = "GB18030"
	}
	c := csv.NewReader(newRecordLimit(decoded, o.MaxRecord, o.MaxField))
	c.FieldsPerRecord = -1
	// Strict quoting: a file cut off inside a quoted field is an error naming its line.
	c.LazyQuotes = false
	c.ReuseRecord = true
	cr := &csvReader{count: count, size: size, csv: c, enc: enc}
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file has no header row")
		}
		if err != nil {
			return nil, cr.wrap(err)
		}
		cr.line, _ = c.FieldPos(0)
		if !blank(rec) {
			cr.header = append([]string(nil), rec...)
			if len(cr.header) > 0 {
				cr.header[0] = trimBOM(cr.header[0])
			}
			return cr, nil
		}
	}
}

func looksUTF8(b []byte, complete bool) bool {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return true
	}
	if !complete {
		// The peek may end inside a character.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	return utf8.Valid(b)
}

func trimBOM(s string) string {
	if len(s) >= 3 && s[:3] == "\ufeff" {
		return s[3:]
	}
	return s
}

func blank(rec []string) bool {
	for _, v := range rec {
		if v != "" {
			return false
		}
	}
	return true
}

func (c *csvReader) Header() []string { return c.header }

func (c *csvReader) Next() (Row, error) {
	for {
		rec, err := c.csv.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Row{}, io.EOF
			}
			return Row{}, c.wrap(err)
		}
		line, _ := c.csv.FieldPos(0)
		if blank(rec) {
			continue
		}
		if c.enc == "UTF-8" {
			for _, v := range rec {
				if !utf8.ValidString(v) {
					return Row{}, fmt.Errorf("line %d is not valid UTF-8, though the start of the file is: mixed encodings?", line)
				}
			}
		}
		return Row{Line: line, Values: rec}, nil
	}
}

func (c *csvReader) wrap(err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, ErrTooLong):
		return err
	case errors.As(err, &pe):
		if errors.Is(pe.Err, ErrTooLong) {
			return pe.Err
		}
		return fmt.Errorf("line %d: malformed CSV (%s): %w", pe.Line, c.enc, pe.Err)
	}
	return fmt.Errorf("reading CSV: %w", err)
}

func (c *csvReader) Progress() (int64, int64, string) { return c.count.n, c.size, "bytes" }

func (c *csvReader) Close() error { return nil }

package recfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/xuri/excelize/v2"
)

type xlsxReader struct {
	f       *excelize.File
	rows    *excelize.Rows
	header  []string
	dates   []bool
	row     int
	values  []string
	closeIn io.Closer
}

// xmlInMemory is the size up to which excelize keeps a worksheet or the shared strings in
// memory; larger ones it extracts to a temporary file and streams.
const xmlInMemory = 4 << 20

// newXLSX opens the workbook at path, already open as r, once checkZip has read every part
// of it within the limits.
func newXLSX(r *os.File, path string, size int64, o Options) (Reader, error) {
	if err := checkZip(r, size, o); err != nil {
		return nil, err
	}
	// excelize reads by path so as not to hold the compressed file in memory; its own limit
	// (on the sizes the headers declare, which archive/zip enforces) still holds should the
	// file change in between.
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: o.MaxTotalBytes,
		UnzipXMLSizeLimit: min(xmlInMemory, o.MaxPartBytes)})
	if err != nil {
		return nil, fmt.Errorf("not a readable XLSX workbook (truncated or damaged?): %w", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, errors.New("the workbook has no sheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading sheet %q: %w", sheets[0], err)
	}
	x := &xlsxReader{f: f, rows: rows, closeIn: r}
	for rows.Next() {
		x.row++
		cols, err := rows.Columns()
		if err != nil {
			x.Close()
			return nil, fmt.Errorf("sheet %q row %d: %w", sheets[0], x.row, err)
		}
		if !blank(cols) {
			x.header = cols
			x.header[0] = trimBOM(x.header[0])
			x.dates = make([]bool, len(cols))
			for i, h := range cols {
				x.dates[i] = o.DateColumns[h]
			}
			return x, nil
		}
	}
	x.Close()
	if err := rows.Error(); err != nil {
		return nil, fmt.Errorf("sheet %q: %w", sheets[0], err)
	}
	return nil, errors.New("the first sheet has no header row")
}

func (x *xlsxReader) Header() []string { return x.header }

func (x *xlsxReader) Next() (Row, error) {
	for x.rows.Next() {
		x.row++
		cols, err := x.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return Row{}, fmt.Errorf("row %d: %w", x.row, err)
		}
		if blank(cols) {
			continue
		}
		for i, v := range cols {
			if i < len(x.dates) && x.dates[i] {
				cols[i] = excelDate(v)
			}
		}
		return Row{Line: x.row, Values: cols}, nil
	}
	if err := x.rows.Error(); err != nil {
		return Row{}, fmt.Errorf("row %d: %w", x.row+1, err)
	}
	return Row{}, io.EOF
}

// excelDate turns a date serial (46000) into 2025-12-09; other text is kept.
func excelDate(v string) string {
	serial, err := strconv.ParseFloat(v, 64)
	if err != nil || serial < 1 || serial > 2958465 {
		return v
	}
	t, err := excelize.ExcelDateToTime(serial, false)
	if err != nil {
		return v
	}
	return t.Format("2006-01-02")
}

func (x *xlsxReader) Progress() (int64, int64, string) { return int64(x.row), 0, "rows" }

func (x *xlsxReader) Close() error {
	var errs []error
	if x.rows != nil {
		errs = append(errs, x.rows.Close())
	}
	errs = append(errs, x.f.Close(), x.closeIn.Close())
	return errors.Join(errs...)
}

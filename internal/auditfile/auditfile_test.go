package auditfile

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/recfile"
	"github.com/creditwatch/creditwatch/internal/workday"
)

var update = flag.Bool("update", false, "rewrite golden files and the XLSX fixture")

var asOf = time.Date(2026, 11, 27, 0, 0, 0, 0, clock.Shanghai)

type want struct {
	total, due, reported, compliant, timely, dueSoon int
	rules                                            map[string]int // of the records counted in the period
	listed, outside                                  int            // violations listed (of every record); records not counted
	distinct, invalid, duplicated                    int
}

// The figures below were worked out by hand from the fixtures; see the comments in
// testdata/README.md for each row.
var penaltyWant = want{
	total: 13, due: 11, reported: 10, compliant: 6, timely: 8, dueSoon: 1,
	rules:  map[string]int{"bad_date": 1, "bad_code": 1, "missing_field": 1, "bad_id_number": 1},
	listed: 7, outside: 1,
	distinct: 9, invalid: 1, duplicated: 1,
}

func TestAuditFixtures(t *testing.T) {
	if *update {
		writeXLSX(t, "testdata/penalty.csv", "testdata/penalty.xlsx")
	}
	tests := map[string]struct {
		file string
		kind publicity.Kind
		want want
	}{
		"penalty csv":  {"testdata/penalty.csv", publicity.Penalty, penaltyWant},
		"penalty gbk":  {"testdata/penalty-gbk.csv", publicity.Penalty, penaltyWant},
		"penalty xlsx": {"testdata/penalty.xlsx", publicity.Penalty, penaltyWant},
		"licence csv": {"testdata/licence.csv", publicity.Licence, want{
			total: 4, due: 3, reported: 3, compliant: 1, timely: 2,
			rules:  map[string]int{"missing_code": 1, "missing_legal_rep": 1, "bad_category": 1, "date_order": 1},
			listed: 4, distinct: 3,
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var vs []publicity.Violation
			res, err := Run(context.Background(), tc.file, Options{Kind: tc.kind, From: clock.YearStart(asOf), AsOf: asOf,
				Violation: func(v publicity.Violation) error { vs = append(vs, v); return nil }})
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			got := []int{res.Total, res.Due, res.Reported, res.Compliant, res.Timely, res.DueSoon}
			exp := []int{w.total, w.due, w.reported, w.compliant, w.timely, w.dueSoon}
			for i, label := range []string{"total", "due", "reported", "compliant", "timely", "due_soon"} {
				if got[i] != exp[i] {
					t.Errorf("%s = %d, want %d", label, got[i], exp[i])
				}
			}
			for rule, n := range w.rules {
				if res.ViolationsByRule[rule] != n {
					t.Errorf("violations of %s = %d, want %d", rule, res.ViolationsByRule[rule], n)
				}
			}
			if len(vs) != w.listed || res.OutsidePeriod != w.outside {
				t.Errorf("%d violations listed, %d records outside the period; want %d and %d: %+v", len(vs),
					res.OutsidePeriod, w.listed, w.outside, vs)
			}
			if res.USCC != (publicity.CodeStats{Distinct: w.distinct, Invalid: w.invalid, Duplicated: w.duplicated}) {
				t.Errorf("codes = %+v, want %d distinct, %d invalid, %d duplicated", res.USCC, w.distinct, w.invalid, w.duplicated)
			}
			if res.GatePass {
				t.Error("the gate passes on a fixture with faults")
			}
			golden := strings.TrimSuffix(filepath.Base(tc.file), filepath.Ext(tc.file))
			if tc.kind == publicity.Penalty {
				golden = "penalty" // every encoding and format must give the same audit
			}
			compareJSON(t, "testdata/"+golden+".golden.json", map[string]any{"result": res, "violations": vs})
		})
	}
}

func TestHolidayDeadline(t *testing.T) {
	// Decided 30 Sep 2026, before National Day: the 7th working day is 15 Oct (10 Oct, a
	// Saturday, is an adjusted working day). Reported on 15 Oct: timely; on 16 Oct: late.
	h := publicity.NewHeader([]string{publicity.FieldPenaltyDate, publicity.FieldReported})
	checker := &publicity.Checker{AsOf: asOf}
	for reported, timely := range map[string]bool{"2026-10-15": true, "2026-10-16": false} {
		r := publicity.Record{Kind: publicity.Penalty, Header: h, Values: []string{"2026-09-30", reported}}
		st := publicity.Assess(r, checker, workday.Default, 7, nil).StatusAt(asOf, asOf.AddDate(0, 0, 3))
		if st.Timely != timely || !st.Reported || !st.Due {
			t.Errorf("reported %s: %+v, want timely=%t", reported, st, timely)
		}
		if st.Deadline.Format(time.DateOnly) != "2026-10-15" {
			t.Errorf("deadline = %s, want 2026-10-15", st.Deadline.Format(time.DateOnly))
		}
	}
}

func TestUnreadableFiles(t *testing.T) {
	dir := t.TempDir()
	xlsx, _ := os.ReadFile("testdata/penalty.xlsx")
	truncated := filepath.Join(dir, "truncated.xlsx")
	os.WriteFile(truncated, xlsx[:len(xlsx)/2], 0o644)
	longLine := filepath.Join(dir, "long-line.csv")
	f, _ := os.Create(longLine)
	f.WriteString(strings.Join(publicity.Schemas[publicity.Penalty].Columns(), ",") + "\n")
	chunk := []byte(strings.Repeat("信用", 1<<19)) // 3 MiB of text without a newline
	for i := 0; i < 34; i++ {                    // > 100 MB in one line
		f.Write(chunk)
	}
	f.Close()
	unterminated := filepath.Join(dir, "quote.csv")
	os.WriteFile(unterminated, []byte("行政处罚决定书文号,处罚决定日期\n\"濮环罚〔2026〕1号,2026-01-01\n"), 0o644)
	tests := map[string]struct {
		file, kind, want string
	}{
		"truncated xlsx": {truncated, "penalty", "not a readable XLSX workbook (truncated or damaged?)"},
		"100 MB line":    {longLine, "penalty", "line 2: a field longer than 262144 bytes"},
		"quoted field over lines": {writeTemp(t, dir, "multiline.csv", "行政处罚决定书文号,处罚决定日期\n\"濮环罚"+strings.Repeat("信用\n", 1<<17)+"\",2026-01-01\n"),
			"penalty", "line 2: a field longer than 262144 bytes, still open at line 37449 inside quotes (a closing quote missing?)"},
		"wrong kind":     {"testdata/licence.csv", "penalty", "the header has neither 行政处罚决定书文号 nor 处罚决定日期: not a penalty export (wrong --kind?)"},
		"missing file":   {filepath.Join(dir, "nope.csv"), "penalty", "no such file or directory"},
		"empty file":     {writeTemp(t, dir, "empty.csv", ""), "penalty", "the file has no header row"},
		"unterminated":   {unterminated, "penalty", `line 2: malformed CSV (UTF-8)`},
		"binary garbage": {writeTemp(t, dir, "garbage.csv", "\x00\x01\x02PK\xff\xfe"), "penalty", "not a penalty export"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			kind, _ := publicity.ParseKind(tc.kind)
			_, err := Run(context.Background(), tc.file, Options{Kind: kind, AsOf: asOf})
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error = %v, want ErrUnreadable", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func compareJSON(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("audit differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// writeXLSX converts the CSV fixture to a workbook, with the decision and validity dates as
// real Excel dates, as the office's exports have them.
func writeXLSX(t *testing.T, csvPath, xlsxPath string) {
	t.Helper()
	r, err := recfile.Open(csvPath, recfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := excelize.NewFile()
	defer f.Close()
	sheet := "双公示数据"
	f.SetSheetName("Sheet1", sheet)
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	header := r.Header()
	f.SetSheetRow(sheet, "A1", &header)
	for rowNo := 2; ; rowNo++ {
		row, err := r.Next()
		if err != nil {
			break
		}
		for i, v := range row.Values {
			cell, _ := excelize.CoordinatesToCellName(i+1, rowNo)
			if header[i] == publicity.FieldPenaltyDate || header[i] == publicity.FieldPenaltyValid {
				if d, err := publicity.ParseDate(v); err == nil {
					f.SetCellValue(sheet, cell, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC))
					f.SetCellStyle(sheet, cell, cell, dateStyle)
					continue
				}
			}
			f.SetCellStr(sheet, cell, v)
		}
	}
	if err := f.SaveAs(xlsxPath); err != nil {
		t.Fatal(err)
	}
}

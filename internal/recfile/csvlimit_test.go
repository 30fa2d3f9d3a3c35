package recfile

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCSVRecordAndFieldLimits(t *testing.T) {
	o := Options{MaxRecord: 100, MaxField: 40}
	tests := map[string]struct {
		in   string
		rows int    // rows read before the error (or all rows)
		err  string // exact error; "" for none
	}{
		"quoted field over lines": {in: "a,b\n1,2\n3,\"" + strings.Repeat("x\n", 30) + "\"\n",
			rows: 1, err: "line 3: a field longer than 40 bytes, still open at line 23 inside quotes (a closing quote missing?)"},
		"long unquoted field": {in: "a,b\n" + strings.Repeat("y", 50) + ",2\n",
			err: "line 2: a field longer than 40 bytes"},
		"record of short fields": {in: "a,b\n" + strings.Repeat("z,", 60) + "\n",
			err: "line 2: a record longer than 100 bytes"},
		"record over lines": {in: "a,b\n1,\"" + strings.Repeat("p\n", 15) + "\",\"" + strings.Repeat("q\n", 15) + "\"," + strings.Repeat("r", 39) + "\n",
			err: "line 2: a record longer than 100 bytes, still open at line 32"},
		"escaped quotes stay in the field": {in: "a,b\n\"say \"\"hi\"\"\n" + strings.Repeat("w", 20) + "\",2\n3,4\n", rows: 2},
		"each record counted afresh":       {in: "a,b\n" + strings.Repeat("\""+strings.Repeat("v\n", 15)+"\",1\n", 50), rows: 50},
		"unterminated quote at the end":    {in: "a,b\n1,\"2\n", err: `line 2: malformed CSV (UTF-8): extraneous or missing " in quoted-field`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tc.in), 0, o)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			if tc.err == "" {
				if !errors.Is(err, io.EOF) {
					t.Fatalf("error = %v", err)
				}
			} else if err == nil || err.Error() != tc.err {
				t.Fatalf("error\n got: %v\nwant: %s", err, tc.err)
			}
			if tc.err != "" && strings.Contains(tc.err, "longer than") && !errors.Is(err, ErrTooLong) {
				t.Errorf("%v is not ErrTooLong", err)
			}
			if n != tc.rows {
				t.Errorf("%d rows before the end, want %d", n, tc.rows)
			}
		})
	}
}

package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCells(t *testing.T) {
	tests := map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
		"+1+1":               "'+1+1",
		"-2+3":               "'-2+3",
		"@SUM(A1)":           "'@SUM(A1)",
		"\tx":                "'\tx",
		"\rx":                "'\rx",
		"-2":                 "-2",
		"+3.5":               "+3.5",
		"-0.25":              "-0.25",
		"1e-05":              "1e-05",
		"濮阳市商务局":             "濮阳市商务局",
		"":                   "",
		"a=b":                "a=b",
	}
	for in, want := range tests {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriterReadsBackAsText(t *testing.T) {
	var buf bytes.Buffer
	if err := NewWriter(&buf).WriteAll([][]string{{"部门", "金额"}, {"=HYPERLINK(\"http://x\")", "-2"}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != `'=HYPERLINK("http://x")` || rows[1][1] != "-2" {
		t.Errorf("rows = %q", rows)
	}
}

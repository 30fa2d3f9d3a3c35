package recfile

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func rows(t *testing.T, r Reader) []Row {
	t.Helper()
	var out []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Row{Line: row.Line, Values: append([]string(nil), row.Values...)})
	}
}

func TestCSVEncodings(t *testing.T) {
	text := "\n行政相对人名称,处罚决定日期\n濮阳市恒信化工有限公司,2026-09-01\n\n张三,2026年4月1日\n"
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(text)
	tests := map[string]string{
		"utf-8":     text,
		"utf-8 bom": "\ufeff" + strings.TrimPrefix(text, "\n"),
		"gbk":       gbk,
		"crlf":      strings.ReplaceAll(text, "\n", "\r\n"),
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(in), int64(len(in)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if h := r.Header(); h[0] != "行政相对人名称" || h[1] != "处罚决定日期" {
				t.Errorf("header = %q", h)
			}
			got := rows(t, r)
			if len(got) != 2 || got[0].Values[0] != "濮阳市恒信化工有限公司" || got[1].Values[1] != "2026年4月1日" {
				t.Errorf("rows = %+v", got)
			}
			if got[1].Line < 4 {
				t.Errorf("second row reported at line %d", got[1].Line)
			}
			if done, total, _ := r.Progress(); done != total {
				t.Errorf("progress %d of %d at the end", done, total)
			}
		})
	}
}

func TestGBKBeyondThePeek(t *testing.T) {
	// 70 KiB of ASCII decide "UTF-8"; a GBK line after them must be an error naming it,
	// not garbled text audited as if it were right.
	var b bytes.Buffer
	b.WriteString("a,b\n")
	lines := 1
	for b.Len() < 70<<10 {
		b.WriteString("1,2\n")
		lines++
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("濮阳,信用\n")
	b.WriteString(gbk)
	r, err := NewCSV(&b, 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := r.Next()
		if err == nil {
			continue
		}
		want := "line " + strconv.Itoa(lines+1) + " is not valid UTF-8"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want %q", err, want)
		}
		return
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("行政相对人名称,处罚决定日期\n甲,2026-01-01\n"))
	f.Add([]byte("a,\"b\nc\",d\n"))
	f.Add([]byte("\xef\xbb\xbfa\n\"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewCSV(bytes.NewReader(data), int64(len(data)), Options{MaxRecord: 256, MaxField: 64})
		if err != nil {
			return
		}
		for i := 0; i < 10000; i++ {
			row, err := r.Next()
			if err != nil {
				return
			}
			if row.Line < 1 {
				t.Fatalf("row at line %d", row.Line)
			}
		}
	})
}

package recfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

func writeXLSX(t testing.TB, parts []testutil.Part) string {
	t.Helper()
	var b bytes.Buffer
	if err := testutil.WriteWorkbook(&b, parts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.xlsx")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var goodRows = [][]string{{"行政相对人名称", "处罚决定日期"}, {"濮阳市恒信化工有限公司", "2026-09-01"}}

func withPart(name string, data []byte) []testutil.Part {
	return append(testutil.WorkbookParts(goodRows), testutil.Part{Name: name, Data: data})
}

func TestXLSXLimits(t *testing.T) {
	// Worksheets 4 MiB each, the shared strings 1 MiB, any other part 128 KiB; parts other
	// than worksheets 2 MiB together, all parts 8 MiB.
	o := Options{MaxPartBytes: 4 << 20, MaxTotalBytes: 8 << 20}
	big := Options{MaxPartBytes: 16 << 20, MaxTotalBytes: 32 << 20}
	bomb := testutil.SharedStringBomb(8 << 20)
	lying := testutil.SharedStringBomb(8 << 20)
	lying[len(lying)-1].DeclaredSize = 1000
	sheets, media := testutil.WorkbookParts(goodRows), testutil.WorkbookParts(goodRows)
	for i := range 3 {
		sheets = append(sheets, testutil.Part{Name: fmt.Sprintf("xl/worksheets/sheet%d.xml", i+2), Data: bytes.Repeat([]byte("<row/>"), 512<<10)})
	}
	for i := range 20 {
		media = append(media, testutil.Part{Name: fmt.Sprintf("xl/media/image%d.png", i), Data: bytes.Repeat([]byte("B"), 120<<10)})
	}
	many := testutil.WorkbookParts(goodRows)
	for i := range 12000 {
		many = append(many, testutil.Part{Name: fmt.Sprintf("xl/media/%0100d.bin", i)})
	}
	tests := map[string]struct {
		parts []testutil.Part
		o     Options
		want  string
	}{
		"shared-string bomb": {parts: bomb, o: o,
			want: "part xl/sharedStrings.xml declares 8388765 bytes decompressed, over the 1048576-byte limit on the shared strings"},
		"header lies about the size": {parts: lying, o: o, want: "part xl/sharedStrings.xml: zip: not a valid zip file"},
		"styles": {parts: withPart("xl/styles.xml", bytes.Repeat([]byte("<xf/>"), 40<<10)), o: o,
			want: "part xl/styles.xml declares 204800 bytes decompressed, over the 131072-byte limit on a part other than a worksheet or the shared strings"},
		"worksheets add up": {parts: sheets, o: o,
			want: "the parts add up to more than 8388608 bytes decompressed, over the limit on a workbook"},
		"parts read whole add up": {parts: media, o: o,
			want: "the parts other than worksheets add up to more than 2097152 bytes decompressed, over the limit on what is read whole"},
		"one huge cell": {parts: withPart("xl/sharedStrings.xml", []byte("<sst><si><t>"+strings.Repeat("信", 400<<10)+"</t></si></sst>")),
			o: big, want: "part xl/sharedStrings.xml holds a text or tag longer than 1048576 bytes (a cell holds at most 32,767 characters)"},
		"one huge CDATA": {parts: withPart("xl/sharedStrings.xml", []byte("<sst><si><t><![CDATA["+strings.Repeat("<信>", 300<<10)+"]]></t></si></sst>")),
			o: big, want: "part xl/sharedStrings.xml holds a text or tag longer than 1048576 bytes (a cell holds at most 32,767 characters)"},
		"too many parts": {parts: many, o: o, want: "the ZIP directory takes 1908325 bytes, over the 1048576-byte limit (too many parts)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := writeXLSX(t, tc.parts)
			r, err := Open(path, tc.o)
			if err == nil {
				r.Close()
				t.Fatal("opened without error")
			}
			if want := path + ": " + tc.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n got: %v\nwant: %s", err, want)
			}
		})
	}
}

func TestXLSXWithinLimits(t *testing.T) {
	tests := map[string][]testutil.Part{
		"inline strings": testutil.WorkbookParts(goodRows),
		"short CDATA":    withPart("xl/media/note.xml", []byte("<n><![CDATA[a]]b>c]]></n>")),
		"binary media":   withPart("xl/media/image1.png", bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 8<<10)),
	}
	for name, parts := range tests {
		t.Run(name, func(t *testing.T) {
			r, err := Open(writeXLSX(t, parts), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := rows(t, r)
			if len(got) != 1 || got[0].Values[0] != "濮阳市恒信化工有限公司" || r.Header()[1] != "处罚决定日期" {
				t.Errorf("header %q, rows %+v", r.Header(), got)
			}
		})
	}
}

func TestTokenGuard(t *testing.T) {
	tests := map[string]struct {
		in string
		ok bool
	}{
		"short tokens":          {in: "<a>" + strings.Repeat("x", 100) + "</a>", ok: true},
		"long text":             {in: "<a>" + strings.Repeat("x", 200) + "</a>"},
		"long tag":              {in: "<a b='" + strings.Repeat("x", 200) + "'/>"},
		"cdata counts as one":   {in: "<![CDATA[" + strings.Repeat("<x>", 70) + "]]>"},
		"cdata ends at ]]>":     {in: "<a><![CDATA[" + strings.Repeat("x", 90) + "]]]>" + strings.Repeat("<y/>", 100), ok: true},
		"not cdata":             {in: "<![CDATX[" + strings.Repeat("<x>", 70), ok: true},
		"split across writes":   {in: strings.Repeat("<a>"+strings.Repeat("x", 99), 50), ok: true},
		"bracket outside cdata": {in: "<a>]]>" + strings.Repeat("x", 90) + "</a>", ok: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := &tokenGuard{part: "p.xml", max: 128}
			var err error
			for b := []byte(tc.in); len(b) > 0 && err == nil; b = b[min(7, len(b)):] {
				_, err = g.Write(b[:min(7, len(b))])
			}
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error = %v, want ok=%t", err, tc.ok)
			}
		})
	}
}

package pagetext

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

func compress(t *testing.T, enc string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "zlib":
		w = zlib.NewWriter(&b)
	case "flate":
		w, _ = flate.NewWriter(&b, flate.DefaultCompression)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestReadBody(t *testing.T) {
	page := []byte("<html><body>信用濮阳</body></html>")
	tests := map[string]struct {
		body     []byte
		encoding string
		limit    int64
		want     error
	}{
		"plain":                 {body: page, limit: 1 << 10},
		"identity":              {body: page, encoding: "identity", limit: 1 << 10},
		"gzip":                  {body: compress(t, "gzip", page), encoding: "gzip", limit: 1 << 10},
		"zlib deflate":          {body: compress(t, "zlib", page), encoding: "deflate", limit: 1 << 10},
		"raw deflate":           {body: compress(t, "flate", page), encoding: "Deflate", limit: 1 << 10},
		"exactly the limit":     {body: page, limit: int64(len(page))},
		"one byte over":         {body: page, limit: int64(len(page)) - 1, want: ErrTooLarge},
		"gzip over after unzip": {body: compress(t, "gzip", bytes.Repeat([]byte("a"), 4096)), encoding: "gzip", limit: 1000, want: ErrTooLarge},
		"unknown encoding":      {body: page, encoding: "br", limit: 1 << 10, want: ErrEncoding},
		"corrupt gzip":          {body: []byte("\x1f\x8b\x08\x00garbage"), encoding: "gzip", limit: 1 << 10, want: ErrEncoding},
		"gzip header, not gzip": {body: page, encoding: "gzip", limit: 1 << 10, want: ErrEncoding},
		"truncated gzip":        {body: compress(t, "gzip", page)[:20], encoding: "gzip", limit: 1 << 10, want: ErrEncoding},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadBody(bytes.NewReader(tc.body), tc.encoding, tc.limit)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || !bytes.Equal(got, page) {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String(`<meta charset="gbk"><p>信用报告</p>`)
	tests := map[string]struct {
		body, contentType string
	}{
		"utf-8":          {body: "<p>信用报告</p>", contentType: "text/html; charset=utf-8"},
		"utf-8 with bom": {body: "\xef\xbb\xbf<p>信用报告</p>", contentType: "text/html"},
		"gbk by meta":    {body: gbk, contentType: "text/html"},
		"gbk by header":  {body: gbk, contentType: "text/html; charset=GB18030"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Decode([]byte(tc.body), tc.contentType); !strings.Contains(got, "信用报告") || strings.HasPrefix(got, "\ufeff") {
				t.Errorf("Decode = %q", got)
			}
		})
	}
}

func TestParseHTMLTooDeep(t *testing.T) {
	if _, err := ParseHTML(strings.Repeat("<div>", 100_000)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("100,000 nested divs: err = %v, want ErrTooDeep", err)
	}
	if _, err := ParseHTML(strings.Repeat("<div>", 400)); err != nil {
		t.Errorf("400 nested divs: %v", err)
	}
}

// chunky hands out its bytes a few at a time, as a network connection does.
type chunky struct {
	b []byte
	n int
}

func (c *chunky) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.n, len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestReadPooled(t *testing.T) {
	big := bytes.Repeat([]byte("信用濮阳 "), 20_000) // 260,000 bytes: several classes up
	tests := map[string]struct {
		body        []byte
		limit, hint int64
		tooLarge    bool
	}{
		"small, unknown length":      {body: []byte("<p>信用</p>"), limit: 1 << 20, hint: -1},
		"empty":                      {body: nil, limit: 1 << 10, hint: 0},
		"big, unknown length":        {body: big, limit: 1 << 20, hint: -1},
		"big, known length":          {body: big, limit: 1 << 20, hint: int64(len(big))},
		"exactly the limit":          {body: big, limit: int64(len(big)), hint: -1},
		"exactly the limit, hinted":  {body: big, limit: int64(len(big)), hint: int64(len(big))},
		"one byte over":              {body: big, limit: int64(len(big)) - 1, hint: -1, tooLarge: true},
		"one byte over, hinted":      {body: big, limit: int64(len(big)) - 1, hint: int64(len(big)), tooLarge: true},
		"lying length, longer body":  {body: big, limit: 1 << 20, hint: 100},
		"far over, at a class edge":  {body: make([]byte, 1<<20), limit: 1 << 16, hint: -1, tooLarge: true},
		"far over, a class boundary": {body: make([]byte, 1<<17), limit: 1<<16 - 1, hint: -1, tooLarge: true},
	}
	for name, tc := range tests {
		for _, chunk := range []int{1 << 20, 4096, 7} {
			b, err := ReadPooled(&chunky{b: tc.body, n: chunk}, tc.limit, tc.hint)
			switch {
			case tc.tooLarge && !errors.Is(err, ErrTooLarge):
				t.Errorf("%s (reads of %d): err = %v, want ErrTooLarge", name, chunk, err)
			case tc.tooLarge && int64(len(*b)) != tc.limit+1:
				t.Errorf("%s (reads of %d): read %d bytes, want the limit and one", name, chunk, len(*b))
			case !tc.tooLarge && (err != nil || !bytes.Equal(*b, tc.body)):
				t.Errorf("%s (reads of %d): got %d bytes, %v; want %d", name, chunk, len(*b), err, len(tc.body))
			}
			PutBuffer(b)
		}
	}
}

func TestBufferClasses(t *testing.T) {
	for _, n := range []int{0, 1, 16 << 10, 16<<10 + 1, 50 << 10, 5 << 20, 5<<20 + 1, 64 << 20, 64<<20 + 1, 200 << 20} {
		b := GetBuffer(n)
		if len(*b) != 0 || cap(*b) < n {
			t.Errorf("GetBuffer(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		*b = append(*b, "dirty"...)
		PutBuffer(b)
		if again := GetBuffer(n); len(*again) != 0 || cap(*again) < n {
			t.Errorf("GetBuffer(%d) again: len %d cap %d", n, len(*again), cap(*again))
		}
	}
}

func TestDecodeText(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.Repeat([]byte("<p>信用报告 credit</p>"), 5000))
	page := append([]byte(`<meta charset="gbk">`), gbk...)
	txt := DecodeText(page, "text/html")
	if want := Decode(page, "text/html"); string(txt.B) != want || !bytes.Contains(txt.B, []byte("信用报告")) {
		t.Errorf("DecodeText of a GBK page differs from Decode (%d and %d bytes)", len(txt.B), len(want))
	}
	txt.Release()
	utf := []byte("\xef\xbb\xbf<p>信用报告</p>")
	txt = DecodeText(utf, "text/html; charset=utf-8")
	if string(txt.B) != "<p>信用报告</p>" || &txt.B[0] != &utf[3] {
		t.Errorf("a UTF-8 page is decoded as %q, or copied", txt.B)
	}
	txt.Release()
}

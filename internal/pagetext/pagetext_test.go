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

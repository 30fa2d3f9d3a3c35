// Package pagetext turns a fetched page into text the way a browser would: it reads the body
// under a size limit (undoing a Content-Encoding under the same limit), decodes it to UTF-8 by
// its BOM, Content-Type charset or meta charset (UTF-8, GBK, GB18030 and the rest of the
// WHATWG encodings), and parses HTML with a bounded nesting depth. It is a leaf package
// shared by the portal probe, the credit report check and the defacement check.
package pagetext

import (
	"bytes"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

var utf8BOM = []byte("\xef\xbb\xbf")

// Decode decodes a page to UTF-8 by its BOM, Content-Type charset or meta charset.
// Bytes that are not valid in the detected encoding become U+FFFD, as in a browser.
func Decode(body []byte, contentType string) string {
	t := DecodeText(body, contentType)
	s := string(t.B)
	t.Release()
	return s
}

// Text is a page decoded to UTF-8. B is the body itself (a UTF-8 page, its BOM cut) or a
// borrowed buffer (any other encoding), valid until Release.
type Text struct {
	B   []byte
	buf *[]byte
}

// Release gives the text's buffer back; B must not be used afterwards.
func (t *Text) Release() {
	PutBuffer(t.buf)
	t.B, t.buf = nil, nil
}

// DecodeText decodes a page to UTF-8 as Decode does, without copying a UTF-8 page and
// without converting the text to a string: what a probe matches its expectations in.
func DecodeText(body []byte, contentType string) Text {
	enc, name, _ := charset.DetermineEncoding(body, contentType)
	if name == "utf-8" {
		return Text{B: bytes.TrimPrefix(body, utf8BOM)}
	}
	buf := GetBuffer(len(body) + len(body)/2 + 64)
	dec := enc.NewDecoder()
	src := body
	for {
		dst := (*buf)[len(*buf):cap(*buf)]
		nDst, nSrc, err := dec.Transform(dst, src, true)
		*buf = (*buf)[:len(*buf)+nDst]
		src = src[nSrc:]
		if err == nil {
			return Text{B: *buf, buf: buf}
		}
		if err != transform.ErrShortDst || nDst == 0 && nSrc == 0 && cap(*buf)-len(*buf) >= 64 {
			// What cannot be decoded is kept as it came, as a browser would show it.
			PutBuffer(buf)
			return Text{B: body}
		}
		buf = grow(buf, max(len(src)+len(src)/2, 64))
	}
}

// Package pagetext turns a fetched page into text the way a browser would: it reads the body
// under a size limit (undoing a Content-Encoding under the same limit), decodes it to UTF-8 by
// its BOM, Content-Type charset or meta charset (UTF-8, GBK, GB18030 and the rest of the
// WHATWG encodings), and parses HTML with a bounded nesting depth. It is a leaf package
// shared by the portal probe, the credit report check and the defacement check.
package pagetext

import (
	"bytes"

	"golang.org/x/net/html/charset"
)

// Decode decodes a page to UTF-8 by its BOM, Content-Type charset or meta charset.
// Bytes that are not valid in the detected encoding become U+FFFD, as in a browser.
func Decode(body []byte, contentType string) string {
	enc, name, _ := charset.DetermineEncoding(body, contentType)
	if name == "utf-8" {
		return string(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return string(body)
	}
	return string(out)
}

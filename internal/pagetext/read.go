package pagetext

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors of reading a body. They are wrapped with what was being done; test with errors.Is.
var (
	// ErrTooLarge: the body, after undoing its Content-Encoding, is larger than the limit.
	ErrTooLarge = errors.New("body larger than the limit")
	// ErrEncoding: the Content-Encoding is unknown or its data is corrupt.
	ErrEncoding = errors.New("bad content encoding")
)

// ReadBody reads at most limit bytes of a body, undoing its Content-Encoding (gzip, x-gzip,
// deflate, identity or none). More than limit bytes, before or after decompression, is
// ErrTooLarge: memory stays within about limit bytes whatever the body holds, a 1 GB body
// or a gzip bomb alike. Callers that let net/http decompress pass an empty encoding.
func ReadBody(r io.Reader, contentEncoding string, limit int64) ([]byte, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("reading body: limit %d is not positive", limit)
	}
	dec, err := decoder(r, contentEncoding)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(dec, limit+1))
	if err != nil {
		if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
			return nil, fmt.Errorf("reading %s body: %w: %w", contentEncoding, ErrEncoding, err)
		}
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("reading body: %w (%d bytes)", ErrTooLarge, limit)
	}
	return body, nil
}

func decoder(r io.Reader, contentEncoding string) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
		return r, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("opening gzip body: %w: %w", ErrEncoding, err)
		}
		return zr, nil
	case "deflate":
		// RFC 9110's deflate is zlib-wrapped; some servers send raw deflate.
		head := make([]byte, 2)
		n, _ := io.ReadFull(r, head)
		all := io.MultiReader(bytes.NewReader(head[:n]), r)
		if n == 2 && head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
			zr, err := zlib.NewReader(all)
			if err != nil {
				return nil, fmt.Errorf("opening deflate body: %w: %w", ErrEncoding, err)
			}
			return zr, nil
		}
		return flate.NewReader(all), nil
	}
	return nil, fmt.Errorf("reading body: %w: %q", ErrEncoding, contentEncoding)
}

package creditreport

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"

	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// Formats of a report.
const (
	FormatHTML = "html"
	FormatPDF  = "pdf"
)

// Limits bound what reading one report may cost.
type Limits struct {
	// MaxBodyBytes bounds the body after its Content-Encoding is undone.
	MaxBodyBytes int64
	// MaxDecompressedBytes bounds a PDF's streams inflated, all together.
	MaxDecompressedBytes int64
	// MaxPages bounds a PDF's pages.
	MaxPages int
	// MaxTextBytes bounds the text extracted from a PDF.
	MaxTextBytes int64
}

// DefaultLimits are generous for a real report (tens of pages, a few MB).
func DefaultLimits() Limits {
	return Limits{MaxBodyBytes: 16 << 20, MaxDecompressedBytes: 64 << 20, MaxPages: 1000, MaxTextBytes: 8 << 20}
}

func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	if l.MaxDecompressedBytes <= 0 {
		l.MaxDecompressedBytes = d.MaxDecompressedBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = d.MaxPages
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = d.MaxTextBytes
	}
	return l
}

// Document is a report's text, one line per line of the report (a PDF text line, an HTML
// block or table row with cells separated by tabs).
type Document struct {
	Format string
	Text   string
}

// Read reads a report body straight from the wire: at most lim.MaxBodyBytes after undoing
// contentEncoding (pass "" when net/http already undid it), then Extract. Every error is a
// *ReadError.
func Read(r io.Reader, contentType, contentEncoding string, lim Limits) (*Document, error) {
	lim = lim.orDefaults()
	body, err := pagetext.ReadBody(r, contentEncoding, lim.MaxBodyBytes)
	switch {
	case errors.Is(err, pagetext.ErrTooLarge):
		return nil, &ReadError{Class: ClassTooLarge, Err: err}
	case err != nil:
		return nil, &ReadError{Class: ClassEncoding, Err: err}
	}
	return Extract(body, contentType, lim)
}

// Extract turns a body already read (and capped by the caller) into text: a PDF by its
// signature or Content-Type, HTML by its Content-Type or markup, decoded as the portal
// probe decodes pages. Every error is a *ReadError.
func Extract(body []byte, contentType string, lim Limits) (*Document, error) {
	lim = lim.orDefaults()
	if int64(len(body)) > lim.MaxBodyBytes {
		return nil, readErr(ClassTooLarge, "reading report: %d bytes, limit %d", len(body), lim.MaxBodyBytes)
	}
	switch sniff(body, contentType) {
	case FormatPDF:
		text, err := pdfText(body, lim)
		if err != nil {
			return nil, err
		}
		return &Document{Format: FormatPDF, Text: text}, nil
	case FormatHTML:
		text, err := htmlText(pagetext.Decode(body, contentType))
		if err != nil {
			return nil, err
		}
		return &Document{Format: FormatHTML, Text: text}, nil
	}
	media, _, _ := mime.ParseMediaType(contentType)
	return nil, readErr(ClassContentType, "reading report: content type %q is neither HTML nor PDF", media)
}

func sniff(body []byte, contentType string) string {
	head := bytes.TrimLeft(body[:min(len(body), 1024)], "\xef\xbb\xbf \t\r\n")
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return FormatPDF
	}
	media, _, _ := mime.ParseMediaType(contentType)
	switch media {
	case "application/pdf", "application/x-pdf":
		return FormatPDF // a PDF without its signature: pdfText says what is wrong
	case "text/html", "application/xhtml+xml":
		return FormatHTML
	case "", "application/octet-stream", "text/plain":
		if bytes.Contains(bytes.ToLower(head), []byte("<html")) || bytes.Contains(bytes.ToLower(head), []byte("<!doctype html")) {
			return FormatHTML
		}
	}
	return ""
}

// lines splits text into its non-empty lines.
func lines(text string) []string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

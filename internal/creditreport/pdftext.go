package creditreport

import (
	"bytes"
	"strings"

	"github.com/ledongthuc/pdf"
)

// pdfText extracts a PDF's text page by page with a pure-Go reader, behind the stream
// guard of pdfguard.go. The reader reports damage by panicking; every call into it is
// made under recover.
func pdfText(body []byte, lim Limits) (string, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("%PDF-")) {
		return "", readErr(ClassPDFBroken, "reading pdf: no %%PDF- signature")
	}
	tail := body[max(0, len(body)-1024):]
	if !bytes.Contains(tail, []byte("%%EOF")) || !bytes.Contains(tail, []byte("startxref")) {
		return "", readErr(ClassPDFTruncated, "reading pdf: no startxref and %%%%EOF at the end (%d bytes)", len(body))
	}
	sizes, err := streamSizes(body, lim.MaxDecompressedBytes)
	if err != nil {
		return "", readErr(ClassPDFDecompressed, "reading pdf: %w (limit %d bytes)", err, lim.MaxDecompressedBytes)
	}
	ra := &budgetReaderAt{data: body, sizes: sizes, left: 4 * lim.MaxDecompressedBytes}
	text, err := readPages(ra, int64(len(body)), lim)
	if ra.exceeded() {
		return "", readErr(ClassPDFDecompressed, "reading pdf: the reader inflated streams past its work budget of %d bytes", 4*lim.MaxDecompressedBytes)
	}
	return text, err
}

func readPages(ra *budgetReaderAt, size int64, lim Limits) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = readErr(ClassPDFBroken, "reading pdf: %v", p)
		}
	}()
	r, err := pdf.NewReader(ra, size)
	if err != nil {
		return "", readErr(ClassPDFBroken, "opening pdf: %w", err)
	}
	pages, err := pageList(r.Trailer().Key("Root").Key("Pages"), lim.MaxPages)
	if err != nil {
		return "", err
	}
	if len(pages) == 0 {
		return "", readErr(ClassPDFBroken, "reading pdf: no pages")
	}
	fonts := fontDecoders{}
	var b strings.Builder
	for i, p := range pages {
		t, err := pageText(p, fonts)
		if err != nil {
			return "", readErr(ClassPDFBroken, "reading pdf page %d: %w", i+1, err)
		}
		b.WriteString(t)
		b.WriteString("\n")
		if int64(b.Len()) > lim.MaxTextBytes {
			return "", readErr(ClassTooLarge, "reading pdf: text past %d bytes by page %d", lim.MaxTextBytes, i+1)
		}
	}
	return b.String(), nil
}

// pageList walks the page tree depth first with bounded depth and visits, so that a tree
// whose kids loop back costs nothing more than a refusal.
func pageList(root pdf.Value, maxPages int) ([]pdf.Page, error) {
	var pages []pdf.Page
	visits := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		visits++
		if depth > 32 || visits > 4*maxPages+64 {
			return readErr(ClassPDFBroken, "reading pdf: page tree too deep or looping")
		}
		switch v.Key("Type").Name() {
		case "Page":
			if len(pages) == maxPages {
				return readErr(ClassTooLarge, "reading pdf: more than %d pages", maxPages)
			}
			pages = append(pages, pdf.Page{V: v})
		case "Pages":
			kids := v.Key("Kids")
			for i := 0; i < kids.Len(); i++ {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(root, 0)
	return pages, err
}

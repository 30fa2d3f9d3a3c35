package recfile

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrTooLarge is wrapped by the error for a workbook over a decompression limit.
var ErrTooLarge = errors.New("workbook over the decompression limit")

const (
	// maxDirectoryBytes bounds the ZIP central directory (about 10,000 parts), read whole
	// by archive/zip before anything else.
	maxDirectoryBytes = 1 << 20
	// maxXMLToken bounds one text or tag of an XML part: Excel's cells hold at most 32,767
	// characters, under 200 KB even escaped, and the XML decoder holds a token whole.
	maxXMLToken = 1 << 20
)

// checkZip reads every part of the workbook in r once, decompressed and discarded, and
// fails on a part or a sum over the limits, whatever the ZIP headers declare, or on an XML
// token over maxXMLToken. Nothing is held in memory.
func checkZip(r io.ReaderAt, size int64, o Options) error {
	if err := checkDirectory(r, size); err != nil {
		return err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("not a readable XLSX workbook (truncated or damaged?): %w", err)
	}
	// The headers first, to reject a bomb without inflating it; then the truth.
	b := &budget{o: o}
	for _, f := range zr.File {
		if err := b.take(f.Name, int64(min(f.UncompressedSize64, math.MaxInt64/4)), "declares"); err != nil {
			return err
		}
	}
	b = &budget{o: o}
	for _, f := range zr.File {
		limit, _, _ := o.partLimit(f.Name)
		n, err := readPart(f, limit)
		if err != nil {
			return err
		}
		if err := b.take(f.Name, n, "expands to"); err != nil {
			return err
		}
	}
	return nil
}

// partLimit is the limit on one part. excelize streams worksheets row by row, but decodes
// or keeps every other part whole, and indexes the shared strings item by item, at up to
// ten times their size: those get a fraction of the limit.
func (o Options) partLimit(name string) (limit int64, held bool, what string) {
	switch n := strings.ToLower(strings.ReplaceAll(name, "\\", "/")); {
	case strings.HasPrefix(n, "xl/worksheets/sheet"):
		return o.MaxPartBytes, false, "a worksheet"
	case n == "xl/sharedstrings.xml":
		return o.MaxPartBytes / 4, true, "the shared strings"
	}
	return o.MaxPartBytes / 32, true, "a part other than a worksheet or the shared strings"
}

// budget adds up the parts of a workbook against the limits.
type budget struct {
	o           Options
	total, held int64
}

func (b *budget) take(name string, n int64, how string) error {
	limit, held, what := b.o.partLimit(name)
	if held {
		b.held += n
	}
	b.total += n
	switch heldLimit := b.o.MaxPartBytes / 2; {
	case n > limit:
		return tooLarge("part %s %s %d bytes decompressed, over the %d-byte limit on %s", name, how, n, limit, what)
	case b.held > heldLimit:
		return tooLarge("the parts other than worksheets add up to more than %d bytes decompressed, over the limit on what is read whole", heldLimit)
	case b.total > b.o.MaxTotalBytes:
		return tooLarge("the parts add up to more than %d bytes decompressed, over the limit on a workbook", b.o.MaxTotalBytes)
	}
	return nil
}

// readPart decompresses one part, up to one byte over limit, and returns its size.
func readPart(f *zip.File, limit int64) (int64, error) {
	if f.FileInfo().IsDir() {
		return 0, nil
	}
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("part %s: %w", f.Name, err)
	}
	defer rc.Close()
	var w io.Writer = io.Discard
	if isXML(f.Name) {
		w = &tokenGuard{part: f.Name, max: maxXMLToken}
	}
	n, err := io.Copy(w, io.LimitReader(rc, limit+1))
	switch {
	case errors.Is(err, ErrTooLarge):
		return n, err
	case err != nil:
		return n, fmt.Errorf("part %s: %w", f.Name, err)
	}
	return n, nil
}

func isXML(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") || strings.HasSuffix(n, ".rels") || strings.HasSuffix(n, ".vml")
}

func tooLarge(format string, args ...any) error {
	return &limitError{msg: fmt.Sprintf(format, args...), kind: ErrTooLarge}
}

// checkDirectory reads the end-of-central-directory record and rejects a central
// directory too large to read, before archive/zip allocates an entry for each record.
func checkDirectory(r io.ReaderAt, size int64) error {
	const eocdLen, sig = 22, 0x06054b50
	tail := make([]byte, min(size, eocdLen+0xffff))
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return fmt.Errorf("not a readable XLSX workbook (truncated or damaged?): %w", err)
	}
	for i := len(tail) - eocdLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) != sig {
			continue
		}
		// A ZIP64 workbook marks the size 0xffffffff: at least 4 GiB, over any limit.
		if dir := binary.LittleEndian.Uint32(tail[i+12:]); dir > maxDirectoryBytes {
			return tooLarge("the ZIP directory takes %d bytes, over the %d-byte limit (too many parts)", dir, maxDirectoryBytes)
		}
		return nil
	}
	return errors.New("not a readable XLSX workbook (truncated or damaged?): no ZIP directory")
}

// tokenGuard fails once a text or a tag of an XML part runs longer than max bytes,
// counting a CDATA section as one token.
type tokenGuard struct {
	part  string
	max   int
	run   int  // bytes since the last '<' (or since the CDATA section opened)
	cdata bool // inside <![CDATA[ ... ]]>
	match int  // bytes matched of "<![CDATA[", or of "]]>" inside a section
}

const cdataOpen = "<![CDATA["

func (g *tokenGuard) Write(p []byte) (int, error) {
	for _, c := range p {
		g.step(c)
		if g.run > g.max {
			return 0, tooLarge("part %s holds a text or tag longer than %d bytes (a cell holds at most 32,767 characters)", g.part, g.max)
		}
	}
	return len(p), nil
}

func (g *tokenGuard) step(c byte) {
	g.run++
	if g.cdata {
		switch {
		case c == ']':
			g.match = min(g.match+1, 2)
		case c == '>' && g.match == 2:
			g.cdata, g.run, g.match = false, 0, 0
		default:
			g.match = 0
		}
		return
	}
	switch {
	case c == '<':
		g.run, g.match = 0, 1
	case g.match > 0 && c == cdataOpen[g.match]:
		if g.match++; g.match == len(cdataOpen) {
			g.cdata, g.run, g.match = true, 0, 0
		}
	default:
		g.match = 0
	}
}

package creditreport

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sync"
)

// The PDF reader inflates streams itself, as it reads them, with no bound. So before it
// sees a PDF, every stream is inflated once here through the same filters, counting, and a
// PDF whose streams inflate past the limit is refused. A stream is inflated from its start
// to the end of its own compressed data (zlib marks its end), not to the "endstream" or
// /Length the reader would trust, so the count bounds whatever the reader can get out of it.

var errDecompressLimit = errors.New("pdf streams inflate past the limit")

var (
	filterEntry = regexp.MustCompile(`/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)`)
	filterName  = regexp.MustCompile(`/([A-Za-z0-9]+)`)
)

// streamSizes maps the offset of each stream's data to its inflated size (0 for streams
// the reader does not inflate), failing once the total passes limit.
func streamSizes(pdf []byte, limit int64) (map[int64]int64, error) {
	sizes := map[int64]int64{}
	var total int64
	for _, loc := range streamStarts(pdf) {
		start := int64(loc[1])
		filters := streamFilters(pdf[max(0, loc[0]-4096):loc[0]])
		if len(filters) == 0 {
			continue
		}
		n, err := inflatedSize(pdf[start:], filters, limit-total)
		if err != nil {
			return nil, err
		}
		sizes[start] = n
		total += n
	}
	return sizes, nil
}

// streamStarts finds each "stream" keyword (not "endstream") followed by an end of line,
// as [keyword offset, data offset] pairs: where the reader starts a stream's data.
func streamStarts(pdf []byte) [][2]int {
	var out [][2]int
	kw := []byte("stream")
	for at := 0; ; {
		i := bytes.Index(pdf[at:], kw)
		if i < 0 {
			return out
		}
		k := at + i
		at = k + len(kw)
		if k > 0 && pdf[k-1] == 'd' || at >= len(pdf) {
			continue
		}
		switch {
		case pdf[at] == '\r' && at+1 < len(pdf) && pdf[at+1] == '\n':
			out = append(out, [2]int{k, at + 2})
		case pdf[at] == '\r' || pdf[at] == '\n':
			out = append(out, [2]int{k, at + 1})
		}
	}
}

// streamFilters reads the /Filter of the dictionary just before a stream keyword.
func streamFilters(dict []byte) []string {
	if i := bytes.LastIndex(dict, []byte(" obj")); i >= 0 {
		dict = dict[i:]
	}
	m := filterEntry.FindSubmatch(dict)
	if m == nil {
		return nil
	}
	var names []string
	for _, n := range filterName.FindAllSubmatch(m[1], -1) {
		names = append(names, string(n[1]))
	}
	return names
}

// inflatedSize decodes data through filters and counts the output, up to budget bytes.
// A stream that does not decode counts what came out before the error.
func inflatedSize(data []byte, filters []string, budget int64) (int64, error) {
	var rd io.Reader = bytes.NewReader(data)
	for i, f := range filters {
		switch f {
		case "FlateDecode", "Fl":
			zr, err := zlib.NewReader(rd)
			if err != nil {
				return 0, nil // the reader fails on it too
			}
			rd = zr
		case "ASCII85Decode", "A85":
			if end := bytes.Index(data, []byte("~>")); i == 0 && end >= 0 {
				rd = bytes.NewReader(data[:end])
			}
			rd = ascii85.NewDecoder(rd)
		default:
			return 0, nil // not inflated by the reader, or refused by it
		}
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(rd, budget+1))
	if n > budget {
		return 0, fmt.Errorf("inflating a stream: %w", errDecompressLimit)
	}
	return n, nil
}

// budgetReaderAt serves the PDF to its reader and charges each read that starts a stream
// with the stream's inflated size, so a PDF whose pages make the reader inflate the same
// stream over and over runs out of budget instead of working without end.
type budgetReaderAt struct {
	data  []byte
	sizes map[int64]int64
	mu    sync.Mutex
	left  int64
	over  bool
}

func (r *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if n, ok := r.sizes[off]; ok && n > 0 {
		r.mu.Lock()
		r.left -= n
		over := r.left < 0
		r.over = r.over || over
		r.mu.Unlock()
		if over {
			return 0, errDecompressLimit
		}
	}
	if off < 0 || off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *budgetReaderAt) exceeded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.over
}

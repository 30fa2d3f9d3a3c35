package creditreport

import (
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// The PDF reader decodes a font's text by its /Encoding and reads the ToUnicode map only
// for some fonts; but when a font has a ToUnicode map, that map is the text (PDF 32000,
// 9.10.2): Chromium and other browsers print Type 3 fonts with a custom encoding and a
// ToUnicode map, whose text the reader would garble. So ToUnicode maps are read here.

// toUnicode is a parsed ToUnicode CMap.
type toUnicode struct {
	lengths []int             // code lengths in bytes of the codespace ranges, shortest first
	chars   map[string]string // code → text (bfchar, and bfrange expanded when small)
	ranges  []cmapRange       // larger bfranges
}

type cmapRange struct {
	lo, hi string
	dst    []uint16 // UTF-16 of the first code's text; later codes add to the last unit
}

// maxRangeExpand: ranges up to this many codes are expanded into chars.
const maxRangeExpand = 16

// readToUnicode parses a ToUnicode stream. scratch is any dictionary value, given to the
// CMap program's "findresource ... begin" (the reader has no way to make an empty one).
func readToUnicode(v, scratch pdf.Value) *toUnicode {
	m := &toUnicode{chars: map[string]string{}}
	n := -1
	seen := map[int]bool{}
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		switch op {
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			n = int(stk.Pop().Int64())
		case "endcodespacerange":
			for i := 0; i < n; i++ {
				stk.Pop()
				if l := len(stk.Pop().RawString()); l > 0 && l <= 4 && !seen[l] {
					seen[l] = true
					m.lengths = append(m.lengths, l)
				}
			}
		case "endbfchar":
			for i := 0; i < n; i++ {
				dst, src := stk.Pop().RawString(), stk.Pop().RawString()
				m.chars[src] = string(utf16.Decode(units(dst)))
			}
		case "endbfrange":
			for i := 0; i < n; i++ {
				m.addRange(stk.Pop(), stk.Pop().RawString(), stk.Pop().RawString())
			}
		case "findresource":
			stk.Pop()
			stk.Pop()
			stk.Push(scratch)
		}
	})
	slices.Sort(m.lengths)
	slices.SortFunc(m.ranges, func(a, b cmapRange) int { return strings.Compare(a.hi, b.hi) })
	if len(m.lengths) == 0 {
		m.lengths = []int{2}
	}
	return m
}

func (m *toUnicode) addRange(dst pdf.Value, hi, lo string) {
	if len(lo) == 0 || len(lo) != len(hi) || lo > hi {
		return
	}
	count := int(hi[len(hi)-1]) - int(lo[len(lo)-1])
	if dst.Kind() == pdf.Array {
		for i := 0; i <= count && i < dst.Len(); i++ {
			m.chars[withLast(lo, i)] = string(utf16.Decode(units(dst.Index(i).RawString())))
		}
		return
	}
	base := units(dst.RawString())
	if len(base) == 0 {
		return
	}
	if count > maxRangeExpand {
		m.ranges = append(m.ranges, cmapRange{lo: lo, hi: hi, dst: base})
		return
	}
	for i := 0; i <= count; i++ {
		u := append([]uint16{}, base...)
		u[len(u)-1] += uint16(i)
		m.chars[withLast(lo, i)] = string(utf16.Decode(u))
	}
}

// withLast is code lo with its last byte increased by i.
func withLast(lo string, i int) string {
	b := []byte(lo)
	b[len(b)-1] += byte(i)
	return string(b)
}

func units(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return u
}

// decode maps codes to text, taking the shortest code that is mapped.
func (m *toUnicode) decode(raw string) string {
	var b strings.Builder
	b.Grow(len(raw) * 2)
	for len(raw) > 0 {
		raw = raw[m.lookup(raw, &b):]
	}
	return b.String()
}

// lookup writes the text of the code at the start of raw and returns the code's length.
func (m *toUnicode) lookup(raw string, b *strings.Builder) int {
	for _, l := range m.lengths {
		if l > len(raw) {
			break
		}
		code := raw[:l]
		if t, ok := m.chars[code]; ok {
			b.WriteString(t)
			return l
		}
		// Ranges are sorted by their last code: the first ending at or after code is the
		// only one that can hold it.
		i, _ := slices.BinarySearchFunc(m.ranges, code, func(r cmapRange, c string) int { return strings.Compare(r.hi, c) })
		if i < len(m.ranges) {
			if r := m.ranges[i]; len(r.lo) == l && r.lo <= code {
				last := r.dst[len(r.dst)-1] + uint16(code[l-1]-r.lo[l-1])
				if len(r.dst) == 1 {
					b.WriteRune(rune(last))
				} else {
					u := append(slices.Clone(r.dst[:len(r.dst)-1]), last)
					b.WriteString(string(utf16.Decode(u)))
				}
				return l
			}
		}
	}
	b.WriteRune('\ufffd')
	return min(m.lengths[0], len(raw))
}

package publicity

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"golang.org/x/text/width"
)

// Header maps column names to positions.
type Header struct {
	index map[string]int
	names []string
}

// NewHeader builds a header from column names (trimmed; a UTF-8 BOM is dropped).
func NewHeader(names []string) *Header {
	h := &Header{index: make(map[string]int, len(names)), names: make([]string, len(names))}
	for i, n := range names {
		n = strings.TrimSpace(strings.TrimPrefix(n, "\ufeff"))
		h.names[i] = n
		if _, dup := h.index[n]; !dup && n != "" {
			h.index[n] = i
		}
	}
	return h
}

// Index returns a column's position.
func (h *Header) Index(name string) (int, bool) { i, ok := h.index[name]; return i, ok }

// Has reports whether the header has a column.
func (h *Header) Has(name string) bool { _, ok := h.index[name]; return ok }

// Names are the column names.
func (h *Header) Names() []string { return h.names }

// Record is one licence or penalty record.
type Record struct {
	Kind   Kind
	Row    int // line or row number in its file, or position in an API page
	Header *Header
	Values []string
}

// Get returns a field's trimmed value, "" when absent.
func (r Record) Get(field string) string {
	i, ok := r.Header.index[field]
	if !ok || i >= len(r.Values) {
		return ""
	}
	return strings.TrimSpace(r.Values[i])
}

// ID is the record's document number.
func (r Record) ID() string { return r.Get(Schemas[r.Kind].IDField) }

var (
	dashDate = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$`)
	cnDate   = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})日$`)
)

// ParseDate reads YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日 as a date in Asia/Shanghai.
func ParseDate(s string) (time.Time, error) {
	m := dashDate.FindStringSubmatch(s)
	if m == nil {
		m = cnDate.FindStringSubmatch(s)
	}
	if m == nil || (strings.Contains(s, "-") && strings.Contains(s, "/")) {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日)", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	if y < 1949 || y > 2100 {
		return time.Time{}, fmt.Errorf("%q is outside the years 1949 to 2100", s)
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, clock.Shanghai)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return time.Time{}, fmt.Errorf("%q is not a calendar date", s)
	}
	return t, nil
}

var brackets = strings.NewReplacer("【", "(", "】", ")", "[", "(", "]", ")", "〔", "(", "〕", ")")

// NormaliseName makes subject names comparable: trimmed, full-width to half-width,
// brackets unified.
func NormaliseName(s string) string {
	return brackets.Replace(width.Narrow.String(strings.TrimSpace(s)))
}

// CheckHeader makes sure a file's header is of this kind: it fails when neither the
// document number nor the decision date column is present, and lists the other mandatory
// columns that are missing (each record will then violate missing_field).
func (s *Schema) CheckHeader(h *Header) (missing []string, err error) {
	if !h.Has(s.IDField) && !h.Has(s.DecisionDate) {
		return nil, fmt.Errorf("the header has neither %s nor %s: not a %s export (wrong --kind?)", s.IDField, s.DecisionDate, s.Kind)
	}
	for _, f := range s.Mandatory {
		if !h.Has(f) {
			missing = append(missing, f)
		}
	}
	return missing, nil
}

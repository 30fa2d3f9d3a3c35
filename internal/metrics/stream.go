package metrics

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// A Collector's series can also be streamed, family by family (Stream), rather than
// gathered by a registry. A registry builds every series of a scrape before it encodes the
// first: with 5,000 targets some 165,000 series, about 70 MB of objects at each scrape,
// which set the process's peak memory. Streamed, a family is built from the store's
// snapshot straight into the exposition's own types, in storage reused from family to
// family, encoded, and forgotten: the largest family (the defacement signs, 45,000
// series, some 9 MB) is the most that exists at once. Label pairs are made once and kept
// from scrape to scrape (a target's pair serves all its series).

// layout is how the series of one description are built: its family's name and help, and
// its labels in the exposition's order (sorted by name) with, for each, the index of its
// value among the description's variable labels, or -1 for the collector's constant label.
type layout struct {
	name, help *string
	names      []*string
	values     []int
	constant   *dto.LabelPair // the vantage, shared by every series; nil without one
}

// layouts makes the layout of every description of the package, with the constant label
// vantage when it is not empty.
func layouts(vantage string) map[*prometheus.Desc]*layout {
	out := make(map[*prometheus.Desc]*layout, len(specs))
	var constant *dto.LabelPair
	if vantage != "" {
		constant = &dto.LabelPair{Name: proto.String("vantage"), Value: proto.String(vantage)}
	}
	for d, sp := range specs {
		l := &layout{name: proto.String(sp.name), help: proto.String(sp.help), constant: constant}
		type slot struct {
			name  string
			value int
		}
		slots := make([]slot, 0, len(sp.labels)+1)
		for i, n := range sp.labels {
			slots = append(slots, slot{n, i})
		}
		if constant != nil {
			slots = append(slots, slot{"vantage", -1})
		}
		slices.SortFunc(slots, func(a, b slot) int { return cmp.Compare(a.name, b.name) })
		for _, s := range slots {
			l.names = append(l.names, proto.String(s.name))
			l.values = append(l.values, s.value)
		}
		out[d] = l
	}
	return out
}

// slab hands out zeroed values of T from chunks kept from one use to the next: nothing it
// handed out moves, and reset makes every chunk available again.
type slab[T any] struct {
	chunks [][]T
	n      int
}

const slabChunk = 1024

func (s *slab[T]) next() *T { return &s.run(1)[0] }

// run hands out k consecutive values (k at most slabChunk).
func (s *slab[T]) run(k int) []T {
	if c, i := s.n/slabChunk, s.n%slabChunk; i+k > slabChunk {
		s.n = (c + 1) * slabChunk
	}
	c, i := s.n/slabChunk, s.n%slabChunk
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, slabChunk))
	}
	s.n += k
	out := s.chunks[c][i : i+k : i+k]
	clear(out)
	return out
}

func (s *slab[T]) reset() { s.n = 0 }

// free lets the chunks go.
func (s *slab[T]) free() { *s = slab[T]{} }

// familySink builds the families a collector sends and encodes them at each flush.
type familySink struct {
	layouts map[*prometheus.Desc]*layout
	keep    func(name string) bool // nil keeps every family
	encode  func(*dto.MetricFamily) error
	err     error

	open  []*dto.MetricFamily                    // begun since the last flush, in order
	index map[*prometheus.Desc]*dto.MetricFamily // nil for a family left out by keep
	sent  map[*prometheus.Desc]bool

	// pairs holds each label pair made, by its name and value, from scrape to scrape: a
	// target's pair serves every family and every scrape (5,000 targets make some 165,000
	// series but 5,000 target pairs). Emptied when past maxPairs.
	pairs map[pairKey]*dto.LabelPair

	metrics  slab[dto.Metric]
	labels   slab[*dto.LabelPair]
	floats   slab[float64]
	gauges   slab[dto.Gauge]
	counters slab[dto.Counter]
	families slab[dto.MetricFamily]
}

// pairKey names a label pair: the name's string in its layout, and the value.
type pairKey struct {
	name  *string
	value string
}

// maxPairs bounds the label pairs a sink keeps between scrapes.
const maxPairs = 1 << 17

func (fs *familySink) begin(keep func(string) bool, encode func(*dto.MetricFamily) error) {
	fs.keep, fs.encode, fs.err = keep, encode, nil
	if fs.index == nil {
		fs.index = map[*prometheus.Desc]*dto.MetricFamily{}
		fs.sent = map[*prometheus.Desc]bool{}
		fs.pairs = map[pairKey]*dto.LabelPair{}
	}
	clear(fs.sent)
	if len(fs.pairs) > maxPairs {
		clear(fs.pairs)
	}
}

// pair is the label pair of name and value, made once.
func (fs *familySink) pair(name *string, value string) *dto.LabelPair {
	if p := fs.pairs[pairKey{name, value}]; p != nil {
		return p
	}
	v := value
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	p := &dto.LabelPair{Name: name, Value: &v}
	fs.pairs[pairKey{name, value}] = p
	return p
}

// family returns the family of d's series (nil: left out, or the sink failed).
func (fs *familySink) family(d *prometheus.Desc, t dto.MetricType) *dto.MetricFamily {
	if fs.err != nil {
		return nil
	}
	if mf, ok := fs.index[d]; ok {
		if mf != nil && mf.GetType() != t {
			fs.err = fmt.Errorf("%s: series of types %s and %s", mf.GetName(), mf.GetType(), t)
			return nil
		}
		return mf
	}
	l := fs.layouts[d]
	switch {
	case l == nil:
		fs.err = fmt.Errorf("a series of an unknown description: %s", d)
		return nil
	case fs.sent[d]:
		fs.err = fmt.Errorf("%s: a series after its family was sent", *l.name)
		return nil
	case fs.keep != nil && !fs.keep(*l.name):
		fs.index[d] = nil
		return nil
	}
	mf := fs.families.next()
	mf.Name, mf.Help, mf.Type = l.name, l.help, t.Enum()
	fs.index[d] = mf
	fs.open = append(fs.open, mf)
	return mf
}

// metric adds a series to d's family, its label values in d's order; the values are
// copied.
func (fs *familySink) metric(d *prometheus.Desc, t dto.MetricType, labels []string) *dto.Metric {
	mf := fs.family(d, t)
	if mf == nil {
		return nil
	}
	l := fs.layouts[d]
	if want := len(l.names) - b2i(l.constant != nil); len(labels) != want {
		fs.err = fmt.Errorf("%s: %d label values, want %d", *l.name, len(labels), want)
		return nil
	}
	m := fs.metrics.next()
	m.Label = fs.labels.run(len(l.names))
	for k, i := range l.values {
		if i < 0 {
			m.Label[k] = l.constant
			continue
		}
		m.Label[k] = fs.pair(l.names[k], labels[i])
	}
	mf.Metric = append(mf.Metric, m)
	return m
}

func (fs *familySink) value(d *prometheus.Desc, vt prometheus.ValueType, v float64, labels []string) {
	t := dto.MetricType_GAUGE
	if vt == prometheus.CounterValue {
		t = dto.MetricType_COUNTER
	}
	m := fs.metric(d, t, labels)
	if m == nil {
		return
	}
	f := fs.floats.next()
	*f = v
	if t == dto.MetricType_COUNTER {
		c := fs.counters.next()
		c.Value = f
		m.Counter = c
		return
	}
	g := fs.gauges.next()
	g.Value = f
	m.Gauge = g
}

func (fs *familySink) histogram(d *prometheus.Desc, count uint64, sum float64, buckets map[float64]uint64, labels []string) {
	m := fs.metric(d, dto.MetricType_HISTOGRAM, labels)
	if m == nil {
		return
	}
	h := &dto.Histogram{SampleCount: proto.Uint64(count), SampleSum: proto.Float64(sum)}
	for _, ub := range slices.Sorted(maps.Keys(buckets)) {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(ub), CumulativeCount: proto.Uint64(buckets[ub])})
	}
	m.Histogram = h
}

// flush encodes the families begun since the last flush (none of them may get another
// series) and makes their storage available again.
func (fs *familySink) flush() {
	for _, mf := range fs.open {
		if fs.err == nil && len(mf.Metric) > 0 {
			fs.err = fs.encode(mf)
		}
		mf.Metric = nil
	}
	for d, mf := range fs.index {
		if mf != nil {
			fs.sent[d] = true
		}
	}
	fs.open = fs.open[:0]
	clear(fs.index)
	for _, r := range []interface{ reset() }{&fs.metrics, &fs.labels, &fs.floats, &fs.gauges, &fs.counters, &fs.families} {
		r.reset()
	}
}

// end lets a scrape's storage go, keeping the label pairs: between scrapes the process
// holds no more than those.
func (fs *familySink) end() {
	fs.keep, fs.encode = nil, nil
	fs.open = nil
	fs.metrics.free()
	fs.labels.free()
	fs.floats.free()
	fs.gauges.free()
	fs.counters.free()
	fs.families.free()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Stream sends the collector's series, family by family, to encode, leaving out the
// families keep refuses (nil keeps every one); it stops at the first error of encode.
// Families appear once each, every series of a family in the order Collect sends them.
// Scrapes at the same time take turns.
func (c *Collector) Stream(keep func(name string) bool, encode func(*dto.MetricFamily) error) error {
	c.sinkMu.Lock()
	defer c.sinkMu.Unlock()
	if c.sink == nil {
		c.sink = &familySink{layouts: c.layouts}
	}
	fs := c.sink
	fs.begin(keep, encode)
	c.collect(emit{fs: fs, descs: c.descs})
	fs.flush()
	err := fs.err
	fs.end()
	return err
}

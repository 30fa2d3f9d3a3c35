package metrics

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// manyTargetsStore is exampleStore with n more targets in every state the collector tells
// apart, the double-publicity figures of two departments and the objection cases: families
// of thousands of series, past the stream's storage chunks.
func manyTargetsStore(n int) *Store {
	s := exampleStore()
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var ps []*Portal
	var infos []TargetInfo
	for i := range n {
		name := fmt.Sprintf("page-%04d", i)
		p := &Portal{Target: name, OutcomeTotals: map[string]float64{"ok": float64(i), "timeout": float64(i % 3)}}
		if i%7 != 0 { // every seventh not probed since the start
			p.Probed, p.Success, p.Outcome, p.StatusCode, p.LastProbe = true, i%5 != 0, "ok", 200, at.Add(time.Duration(i)*time.Millisecond)
			p.PhaseSeconds = map[string]float64{"dns": 0.001, "connect": float64(i) / 1e4, "first_byte": 0.02}
		}
		if i%11 == 0 {
			p.IncidentOpen, p.OpenSince, p.OpenOutcome, p.IncidentsTotal = true, at.Add(-time.Hour), "timeout", 1
		}
		if i%2 == 0 {
			p.CertExpiry = at.AddDate(0, 2, i%30)
		}
		ps = append(ps, p)
		s.RecordRun("portal", name, i%9 != 0, time.Duration(i)*time.Millisecond, at)
		c := &Content{Target: name, Confirmed: map[string]int{}}
		if i%13 == 0 {
			c.Confirmed["keyword"] = 1
		}
		if i%4 == 0 {
			c.HasAge, c.Age, c.MaxAge = true, i%15, 10
		}
		s.SetContent(c)
		infos = append(infos, TargetInfo{Target: name, URL: fmt.Sprintf("https://p%d.example.gov.cn/", i), Site: "portal", Scored: i%3 == 0})
	}
	s.SetPortals(ps)
	s.SetTargets(infos)
	period := *s.cur.Load().period
	period.Publicity = &card.Publicity{Watched: true, Departments: []ledger.DepartmentFigures{
		{Kind: publicity.Licence, Department: "市市场监督管理局", Figures: publicity.Figures{Total: 10, Due: 10, Reported: 9, Compliant: 9, Timely: 8, UploadRatio: 0.9, ComplianceRatio: 0.9, TimelinessRatio: 0.8}},
		{Kind: publicity.Penalty, Department: "市生态环境局", Figures: publicity.Figures{Total: 4, Due: 4, Reported: 4, Compliant: 4, Timely: 4, UploadRatio: 1, ComplianceRatio: 1, TimelinessRatio: 1}},
	}}
	period.Cases = &card.Cases{HaveObjections: true, HaveRepairs: true}
	period.Cases.Summary.Objections.Handling = []int{1, 3, 4, 7}
	period.Cases.Summary.Objections.OpenByAge = map[string]int{}
	s.SetCards(&period, nil)
	s.StartSkew("portal").Observe(0.02)
	return s
}

// streamed is the exposition of Stream: the text of each family, and their names in the
// order they came.
func streamed(t *testing.T, c *Collector, keep func(string) bool) (string, []string) {
	t.Helper()
	var b strings.Builder
	var names []string
	err := c.Stream(keep, func(mf *dto.MetricFamily) error {
		names = append(names, mf.GetName())
		_, err := expfmt.MetricFamilyToText(&b, mf)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), names
}

// gathered is the text exposition of c gathered by a registry.
func gathered(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	return gatheredText(t, reg)
}

// gatheredText is the text exposition of what g gathers.
func gatheredText(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	slices.Sort(lines)
	return lines
}

// The stream gives every series the registry gives, with the same labels and values, each
// family once; twice over, so that storage reused from the first scrape leaves nothing of
// it in the second.
func TestStreamIsWhatTheRegistryGathers(t *testing.T) {
	for _, n := range []int{0, 3, 1500} {
		t.Run(fmt.Sprint(n, "-targets"), func(t *testing.T) {
			s := manyTargetsStore(n)
			c := NewVantageCollector(s, "anyang")
			want := sortedLines(gathered(t, c))
			for scrape := range 2 {
				got, names := streamed(t, c, nil)
				if g := sortedLines(got); !slices.Equal(g, want) {
					t.Fatalf("scrape %d: %d lines streamed, %d gathered; first difference:\n%s", scrape, len(g), len(want), firstDifference(g, want))
				}
				seen := map[string]bool{}
				for _, name := range names {
					if seen[name] {
						t.Errorf("family %s sent twice", name)
					}
					seen[name] = true
				}
			}
		})
	}
	// Without a vantage, as NewCollector's registry gives it.
	s := manyTargetsStore(40)
	c := NewCollector(s)
	c.noSkew = true
	got, _ := streamed(t, c, nil)
	if g, w := sortedLines(got), sortedLines(gathered(t, c)); !slices.Equal(g, w) {
		t.Errorf("without a vantage:\n%s", firstDifference(g, w))
	}
}

func firstDifference(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("streamed: %s\ngathered: %s", a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

// The stream is refused, not silently wrong, when a collector sends a family's series
// after its flush; a label value that is not UTF-8 is mended rather than sent broken.
func TestStreamGuards(t *testing.T) {
	fs := &familySink{layouts: layouts("anyang")}
	var sent []string
	fs.begin(nil, func(mf *dto.MetricFamily) error {
		for _, l := range mf.Metric[0].Label {
			sent = append(sent, l.GetName()+"="+l.GetValue())
		}
		return nil
	})
	e := emit{fs: fs}
	e.gauge(probeSuccess, 1, "a\xffb")
	e.flush()
	e.gauge(probeSuccess, 0, "c")
	if fs.err == nil || !strings.Contains(fs.err.Error(), "creditwatch_probe_success: a series after its family was sent") {
		t.Errorf("a late series: %v", fs.err)
	}
	if want := []string{"target=a\ufffdb", "vantage=anyang"}; !slices.Equal(sent, want) {
		t.Errorf("sent %q, want %q", sent, want)
	}
	fs.begin(nil, func(*dto.MetricFamily) error { return nil })
	e.counter(probeSuccess, 1, "a", "extra")
	if fs.err == nil || fs.err.Error() != "creditwatch_probe_success: 2 label values, want 1" {
		t.Errorf("wrong label count: %v", fs.err)
	}
	// An encoder's error ends the stream and is returned.
	c := NewVantageCollector(manyTargetsStore(10), "anyang")
	calls := 0
	err := c.Stream(nil, func(*dto.MetricFamily) error {
		calls++
		return errors.New("connection reset")
	})
	if err == nil || calls != 1 {
		t.Errorf("encoder failing: %d calls, %v", calls, err)
	}
}

type failingGatherer struct{}

func (failingGatherer) Gather() ([]*dto.MetricFamily, error) {
	return nil, errors.New("collector go: boom")
}

// The handler answers as a scraper asks: text or protobuf, gzipped or not, only the
// families named by name[]; the process's families follow the store's.
func TestHandler(t *testing.T) {
	s := manyTargetsStore(20)
	process := prometheus.NewRegistry()
	process.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "process_example", Help: "x"}))
	h := Handler(NewVantageCollector(s, "anyang"), process, zap.NewNop())
	get := func(path string, header http.Header) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for k, v := range header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	parse := func(t *testing.T, w *httptest.ResponseRecorder) map[string]*dto.MetricFamily {
		t.Helper()
		var body io.Reader = w.Body
		if w.Header().Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		out := map[string]*dto.MetricFamily{}
		dec := expfmt.NewDecoder(body, expfmt.ResponseFormat(w.Header()))
		for {
			mf := &dto.MetricFamily{}
			err := dec.Decode(mf)
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			if out[mf.GetName()] != nil {
				t.Fatalf("family %s twice", mf.GetName())
			}
			out[mf.GetName()] = mf
		}
	}
	for _, tc := range []struct {
		name       string
		header     http.Header
		format     expfmt.FormatType
		gzip       bool
		path       string
		families   int // 0: all
		wantFamily string
	}{
		{name: "text", format: expfmt.TypeTextPlain},
		{name: "text gzip", header: http.Header{"Accept-Encoding": {"deflate, gzip;q=0.5"}}, format: expfmt.TypeTextPlain, gzip: true},
		{name: "gzip refused", header: http.Header{"Accept-Encoding": {"gzip;q=0, identity"}}, format: expfmt.TypeTextPlain},
		{name: "protobuf as Prometheus asks", header: http.Header{
			"Accept":          {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"},
			"Accept-Encoding": {"gzip"}}, format: expfmt.TypeProtoDelim, gzip: true},
		{name: "name[]", path: "/metrics?name[]=creditwatch_probe_outcome_total&name[]=process_example", format: expfmt.TypeTextPlain, families: 2, wantFamily: "creditwatch_probe_outcome_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/metrics"
			}
			w := get(path, tc.header)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if got := expfmt.ResponseFormat(w.Header()).FormatType(); got != tc.format {
				t.Errorf("format %v, want %v", got, tc.format)
			}
			if got := w.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
				t.Errorf("gzipped: %v, want %v", got, tc.gzip)
			}
			fams := parse(t, w)
			if tc.families > 0 && len(fams) != tc.families {
				t.Errorf("%d families, want %d", len(fams), tc.families)
			}
			for _, name := range []string{cmp.Or(tc.wantFamily, "creditwatch_target_info"), "process_example"} {
				if fams[name] == nil {
					t.Errorf("family %s missing", name)
				}
			}
			if mf := fams["creditwatch_probe_outcome_total"]; mf != nil && len(mf.Metric) != 8*(20+2) {
				t.Errorf("%d outcome series, want 8 outcomes × 22 targets", len(mf.Metric))
			}
		})
	}
	// The process's metrics failing: a 500 naming the failure, nothing half sent.
	w := httptest.NewRecorder()
	Handler(NewVantageCollector(s, "anyang"), failingGatherer{}, zap.NewNop()).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "collector go: boom") || strings.Contains(w.Body.String(), "creditwatch_") {
		t.Errorf("gather failing: %d %q", w.Code, w.Body)
	}
	// What promtool would read: the text parses with every family's type and help.
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(get("/metrics", nil).Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if mf := fams["creditwatch_probe_outcome_total"]; mf.GetType() != dto.MetricType_COUNTER || mf.GetHelp() == "" {
		t.Errorf("outcome family: %v %q", mf.GetType(), mf.GetHelp())
	}
}

// BenchmarkScrape5000Targets is one scrape of the store's series with 5,000 targets (some
// 170,000 series), gathered by a registry and encoded (as promhttp did) or streamed:
// compare B/op and the peak of the heap in use (heap-peak-MB, sampled during the runs).
func BenchmarkScrape5000Targets(b *testing.B) {
	s := manyTargetsStore(5000)
	c := NewVantageCollector(s, "anyang")
	for _, bc := range []struct {
		name   string
		scrape func(w io.Writer) error
	}{
		{"registry", func(w io.Writer) error {
			reg := prometheus.NewRegistry()
			reg.MustRegister(c)
			mfs, err := reg.Gather()
			if err != nil {
				return err
			}
			enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					return err
				}
			}
			return nil
		}},
		{"stream", func(w io.Writer) error {
			return c.Stream(nil, expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain)).Encode)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var size int
			peak := heapPeak(func() {
				for b.Loop() {
					cw := &countingWriter{}
					if err := bc.scrape(cw); err != nil {
						b.Fatal(err)
					}
					size = cw.n
				}
			})
			b.ReportMetric(float64(size), "bytes/scrape")
			b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MB")
		})
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// heapPeak runs f and returns the largest heap in use seen every millisecond meanwhile.
func heapPeak(f func()) uint64 {
	runtime.GC()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var most uint64
		var ms runtime.MemStats
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				most = max(most, ms.HeapAlloc)
			}
		}
	}()
	f()
	close(done)
	return <-peak
}

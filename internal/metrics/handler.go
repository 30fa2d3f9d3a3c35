package metrics

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/zap"
)

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// Handler serves /metrics: the collector's families streamed (Collector.Stream), then the
// families of g (the Go runtime, the process, the build, the start skew: a few hundred
// series, gathered at once). As promhttp's handler does, it answers in the format the
// scraper accepts (Prometheus text by default, or protobuf), gzipped when the scraper
// accepts it, and keeps only the families named by name[] parameters when there are any.
// A failure to gather g is a 500 naming it; one while sending is logged, the answer cut
// short.
func Handler(c *Collector, g prometheus.Gatherer, log *zap.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mfs, err := g.Gather()
		if err != nil {
			log.Error("gathering the process's metrics failed", zap.Error(err))
			http.Error(w, "An error has occurred while gathering the process's metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		var keep func(string) bool
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			set := make(map[string]bool, len(names))
			for _, n := range names {
				set[n] = true
			}
			keep = func(name string) bool { return set[name] }
		}
		format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer func() {
				gz.Close()
				gzipWriters.Put(gz)
			}()
			out = gz
		}
		enc := expfmt.NewEncoder(out, format)
		err = c.Stream(keep, enc.Encode)
		for _, mf := range mfs {
			if err == nil && (keep == nil || keep(mf.GetName())) {
				err = enc.Encode(mf)
			}
		}
		if closer, ok := enc.(expfmt.Closer); ok && err == nil {
			err = closer.Close()
		}
		if err != nil {
			log.Error("sending the metrics failed", zap.String("remote", r.RemoteAddr), zap.Error(err))
		}
	})
}

// acceptsGzip tells whether the request's Accept-Encoding takes gzip: named, or "*", with
// a weight above 0 (RFC 9110, 12.5.3).
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			q := 1.0
			if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					continue
				}
				q = f
			}
			if q > 0 {
				return true
			}
		}
	}
	return false
}

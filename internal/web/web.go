// Package web serves creditwatch's HTTP endpoints: /metrics, the lifecycle endpoints and
// the Chinese status page.
package web

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/docs"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/service"
)

// processRegistry is the registry of the series of /metrics other than the store's (which
// metrics.Handler streams): the start skew, the build, the Go runtime and the process.
// creditwatch's own series carry the vantage label, so that several instances watching one
// portal can be told apart.
func processRegistry(store *metrics.Store, vantage string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	prometheus.WrapRegistererWith(prometheus.Labels{"vantage": vantage}, reg).MustRegister(
		store.SkewCollector(),
		versioncollector.NewCollector("creditwatch"),
	)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler returns the mux of every endpoint.
func Handler(svc *service.Service, log *zap.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(metrics.NewVantageCollector(svc.Store(), svc.Vantage()),
		processRegistry(svc.Store(), svc.Vantage()), log.With(zap.String("endpoint", "/metrics"))))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("Healthy\n"))
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !svc.Ready() {
			http.Error(w, "Not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("Ready\n"))
	})
	reload := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := svc.Reload(ctx); err != nil {
			http.Error(w, "reload failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write([]byte("Reloaded\n"))
	}
	mux.Handle("POST /-/reload", RequireNonSimple(http.HandlerFunc(reload)))
	mux.Handle("PUT /-/reload", RequireNonSimple(http.HandlerFunc(reload)))
	registerStatus(mux, svc, log)
	mux.Handle("GET /runbooks/{$}", newRunbooks(docs.Runbooks, log))
	rep := &reports{svc: svc, log: log}
	mux.HandleFunc("GET /reports/{$}", rep.index)
	mux.HandleFunc("GET /reports/{file}", rep.month)
	inc := &incidents{svc: svc, log: log}
	mux.HandleFunc("GET /incidents/{id}", inc.page)
	mux.Handle("POST /api/v1/incidents/{id}/annotations", RequireNonSimple(http.HandlerFunc(inc.annotate)))
	cnt := &content{svc: svc, log: log}
	mux.Handle("POST /api/v1/targets/{target}/baseline", RequireNonSimple(http.HandlerFunc(cnt.acceptBaseline)))
	mux.Handle("POST /api/v1/security-incidents", RequireNonSimple(http.HandlerFunc(cnt.recordSecurity)))
	return mux
}

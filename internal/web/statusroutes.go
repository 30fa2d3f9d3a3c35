package web

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/service"
)

// registerStatus adds the status page and the CSV of the records behind its publicity counts.
func registerStatus(mux *http.ServeMux, svc *service.Service, log *zap.Logger) {
	p := &statusPage{svc: svc, log: log}
	mux.Handle("GET /{$}", p)
	mux.HandleFunc("GET /publicity/issues.csv", p.issuesCSV)
}

package web

import (
	"net/http"

	"go.uber.org/zap"
)

// registerStatus adds the status page and what is made from its data: each target's page,
// the CSV of the records behind the publicity counts, the JSON API (docs/api.md) and the
// badges.
func registerStatus(mux *http.ServeMux, svc statusSource, log *zap.Logger) {
	p := &statusPage{svc: svc, log: log}
	mux.Handle("GET /{$}", p)
	mux.HandleFunc("GET /publicity/issues.csv", p.issuesCSV)
	mux.HandleFunc("GET /targets/{target}", p.targetPage)
	mux.HandleFunc("GET /api/v1/status", p.apiStatus)
	mux.HandleFunc("GET /api/v1/targets/{target}", p.apiTarget)
	mux.HandleFunc("GET /api/v1/score", p.apiScore)
	mux.HandleFunc("GET /api/v1/incidents", p.apiIncidents)
	mux.HandleFunc("GET /badge/score", p.badgeScore)
	mux.HandleFunc("GET /badge/{target}/uptime", p.badgeUptime)
}

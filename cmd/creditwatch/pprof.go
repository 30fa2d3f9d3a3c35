//go:build pprof

// Built with -tags pprof, creditwatch serves net/http/pprof on $CREDITWATCH_PPROF (e.g.
// 127.0.0.1:6060), for profiling a running serve under bench/sbs.sh or bench/scale.sh.
// Normal builds have no profiling endpoint.
package main

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("CREDITWATCH_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}

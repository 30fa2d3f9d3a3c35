package sim

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

//go:embed assets/index.html
var indexPage []byte

var (
	gbkPage     = mustGBK(indexPage)
	jsChallenge = []byte(`<html><head><meta charset="utf-8"></head><body><script>document.cookie=("__jsl_clearance=` +
		`1764201600.123|0|0h5Jd7%2BAaXq1bNfC4mY%3D;max-age=3600;path=/");location.href=location.pathname+location.search</script></body></html>`)
	maintenance = []byte(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>系统维护</title></head>` +
		`<body><h1>系统升级维护中，请稍后访问</h1></body></html>`)
)

func mustGBK(b []byte) []byte {
	out, err := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.Replace(b, []byte(`charset="utf-8"`), []byte(`charset="gbk"`), 1))
	if err != nil {
		panic(err)
	}
	return out
}

// Sim is a running simulated platform.
type Sim struct {
	addr     string
	scenario *Scenario
	log      *zap.Logger
	start    time.Time
	srv      *http.Server

	platform *platform

	mu       sync.Mutex
	listener net.Listener // nil while the portal is down
	requests int
	served   map[string]int
	reports  map[string]int // reports served by defect
	closed   bool
	done     chan struct{}
	tls      *tls.Config // nil: plain HTTP
}

func (s *Sim) listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil || s.tls == nil {
		return l, err
	}
	return tls.NewListener(l, s.tls), nil
}

// Start listens on addr (":0" picks a port) and serves until Close.
func Start(addr string, sc *Scenario, log *zap.Logger) (*Sim, error) {
	return start(addr, sc, log, false)
}

// StartTLS is Start over HTTPS with a fresh self-signed certificate.
func StartTLS(addr string, sc *Scenario, log *zap.Logger) (*Sim, error) {
	return start(addr, sc, log, true)
}

func start(addr string, sc *Scenario, log *zap.Logger, withTLS bool) (*Sim, error) {
	if sc == nil {
		sc = &Scenario{}
	}
	s := &Sim{scenario: sc, log: log, start: time.Now(), served: map[string]int{}, reports: map[string]int{}, done: make(chan struct{})}
	if withTLS {
		cfg, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.tls = cfg
	}
	l, err := s.listen(addr)
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	pl, err := newPlatform(sc.Platform, s.start)
	if err != nil {
		l.Close()
		return nil, err
	}
	pl.finishDuplicates()
	s.platform = pl
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.portal)
	mux.HandleFunc("GET /-/sim/stats", s.stats)
	mux.HandleFunc("GET /report", s.report)
	mux.HandleFunc("GET /xydt/{$}", s.news)
	mux.HandleFunc("GET /sgs/{$}", s.staleList)
	mux.HandleFunc("GET /-/sim/pages/{kind}", s.page)
	mux.HandleFunc("GET /api/v1/publicity/{kind}/changes", pl.changes)
	mux.HandleFunc("GET /-/sim/platform/truth", pl.truth)
	mux.HandleFunc("GET /api/v1/objections/changes", pl.caseChanges("objection"))
	mux.HandleFunc("GET /api/v1/repairs/changes", pl.caseChanges("repair"))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.serve(l)
	if len(sc.Faults) > 0 {
		go s.watchDown()
	}
	return s, nil
}

// URL is the portal's home page.
func (s *Sim) URL() string {
	if s.tls != nil {
		return "https://" + s.addr + "/"
	}
	return "http://" + s.addr + "/"
}

func (s *Sim) serve(l net.Listener) {
	s.mu.Lock()
	s.listener = l
	s.mu.Unlock()
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.log.Error("simulator stopped serving", zap.Error(err))
		}
	}()
}

// watchDown closes the listener while a timed "down" fault is in force, so that probes
// see a refused connection, and opens it again afterwards.
func (s *Sim) watchDown() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		down := s.scenario.At(time.Since(s.start)).Kind == FaultDown
		s.mu.Lock()
		l := s.listener
		s.mu.Unlock()
		switch {
		case down && l != nil:
			s.mu.Lock()
			s.listener = nil
			s.mu.Unlock()
			l.Close()
			s.log.Info("simulated portal down")
		case !down && l == nil:
			nl, err := s.listen(s.addr)
			if err != nil {
				s.log.Warn("simulator could not listen again", zap.String("addr", s.addr), zap.Error(err))
				continue
			}
			s.serve(nl)
			s.log.Info("simulated portal back up")
		}
	}
}

func (s *Sim) fault() Fault {
	s.mu.Lock()
	n := s.requests
	s.requests++
	s.mu.Unlock()
	if len(s.scenario.Sequence) > 0 {
		return s.scenario.Nth(n)
	}
	return s.scenario.At(time.Since(s.start))
}

func (s *Sim) portal(w http.ResponseWriter, r *http.Request) {
	f := s.fault()
	s.mu.Lock()
	s.served[f.Kind]++
	s.mu.Unlock()
	html := func(status int, body []byte, charset string) {
		w.Header().Set("Content-Type", "text/html; charset="+charset)
		w.WriteHeader(status)
		w.Write(body)
	}
	switch f.Kind {
	case FaultDown:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0) // a reset, as a crashed server gives
				}
				conn.Close()
				return
			}
		}
		html(http.StatusBadGateway, maintenance, "utf-8")
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		html(status, maintenance, "utf-8")
	case FaultSlow:
		select {
		case <-time.After(time.Duration(f.Delay)):
		case <-r.Context().Done():
			return
		}
		html(http.StatusOK, indexPage, "utf-8")
	case FaultHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case FaultChallenge412:
		html(http.StatusPreconditionFailed, jsChallenge, "utf-8")
	case FaultChallengeJS:
		html(http.StatusOK, jsChallenge, "utf-8")
	case FaultWrongContent:
		html(http.StatusOK, maintenance, "utf-8")
	case FaultGBK:
		html(http.StatusOK, gbkPage, "gbk")
	case FaultDefaceKeyword, FaultDefaceScript, FaultDefaceIframe, FaultDefaceLink, FaultDefaceHiddenLink,
		FaultDefaceTitle, FaultDefacePage, FaultRedesign:
		page, _ := PortalPage(f.Kind)
		html(http.StatusOK, page, "utf-8")
	default:
		html(http.StatusOK, indexPage, "utf-8")
	}
}

// Stats are the simulator's counts of portal requests by fault kind and of credit reports
// served by defect.
type Stats struct {
	Requests int            `json:"requests"`
	ByKind   map[string]int `json:"by_kind"`
	Reports  map[string]int `json:"reports"`
}

func (s *Sim) stats(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	st := Stats{Requests: s.requests, ByKind: map[string]int{}, Reports: map[string]int{}}
	for k, v := range s.served {
		st.ByKind[k] = v
	}
	for k, v := range s.reports {
		st.Reports[k] = v
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// Close stops the simulator.
func (s *Sim) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	return s.srv.Shutdown(ctx)
}

package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// Server serves a handler on listeners with exporter-toolkit's TLS and basic auth, taken from
// the web config file, and lets health probes through without credentials when that file
// sets health_without_auth: true.
type Server struct {
	handler http.Handler
	flags   web.FlagConfig
	cfg     *webConfig // nil without a web config file
	log     *slog.Logger

	mu      sync.Mutex
	servers []*http.Server
}

// NewServer reads the web config file of flags, if any.
func NewServer(h http.Handler, flags *web.FlagConfig, log *slog.Logger) (*Server, error) {
	s := &Server{handler: h, flags: *flags, log: log}
	if flags.WebConfigFile == nil || *flags.WebConfigFile == "" {
		return s, nil
	}
	cfg, err := loadWebConfig(*flags.WebConfigFile)
	if err != nil {
		return nil, err
	}
	s.cfg, s.flags.WebConfigFile = cfg, &cfg.copy
	return s, nil
}

// Serve serves every listener, each with its own http.Server, until one fails or Shutdown.
func (s *Server) Serve(listeners []net.Listener) error {
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		srv := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
		s.mu.Lock()
		s.servers = append(s.servers, srv)
		s.mu.Unlock()
		if s.cfg != nil {
			l = &wrapOnAccept{Listener: l, wrap: func() { srv.Handler = s.cfg.healthFirst(s.handler, srv.Handler) }}
		}
		go func() { errc <- web.Serve(l, srv, &s.flags, s.log) }()
	}
	var errs []error
	for range listeners {
		err := <-errc
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Shutdown stops every server gracefully and removes the copy of the web config.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	if s.cfg != nil {
		errs = append(errs, s.cfg.close())
	}
	return errors.Join(errs...)
}

// wrapOnAccept runs wrap once, at the first Accept. web.Serve puts its authentication around
// the server's handler before it starts accepting, in the goroutine that accepts; wrapping
// then puts health ahead of the authentication before any request is served.
type wrapOnAccept struct {
	net.Listener
	once sync.Once
	wrap func()
}

func (l *wrapOnAccept) Accept() (net.Conn, error) {
	l.once.Do(l.wrap)
	return l.Listener.Accept()
}

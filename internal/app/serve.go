// Package app holds the bodies of creditwatch's subcommands; cmd/creditwatch only parses
// flags and calls them.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/logging"
	"github.com/creditwatch/creditwatch/internal/service"
	cwweb "github.com/creditwatch/creditwatch/internal/web"
)

// ServeOptions are the serve subcommand's flags.
type ServeOptions struct {
	Service service.Options
	Web     *web.FlagConfig
	// Ready, when set, receives the addresses served once listening (the demo prints them).
	Ready func(addrs []string)
	// ExternalURL and RunbookURL are --web.external-url and --web.runbook-url: where the
	// alerts link to (Links).
	ExternalURL, RunbookURL string
}

// Serve runs the service until SIGINT or SIGTERM; SIGHUP reloads the config.
func Serve(ctx context.Context, o ServeOptions) error {
	log := o.Service.Logger
	if _, err := Links(o.ExternalURL, o.RunbookURL, *o.Web.WebListenAddresses); err != nil {
		return err
	}
	svc, err := service.Start(ctx, o.Service)
	if err != nil {
		return err
	}
	srv, err := cwweb.NewServer(cwweb.Handler(svc, log), o.Web, logging.Slog(log))
	if err != nil {
		svc.Close(context.Background())
		return err
	}
	listeners, addrs, err := listen(*o.Web.WebListenAddresses)
	if err != nil {
		srv.Shutdown(context.Background())
		svc.Close(context.Background())
		return err
	}
	// Worked out again from the addresses bound: a listen address of port 0 gets its port now.
	links, err := Links(o.ExternalURL, o.RunbookURL, addrs)
	if err != nil {
		for _, l := range listeners {
			l.Close()
		}
		srv.Shutdown(context.Background())
		svc.Close(context.Background())
		return err
	}
	svc.Store().SetLinks(links)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(listeners) }()
	log.Info("listening", zap.Strings("addresses", addrs), zap.String("status_url", links.StatusURL),
		zap.String("runbook_url", links.RunbookURL))
	if o.Ready != nil {
		o.Ready(addrs)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				svc.Reload(ctx)
				continue
			}
			log.Info("shutting down", zap.String("signal", sig.String()))
		case <-ctx.Done():
			log.Info("shutting down")
		case err := <-errc:
			if !errors.Is(err, http.ErrServerClosed) {
				srv.Shutdown(context.Background())
				svc.Close(context.Background())
				return fmt.Errorf("web server: %w", err)
			}
		}
		break
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(sctx), svc.Close(sctx))
}

func listen(addrs []string) ([]net.Listener, []string, error) {
	var ls []net.Listener
	var out []string
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return nil, nil, fmt.Errorf("listening on %s: %w", a, err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return ls, out, nil
}

package app

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/sim"
)

// DemoScenario is the demo's scripted platform: a five-minute day of faults that repeats.
//
//go:embed demo-scenario.yml
var DemoScenario []byte

// DemoOptions are the demo subcommand's flags.
type DemoOptions struct {
	Serve       ServeOptions
	SimListen   string
	Out         io.Writer
	StoragePath string
}

// Demo runs the simulated platform and the service watching it, on loopback.
func Demo(ctx context.Context, o DemoOptions) error {
	log := o.Serve.Service.Logger
	sc, err := sim.ParseScenario(DemoScenario)
	if err != nil {
		return fmt.Errorf("demo scenario: %w", err)
	}
	s, err := sim.Start(o.SimListen, sc, log.With(zap.String("component", "sim")))
	if err != nil {
		// The usual port is taken; any free one will do for a demo.
		if s, err = sim.Start("127.0.0.1:0", sc, log.With(zap.String("component", "sim"))); err != nil {
			return fmt.Errorf("starting the simulated platform: %w", err)
		}
	}
	defer s.Close(context.Background())

	dir := filepath.Dir(o.StoragePath)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	cfgPath := filepath.Join(dir, "demo.yml")
	tokenPath := filepath.Join(dir, "demo-platform.token")
	if err := os.WriteFile(tokenPath, []byte(sc.Platform.Token+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing demo token: %w", err)
	}
	if err := os.WriteFile(cfgPath, []byte(demoConfig(s.URL(), o.StoragePath, tokenPath)), 0o640); err != nil {
		return fmt.Errorf("writing demo config: %w", err)
	}
	o.Serve.Service.ConfigFile = cfgPath
	o.Serve.Ready = func(addrs []string) {
		fmt.Fprintf(o.Out, `
creditwatch demo is running (Ctrl-C stops it).

  simulated credit portal   %s
  status page (中文)         http://%s/
  Prometheus metrics        http://%s/metrics
  config                    %s
  ledger (SQLite)           %s

The simulated portal goes down 20 s after start for 30 s (an incident), blips once at
1m30s (a risk event, not an incident), is challenged by a WAF at 2m30s and hangs at 4m;
the script repeats every 5 minutes. Its data API publishes 4,200 licence and penalty
records over about a minute, a few faulty, late or unreported; creditwatch polls it every
10 s and audits them (double publicity rates, code error rate).
`, s.URL(), hostPort(addrs[0]), hostPort(addrs[0]), cfgPath, o.StoragePath)
	}
	return Serve(ctx, o.Serve)
}

func hostPort(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		return "localhost:" + port
	}
	return addr
}

func demoConfig(url, storage, token string) string {
	return strings.NewReplacer("{url}", url, "{api}", strings.TrimSuffix(url, "/"), "{storage}", storage, "{token}", token).Replace(`# Written by "creditwatch demo"; edit and reload with: kill -HUP <pid>
platform:
  url: {api}
  token_file: {token}
  interval: 10s
  timeout: 5s
portal:
  targets:
    - name: credit-portal
      url: {url}
      interval: 5s
      timeout: 2s
      jitter: 1s
      expect:
        status: [200]
        body_contains: ["信用"]
    - name: news
      url: {url}xydt/
      interval: 30s
      timeout: 2s
      freshness: {selector: "span.date", max_age_workdays: 3}
    - name: sgs
      url: {url}sgs/
      interval: 30s
      timeout: 2s
      freshness: {max_age_workdays: 10}
  incident:
    open_after: 2
    close_after: 2
credit_reports:
  url_template: {url}report?code={code}
  daily_sample: 20
  interval: 20s
storage:
  path: {storage}
`)
}

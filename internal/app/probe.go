package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/collectors"
	"github.com/creditwatch/creditwatch/internal/config"
)

// Probe probes the portal targets of a config once (those named, or all), prints what each
// answered and records nothing. It fails with exit code 3 when a probe fails.
func Probe(ctx context.Context, cfgFile string, names []string, out io.Writer, log *zap.Logger) error {
	cfg, err := config.Load(cfgFile)
	if err != nil {
		return err
	}
	failed, probed := 0, 0
	for _, t := range cfg.Portal.Targets {
		if len(names) > 0 && !slices.Contains(names, t.Name) {
			continue
		}
		p, err := collectors.NewPortal(t, cfg.Portal, collectors.Deps{Logger: log})
		if err != nil {
			return err
		}
		v, status, n := p.Check(ctx)
		probed++
		if v.Outcome != collectors.OutcomeOK && (v.Outcome != collectors.OutcomeChallenged || cfg.Portal.Incident.ChallengeFails()) {
			failed++
		}
		fmt.Fprintf(out, "%s: %s, HTTP %d, %d bytes", t.Name, v.Outcome, status, n)
		if v.Error != "" {
			fmt.Fprintf(out, ": %s", v.Error)
		}
		fmt.Fprintln(out)
	}
	switch {
	case probed == 0:
		return errors.New("no portal target to probe")
	case failed > 0:
		return exitErr(3, "%d of %d probes failed", failed, probed)
	}
	return nil
}

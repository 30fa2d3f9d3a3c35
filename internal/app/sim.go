package app

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/sim"
)

// RunSim serves the simulated platform until SIGINT or SIGTERM.
func RunSim(ctx context.Context, listen, scenario string, withTLS bool, log *zap.Logger) error {
	sc := &sim.Scenario{}
	if scenario != "" {
		var err error
		if sc, err = sim.LoadScenario(scenario); err != nil {
			return err
		}
	}
	startSim := sim.Start
	if withTLS {
		startSim = sim.StartTLS
	}
	s, err := startSim(listen, sc, log)
	if err != nil {
		return fmt.Errorf("starting the simulator on %s: %w", listen, err)
	}
	log.Info("simulated platform listening", zap.String("url", s.URL()))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return s.Close(context.Background())
}

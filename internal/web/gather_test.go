package web

import "context"

// gather reads the whole status page's data, every target's daily bar and sparkline
// included: what the tests look at (the handlers read a page of targets in full, the rest
// without their heavy parts).
func (g *gatherer) gather(ctx context.Context) (*statusData, error) {
	d, err := g.summary(ctx)
	if err != nil {
		return nil, err
	}
	if err := g.detail(ctx, d.Targets, true); err != nil {
		return nil, err
	}
	return d, nil
}

// statusJSON is the answer of /api/v1/status with every target, its data gathered in full.
func statusJSON(d *statusData) apiStatus {
	out := statusJSONOf(d, d.Targets)
	out.TargetsTotal, out.TargetsLimit = len(d.Targets), max(len(d.Targets), defaultLimit)
	return out
}

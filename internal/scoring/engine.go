package scoring

import (
	"math"
)

// epsilon absorbs floating-point noise at band edges (3e-5/1e-5 must be exactly 3 units).
const epsilon = 1e-9

// Observation is what the collectors measured for one rule input over a period.
// Known is false when nothing was measured, or when it cannot be worked out (Reason says
// why); such an indicator is shown unscored.
type Observation struct {
	Known  bool
	Reason string    // why an unknown observation is unknown, in Chinese; "" when nothing was watched
	Count  float64   // per_event: events in the period
	Value  float64   // linear_band, per_excess_unit, threshold_gate
	Ratios []float64 // ratio_gate
	OK     bool      // all_or_nothing
}

// Options are the office's settings that change how rules are read.
type Options struct {
	// Rounding overrides the catalogue's rounding of per_excess_unit rules when set.
	Rounding string
}

// Result is the outcome of one indicator.
type Result struct {
	ID         string
	Ledger     string
	Title      string
	Name       string
	MaxPoints  float64
	Observable bool
	Known      bool
	Points     float64
	Gate       bool
	GatePass   bool // meaningful only when Gate and Known
	Input      Observation
	Rule       *Rule
}

// Lost is the number of points this indicator loses.
func (r Result) Lost() float64 { return r.MaxPoints - r.Points }

// Evaluate applies an indicator's rule to an observation.
func Evaluate(ind Indicator, obs Observation, opts Options) Result {
	res := Result{
		ID: ind.ID, Ledger: ind.Ledger, Title: ind.Title, Name: ind.Name, MaxPoints: ind.MaxPoints,
		Observable: ind.Observable, Gate: ind.Gate, Rule: ind.Rule, Input: obs,
	}
	if ind.Rule == nil || !obs.Known {
		return res
	}
	res.Known = true
	r := ind.Rule
	switch r.Kind {
	case KindPerEvent:
		res.Points = ind.MaxPoints - r.Deduction*obs.Count
	case KindLinearBand:
		res.Points = linearBand(ind.MaxPoints, r.FullAt, r.ZeroAbove, obs.Value)
	case KindPerExcessUnit:
		rounding := r.Rounding
		if opts.Rounding != "" {
			rounding = opts.Rounding
		}
		res.Points = ind.MaxPoints - r.Deduction*excessUnits(obs.Value, r.Limit, r.Unit, rounding)
	case KindAllOrNothing:
		if obs.OK {
			res.Points = ind.MaxPoints
		}
	case KindRatioGate:
		res.GatePass = len(obs.Ratios) > 0
		for _, v := range obs.Ratios {
			if v < 1-epsilon {
				res.GatePass = false
			}
		}
	case KindThresholdGate:
		res.GatePass = obs.Value < r.Below
	}
	if r.GateBelow != nil {
		res.Gate = true
		res.GatePass = obs.Value < *r.GateBelow
	}
	res.Points = clamp(res.Points, 0, ind.MaxPoints)
	return res
}

func linearBand(maxPoints, fullAt, zeroAbove, v float64) float64 {
	switch {
	case v <= fullAt+epsilon*fullAt:
		return maxPoints
	case v > zeroAbove+epsilon*zeroAbove:
		return 0
	default:
		return maxPoints * (zeroAbove - v) / (zeroAbove - fullAt)
	}
}

func excessUnits(v, limit, unit float64, rounding string) float64 {
	units := (v - limit) / unit
	if units <= epsilon {
		return 0
	}
	if rounding == RoundExact {
		return units
	}
	return math.Ceil(units - epsilon)
}

func clamp(v, lo, hi float64) float64 {
	// Round to 1e-9 so that 2 − 0.4×3 prints as 0.8, not 0.7999999999999998.
	v = math.Round(v*1e9) / 1e9
	return math.Max(lo, math.Min(hi, v))
}

// Card evaluates every indicator of the catalogue. obs maps rule inputs to observations;
// inputs missing from it are unknown.
func Card(c *Catalogue, obs map[string]Observation, opts Options) []Result {
	out := make([]Result, 0, len(c.Indicators))
	for _, ind := range c.Indicators {
		var o Observation
		if ind.Rule != nil {
			o = obs[ind.Rule.Input]
		}
		out = append(out, Evaluate(ind, o, opts))
	}
	return out
}

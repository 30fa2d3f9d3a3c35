// Package scoring turns observations into points. It is pure: no network, no clock, no
// Prometheus types. Every rule comes from the catalogue in seeds/.
package scoring

import (
	"bytes"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/seeds"
)

// Rule kinds understood by the engine.
const (
	KindPerEvent      = "per_event"
	KindLinearBand    = "linear_band"
	KindPerExcessUnit = "per_excess_unit"
	KindAllOrNothing  = "all_or_nothing"
	KindRatioGate     = "ratio_gate"
	KindThresholdGate = "threshold_gate"
)

// Rounding modes for per_excess_unit rules.
const (
	RoundCeil  = "ceil"
	RoundExact = "exact"
)

// Catalogue is the machine-readable list of every ledger row.
type Catalogue struct {
	Version    int         `yaml:"version"`
	Source     string      `yaml:"source"`
	Indicators []Indicator `yaml:"indicators"`
}

// Indicator is one ledger row.
type Indicator struct {
	ID     string `yaml:"id"`
	Ledger string `yaml:"ledger"`
	Title  string `yaml:"title"`
	// Name is a short Chinese name, for alerts, pages and reports; observable rows have one.
	Name       string  `yaml:"name"`
	MaxPoints  float64 `yaml:"max_points"`
	Gate       bool    `yaml:"gate"`
	Bonus      bool    `yaml:"bonus"`
	Observable bool    `yaml:"observable"`
	Rule       *Rule   `yaml:"rule"`
}

// Rule is how an observable indicator's points (or gate) follow from one observation.
type Rule struct {
	Kind      string   `yaml:"kind"`
	Input     string   `yaml:"input"`
	Deduction float64  `yaml:"deduction"`
	FullAt    float64  `yaml:"full_at"`
	ZeroAbove float64  `yaml:"zero_above"`
	Limit     float64  `yaml:"limit"`
	Unit      float64  `yaml:"unit"`
	Rounding  string   `yaml:"rounding"`
	Below     float64  `yaml:"below"`
	GateBelow *float64 `yaml:"gate_below"`
	// Measure is what the observed value is, for people reading it: ratio (shown as a
	// percentage), workdays, count or condition.
	Measure string `yaml:"measure"`
}

// Measures of an observed value.
const (
	MeasureRatio     = "ratio"
	MeasureWorkdays  = "workdays"
	MeasureCount     = "count"
	MeasureCondition = "condition"
)

// LoadCatalogue parses and validates a catalogue document. Unknown keys are errors.
func LoadCatalogue(data []byte) (*Catalogue, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Catalogue
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parsing catalogue: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// MustDefault returns the catalogue embedded from seeds/; it panics if that file is broken,
// which a unit test rules out.
func MustDefault() *Catalogue {
	c, err := LoadCatalogue(seeds.Catalogue)
	if err != nil {
		panic(err)
	}
	return c
}

// Find returns the indicator with the given id.
func (c *Catalogue) Find(id string) (Indicator, bool) {
	for _, ind := range c.Indicators {
		if ind.ID == id {
			return ind, true
		}
	}
	return Indicator{}, false
}

func (c *Catalogue) validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, ind := range c.Indicators {
		where := fmt.Sprintf("catalogue indicator %d (%q)", i+1, ind.ID)
		switch {
		case ind.ID == "":
			errs = append(errs, fmt.Errorf("%s: id is empty", where))
		case seen[ind.ID]:
			errs = append(errs, fmt.Errorf("%s: duplicate id", where))
		}
		seen[ind.ID] = true
		if ind.Ledger == "" {
			errs = append(errs, fmt.Errorf("%s: ledger row is empty", where))
		}
		if ind.MaxPoints < 0 {
			errs = append(errs, fmt.Errorf("%s: max_points is negative", where))
		}
		if ind.Observable != (ind.Rule != nil) {
			errs = append(errs, fmt.Errorf("%s: an observable indicator needs a rule and only it may have one", where))
			continue
		}
		if ind.Rule != nil {
			if ind.Name == "" {
				errs = append(errs, fmt.Errorf("%s: an observable indicator needs a short name", where))
			}
			if err := ind.Rule.validate(ind); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (r *Rule) validate(ind Indicator) error {
	if r.Input == "" {
		return errors.New("rule input is empty")
	}
	switch r.Measure {
	case MeasureRatio, MeasureWorkdays, MeasureCount, MeasureCondition:
	default:
		return fmt.Errorf("rule measure %q is not ratio, workdays, count or condition", r.Measure)
	}
	gateKind := r.Kind == KindRatioGate || r.Kind == KindThresholdGate
	if gateKind != (ind.Gate && ind.MaxPoints == 0) {
		return fmt.Errorf("rule kind %q does not fit gate=%t max_points=%g", r.Kind, ind.Gate, ind.MaxPoints)
	}
	switch r.Kind {
	case KindPerEvent:
		if r.Deduction <= 0 {
			return errors.New("per_event needs a positive deduction")
		}
	case KindLinearBand:
		if !(r.FullAt < r.ZeroAbove) {
			return errors.New("linear_band needs full_at < zero_above")
		}
	case KindPerExcessUnit:
		if r.Unit <= 0 || r.Deduction <= 0 {
			return errors.New("per_excess_unit needs a positive unit and deduction")
		}
		if r.Rounding != RoundCeil && r.Rounding != RoundExact {
			return fmt.Errorf("rounding %q is not ceil or exact", r.Rounding)
		}
	case KindThresholdGate:
		if r.Below <= 0 {
			return errors.New("threshold_gate needs a positive below")
		}
	case KindAllOrNothing, KindRatioGate:
	default:
		return fmt.Errorf("unknown rule kind %q", r.Kind)
	}
	return nil
}

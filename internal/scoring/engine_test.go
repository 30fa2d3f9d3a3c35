package scoring

import (
	"strings"
	"testing"
)

func known(f func(*Observation)) Observation {
	o := Observation{Known: true}
	f(&o)
	return o
}

func count(n float64) Observation { return known(func(o *Observation) { o.Count = n }) }
func value(v float64) Observation { return known(func(o *Observation) { o.Value = v }) }
func ok(b bool) Observation       { return known(func(o *Observation) { o.OK = b }) }

func TestEvaluateCatalogueRows(t *testing.T) {
	cat := MustDefault()
	tests := map[string]struct {
		id       string
		obs      Observation
		opts     Options
		points   float64
		gate     bool // expected GatePass, checked only for gates
		unscored bool
	}{
		"accessibility no incident":        {id: "portal_accessibility", obs: count(0), points: 2},
		"accessibility one incident":       {id: "portal_accessibility", obs: count(1), points: 1.5},
		"accessibility three incidents":    {id: "portal_accessibility", obs: count(3), points: 0.5},
		"accessibility floor at four":      {id: "portal_accessibility", obs: count(4), points: 0},
		"accessibility floor past four":    {id: "portal_accessibility", obs: count(9), points: 0},
		"accessibility unobserved":         {id: "portal_accessibility", obs: Observation{}, unscored: true},
		"report conformance two bad":       {id: "portal_report_conformance", obs: count(2), points: 2},
		"report conformance floor":         {id: "portal_report_conformance", obs: count(5), points: 0},
		"objection share zero":             {id: "publicity_objection_share", obs: value(0), points: 2},
		"objection share at 1e-5":          {id: "publicity_objection_share", obs: value(1e-5), points: 2},
		"objection share midway 3e-5":      {id: "publicity_objection_share", obs: value(3e-5), points: 1},
		"objection share at 5e-5":          {id: "publicity_objection_share", obs: value(5e-5), points: 0},
		"objection share just below 5e-5":  {id: "publicity_objection_share", obs: value(4.6e-5), points: 0.2},
		"objection share above 5e-5":       {id: "publicity_objection_share", obs: value(6e-5), points: 0},
		"handling mean exactly 5":          {id: "objection_handling_time", obs: value(5), points: 2},
		"handling mean 5.01 ceil":          {id: "objection_handling_time", obs: value(5.01), points: 1.6},
		"handling mean 5.01 exact":         {id: "objection_handling_time", obs: value(5.01), opts: Options{Rounding: RoundExact}, points: 1.996},
		"handling mean 8 ceil":             {id: "objection_handling_time", obs: value(8), points: 0.8},
		"handling mean floor":              {id: "objection_handling_time", obs: value(11), points: 0},
		"repair timeliness one overdue":    {id: "repair_timeliness", obs: count(1), points: 1},
		"repair timeliness floor":          {id: "repair_timeliness", obs: count(3), points: 0},
		"repair compliance one bad":        {id: "repair_compliance", obs: count(1), points: 0.5},
		"repair compliance floor":          {id: "repair_compliance", obs: count(3), points: 0},
		"repair sync all same day":         {id: "repair_sync", obs: ok(true), points: 1},
		"repair sync one late":             {id: "repair_sync", obs: ok(false), points: 0},
		"security clean":                   {id: "security_incidents", obs: ok(true), points: 2},
		"security defaced":                 {id: "security_incidents", obs: ok(false), points: 0},
		"uscc zero":                        {id: "uscc_error_rate", obs: value(0), points: 1, gate: true},
		"uscc 1e-5 one unit":               {id: "uscc_error_rate", obs: value(1e-5), points: 0.9, gate: true},
		"uscc 3e-5 three units":            {id: "uscc_error_rate", obs: value(3e-5), points: 0.7, gate: true},
		"uscc 1.5e-5 ceil two units":       {id: "uscc_error_rate", obs: value(1.5e-5), points: 0.8, gate: true},
		"uscc 1.5e-5 exact":                {id: "uscc_error_rate", obs: value(1.5e-5), opts: Options{Rounding: RoundExact}, points: 0.85, gate: true},
		"uscc just under gate":             {id: "uscc_error_rate", obs: value(9.9e-5), points: 0, gate: true},
		"uscc at gate fails":               {id: "uscc_error_rate", obs: value(1e-4), points: 0, gate: false},
		"basic uscc gate passes":           {id: "basic_uscc_error_rate", obs: value(5e-5), gate: true},
		"basic uscc gate fails":            {id: "basic_uscc_error_rate", obs: value(2e-4), gate: false},
		"publicity gate all 1":             {id: "publicity_rates", obs: known(func(o *Observation) { o.Ratios = []float64{1, 1, 1} }), gate: true},
		"publicity gate one short":         {id: "publicity_rates", obs: known(func(o *Observation) { o.Ratios = []float64{1, 0.999, 1} }), gate: false},
		"publicity gate with nothing due":  {id: "publicity_rates", obs: known(func(o *Observation) {}), gate: false},
		"document evidence stays unscored": {id: "central_directives", obs: count(0), unscored: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ind, found := cat.Find(tc.id)
			if !found {
				t.Fatalf("indicator %q not in catalogue", tc.id)
			}
			got := Evaluate(ind, tc.obs, tc.opts)
			if got.Known == tc.unscored {
				t.Fatalf("Known = %t, want %t", got.Known, !tc.unscored)
			}
			if tc.unscored {
				return
			}
			if diff := got.Points - tc.points; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("points = %v, want %v", got.Points, tc.points)
			}
			if got.Gate && got.GatePass != tc.gate {
				t.Errorf("gate pass = %t, want %t", got.GatePass, tc.gate)
			}
		})
	}
}

func TestCardCoversEveryRow(t *testing.T) {
	cat := MustDefault()
	card := Card(cat, map[string]Observation{"portal_incidents": count(1)}, Options{})
	if len(card) != len(cat.Indicators) {
		t.Fatalf("card has %d rows, catalogue %d", len(card), len(cat.Indicators))
	}
	scored := 0
	for _, r := range card {
		if r.Known {
			scored++
		}
	}
	if scored != 1 {
		t.Errorf("scored rows = %d, want only portal_accessibility", scored)
	}
}

// TestCatalogueSectionTotals checks the catalogue's points against the totals that the
// source ledger prints in its section headings, e.g. "(二)行政许可、行政处罚信息“双公示” (8)".
func TestCatalogueSectionTotals(t *testing.T) {
	headings := map[string]float64{
		"一": 5, "二": 6, "三(一)": 4, "三(二)": 2, "四(一)": 3, "四(二)": 3, "四(三)": 2, "四(四)": 2,
		"五(一)": 1, "五(二)": 8, "五(三)": 7, "五(四)": 6, "五(五)": 1, "五(六)": 2,
		"七(二)": 7, "七(三)": 7, "七(四)": 4, "八": 6, "附加项(一)": 5, "附加项(二)": 5, "附加项(三)": 3,
	}
	sums := map[string]float64{}
	for _, ind := range MustDefault().Indicators {
		for h := range headings {
			if strings.HasPrefix(ind.Ledger, h) {
				sums[h] += ind.MaxPoints
			}
		}
	}
	for h, want := range headings {
		if sums[h] != want {
			t.Errorf("section %s sums to %v points, ledger heading says %v", h, sums[h], want)
		}
	}
}

func TestLoadCatalogueErrors(t *testing.T) {
	tests := map[string]struct {
		doc, want string
	}{
		"unknown key":             {"indicators:\n  - id: a\n    ledger: x\n    colour: red\n", "field colour not found"},
		"duplicate id":            {"indicators:\n  - {id: a, ledger: x}\n  - {id: a, ledger: y}\n", `catalogue indicator 2 ("a"): duplicate id`},
		"rule without observable": {"indicators:\n  - {id: a, ledger: x, max_points: 1, rule: {kind: per_event, input: i, deduction: 1}}\n", "needs a rule and only it may have one"},
		"unknown kind":            {"indicators:\n  - {id: a, ledger: x, name: A, max_points: 1, observable: true, rule: {kind: magic, input: i, measure: count}}\n", `unknown rule kind "magic"`},
		"bad rounding":            {"indicators:\n  - {id: a, ledger: x, name: A, max_points: 1, observable: true, rule: {kind: per_excess_unit, input: i, unit: 1, deduction: 1, rounding: up, measure: count}}\n", `rounding "up" is not ceil or exact`},
		"no name":                 {"indicators:\n  - {id: a, ledger: x, max_points: 1, observable: true, rule: {kind: per_event, input: i, deduction: 1, measure: count}}\n", "needs a short name"},
		"bad measure":             {"indicators:\n  - {id: a, ledger: x, name: A, max_points: 1, observable: true, rule: {kind: per_event, input: i, deduction: 1, measure: pct}}\n", `measure "pct" is not ratio`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := LoadCatalogue([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

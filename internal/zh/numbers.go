package zh

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/creditwatch/creditwatch/internal/scoring"
)

// Percent writes a ratio as a percentage with two decimals ("1.41 %"). A ratio too small to
// show with two decimals (a threshold of 1e-5) gets the decimals it needs ("0.001 %"), so
// that no non-zero figure reads as 0.
func Percent(ratio float64) string {
	p := ratio * 100
	if p == 0 || math.Abs(p) >= 0.01 {
		return strconv.FormatFloat(p, 'f', 2, 64) + " %"
	}
	// Two significant digits.
	decimals := int(-math.Floor(math.Log10(math.Abs(p)))) + 1
	return strings.TrimRight(strconv.FormatFloat(p, 'f', decimals, 64), "0") + " %"
}

// Number writes a count or an amount: integers as such, others with at most two decimals.
func Number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(v, 'f', 2, 64), "0"), ".")
}

// Value writes an observed value as its measure reads.
func Value(measure string, v float64) string {
	switch measure {
	case scoring.MeasureRatio:
		return Percent(v)
	case scoring.MeasureWorkdays:
		return Number(v) + " 个工作日"
	}
	return Number(v)
}

// GateWord is a basic indicator's verdict: 达标 or 未达标.
func GateWord(pass bool) string {
	if pass {
		return "达标"
	}
	return "未达标"
}

// Verdict is a row's result as a person reads it: "1.5 / 2 分", "达标", "未达标", or why
// there is none ("无数据", "依据佐证材料").
func Verdict(r scoring.Result) string {
	switch {
	case !r.Observable:
		return "依据佐证材料"
	case !r.Known:
		return "无数据"
	case r.Gate && r.MaxPoints == 0:
		return GateWord(r.GatePass)
	}
	return FormatPoints(r.Points) + " / " + FormatPoints(r.MaxPoints) + " 分"
}

// IndicatorName is an indicator's short Chinese name with its ledger row:
// "信用门户网站可访问性（五(四)1）". Rows without a short name use their title.
func IndicatorName(r scoring.Result) string {
	name := r.Name
	if name == "" {
		name = r.Title
	}
	return name + "（" + r.Ledger + "）"
}

// Headline sums up a card for people: the points of the observable indicators, those lost,
// and the basic indicators failing: "可监测指标 26 分，已扣 5 分；基础指标 1 项未达标".
func Headline(results []scoring.Result) string {
	var max, lost float64
	var unknown, failing, gatesUnknown int
	for _, r := range results {
		if !r.Observable {
			continue
		}
		if r.Gate && r.MaxPoints == 0 {
			switch {
			case !r.Known:
				gatesUnknown++
			case !r.GatePass:
				failing++
			}
			continue
		}
		max += r.MaxPoints
		if !r.Known {
			unknown++
			continue
		}
		lost += r.Lost()
	}
	s := fmt.Sprintf("可监测指标 %s 分，已扣 %s 分", FormatPoints(max), FormatPoints(lost))
	if unknown > 0 {
		s += fmt.Sprintf("（%d 项无数据）", unknown)
	}
	switch {
	case failing > 0:
		s += fmt.Sprintf("；基础指标 %d 项未达标", failing)
	case gatesUnknown > 0:
		s += fmt.Sprintf("；基础指标 %d 项无数据", gatesUnknown)
	default:
		s += "；可监测的基础指标均达标"
	}
	return s
}

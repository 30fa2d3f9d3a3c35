package zh

import (
	"fmt"
	"strings"

	"github.com/creditwatch/creditwatch/internal/scoring"
)

// ExplainZH says in Chinese how a score card row was computed.
func ExplainZH(r scoring.Result) string {
	if !r.Observable {
		return "不可监测，依据佐证材料评分"
	}
	if !r.Known {
		if r.Input.Reason != "" {
			return "无法评分：" + r.Input.Reason
		}
		return "尚无观测数据"
	}
	rule, in := r.Rule, r.Input
	v := func(x float64) string { return Value(rule.Measure, x) }
	switch rule.Kind {
	case scoring.KindPerEvent:
		return fmt.Sprintf("本周期 %s 起，每起扣 %s 分，最低 0 分", Number(in.Count), FormatPoints(rule.Deduction))
	case scoring.KindLinearBand:
		return fmt.Sprintf("观测值 %s；不超过 %s 得满分，超过 %s 不得分，其间按比例计分", v(in.Value), v(rule.FullAt), v(rule.ZeroAbove))
	case scoring.KindPerExcessUnit:
		s := fmt.Sprintf("观测值 %s；超出 %s 的部分每 %s 扣 %s 分", v(in.Value), v(rule.Limit), v(rule.Unit), FormatPoints(rule.Deduction))
		if rule.GateBelow != nil {
			s += fmt.Sprintf("；基础指标门槛：低于 %s", v(*rule.GateBelow))
		}
		return s
	case scoring.KindAllOrNothing:
		if in.OK {
			return "条件满足，得满分"
		}
		return "条件未满足，不得分"
	case scoring.KindRatioGate:
		parts := make([]string, len(in.Ratios))
		for i, x := range in.Ratios {
			parts[i] = Percent(x)
		}
		return "各项比率须均为 100 %：" + strings.Join(parts, "、")
	case scoring.KindThresholdGate:
		return fmt.Sprintf("观测值 %s，门槛为低于 %s", v(in.Value), v(rule.Below))
	}
	return ""
}

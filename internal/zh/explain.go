package zh

import (
	"fmt"
	"strconv"
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
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	rule, in := r.Rule, r.Input
	switch rule.Kind {
	case scoring.KindPerEvent:
		return fmt.Sprintf("本周期 %s 起，每起扣 %s 分，最低 0 分", g(in.Count), g(rule.Deduction))
	case scoring.KindLinearBand:
		return fmt.Sprintf("观测值 %s；不超过 %s 得满分，超过 %s 不得分，其间按比例计分", g(in.Value), g(rule.FullAt), g(rule.ZeroAbove))
	case scoring.KindPerExcessUnit:
		s := fmt.Sprintf("观测值 %s；超出 %s 的部分每 %s 扣 %s 分", g(in.Value), g(rule.Limit), g(rule.Unit), g(rule.Deduction))
		if rule.GateBelow != nil {
			s += fmt.Sprintf("；基础指标门槛：低于 %s", g(*rule.GateBelow))
		}
		return s
	case scoring.KindAllOrNothing:
		if in.OK {
			return "条件满足，得满分"
		}
		return "条件未满足，不得分"
	case scoring.KindRatioGate:
		parts := make([]string, len(in.Ratios))
		for i, v := range in.Ratios {
			parts[i] = strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
		}
		return "各项比率须均为100%：" + strings.Join(parts, "、")
	case scoring.KindThresholdGate:
		return fmt.Sprintf("观测值 %s，门槛为低于 %s", g(in.Value), g(rule.Below))
	}
	return ""
}

package web

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// nextStep is what to do for one indicator below its maximum or failing its gate, or with
// something coming due: concrete actions drawn from the data the card and ledger hold.
type nextStep struct {
	ID        string // the indicator's id; "" for the monitoring's own chores
	Indicator string // its short Chinese name and ledger row
	Verdict   string // as the card reads it
	Losing    bool   // below its maximum, or its gate failing
	Actions   []action
}

// action is one thing to do, with what it concerns.
type action struct {
	Text   string
	Due    string // YYYY-MM-DD: the deadline, "" if none
	Urgent bool   // due today, or overdue
	Items  []string
	More   int    // items not listed
	Link   string // where the page or another shows the details
}

// itemsShown bounds the items an action lists.
const itemsShown = 10

func listed(items []string) ([]string, int) {
	if len(items) <= itemsShown {
		return items, 0
	}
	return items[:itemsShown], len(items) - itemsShown
}

// nextStepInputs are what the next steps are drawn from.
type nextStepInputs struct {
	card     *card.Card
	issues   *issuesView
	targets  []targetView
	imports  importsView
	calendar *workday.Calendar
	cases    cases.Options
}

func losing(r scoring.Result) bool {
	return r.Known && (r.Lost() > 1e-9 || r.Gate && !r.GatePass)
}

// nextSteps lists, in the card's order, every observable indicator that is losing points or
// has something to do, then the monitoring's own chores.
func nextSteps(in nextStepInputs) []nextStep {
	c := in.card
	today := clock.LastDay(c.At)
	var out []nextStep
	said := map[string]bool{}
	for _, r := range c.Results {
		if !r.Observable {
			continue
		}
		acts := indicatorActions(r, in, today)
		for i, a := range acts {
			// Two indicators of one shortfall (the code error rate's gate and points) share
			// their actions: the second refers to the first.
			if said[a.Text] {
				acts[i].Text, acts[i].Items, acts[i].More, acts[i].Urgent = a.Text+"（同上）", nil, 0, false
			}
			said[a.Text] = true
		}
		if !losing(r) && len(acts) == 0 {
			continue
		}
		if losing(r) && len(acts) == 0 {
			acts = []action{{Text: "本项已失分；" + zh.ExplainZH(r)}}
		}
		out = append(out, nextStep{ID: r.ID, Indicator: zh.IndicatorName(r), Verdict: zh.Verdict(r), Losing: losing(r), Actions: acts})
	}
	if acts := choreActions(in); len(acts) > 0 {
		out = append(out, nextStep{Indicator: "监测与数据导入", Actions: acts})
	}
	return out
}

func indicatorActions(r scoring.Result, in nextStepInputs, today time.Time) []action {
	c := in.card
	switch r.Input.Reason {
	case "":
	default:
		return []action{{Text: "无法评分：" + r.Input.Reason}}
	}
	switch r.ID {
	case "basic_uscc_error_rate", "uscc_error_rate":
		return codeActions(c.Publicity, in.issues)
	case "publicity_rates":
		return publicityActions(in.issues)
	case "objection_handling_time":
		return objectionActions(c.Cases, in, today)
	case "repair_timeliness":
		return repairActions(c.Cases, in, today)
	case "repair_compliance":
		return repairComplianceActions(c.Cases)
	case "repair_sync":
		return syncActions(c.Cases, today)
	case "portal_accessibility":
		return portalActions(r, c, in.targets)
	case "portal_report_conformance":
		return reportActions(c.Reports)
	case "security_incidents":
		return securityActions(c.Security)
	case "publicity_objection_share":
		if losing(r) {
			return []action{{Text: "有效异议占比 " + zh.Percent(r.Input.Value) + " 超出满分线：逐件核查被异议的决定书，更正错误的公示内容，并督促各单位公示前复核",
				Link: "#cases"}}
		}
	}
	return nil
}

func codeActions(pub *card.Publicity, issues *issuesView) []action {
	if pub == nil || pub.Codes.Invalid+pub.Codes.Duplicated == 0 {
		return nil
	}
	a := action{Text: fmt.Sprintf("更正统一社会信用代码：无效 %d 个，同一代码对应不同名称（重码）%d 个；重错率 %s",
		pub.Codes.Invalid, pub.Codes.Duplicated, zh.Percent(pub.Codes.ErrorRate())), Link: "#publicity-issues"}
	if issues != nil {
		var items []string
		for _, g := range issues.Groups {
			for _, r := range g.Records {
				if g.Issue == publicity.IssueFaulty && contains(r.Rules, publicity.RuleBadCode) {
					items = append(items, r.ID+"（"+r.Department+"）")
				}
			}
		}
		a.Items, a.More = listed(items)
	}
	return []action{a}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func issueItems(g issueGroup, withDeadline bool) ([]string, int) {
	var items []string
	for _, r := range g.Records {
		s := r.ID + "（" + r.Department
		if withDeadline && r.Deadline != "" {
			s += "，期限 " + r.Deadline
		}
		if len(r.Rules) > 0 {
			s += "：" + ruleNames(r.Rules)
		}
		items = append(items, s+"）")
	}
	shown, more := listed(items)
	return shown, more + g.Count - len(g.Records)
}

func publicityActions(iv *issuesView) []action {
	if iv == nil {
		return nil
	}
	var out []action
	for _, g := range iv.Groups {
		if g.Count == 0 {
			continue
		}
		a := action{Link: "#issue-" + g.Issue}
		switch g.Issue {
		case publicity.IssueOverdue:
			a.Text, a.Urgent = fmt.Sprintf("立即补报逾期未报的 %d 条记录（已计入上报率）", g.Count), true
			a.Items, a.More = issueItems(g, true)
		case publicity.IssueDueSoon:
			a.Text = fmt.Sprintf("在期限前上报 %d 条即将到期的记录", g.Count)
			if len(g.Records) > 0 {
				a.Due = g.Records[0].Deadline
				a.Urgent = a.Due == iv.AsOf
			}
			a.Items, a.More = issueItems(g, true)
		case publicity.IssueFaulty:
			a.Text = fmt.Sprintf("更正并重新上报 %d 条不合规记录（已计入合规率）", g.Count)
			a.Items, a.More = issueItems(g, false)
		case publicity.IssueLate:
			a.Text = fmt.Sprintf("%d 条记录迟报，已计入及时率，本周期无法补救：请督促相关单位在决定之日起 %d 个工作日内上报", g.Count, iv.DeadlineDays)
			a.Items, a.More = issueItems(g, true)
		}
		out = append(out, a)
	}
	return out
}

// deadlineAfter is the day a case n working days old reaches limit working days: the last
// day it can be closed in time; zero once past it.
func deadlineAfter(cal *workday.Calendar, today time.Time, limit, n int) time.Time {
	if n < limit {
		d, err := cal.AddWorkdays(today, limit-n)
		if err != nil {
			return time.Time{}
		}
		return d
	}
	if n == limit {
		if ok, err := cal.IsWorkday(today); err == nil && ok {
			return today
		}
	}
	return time.Time{}
}

func (in nextStepInputs) cal() *workday.Calendar {
	if in.cases.Calendar != nil {
		return in.cases.Calendar
	}
	if in.calendar != nil {
		return in.calendar
	}
	return workday.Default
}

type dueItem struct {
	due  time.Time
	text string
}

func dueItems(items []dueItem) ([]string, string) {
	sort.SliceStable(items, func(i, j int) bool { return items[i].due.Before(items[j].due) })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.text
	}
	first := ""
	if len(items) > 0 && !items[0].due.IsZero() {
		first = clock.Date(items[0].due)
	}
	return out, first
}

func objectionActions(cs *card.Cases, in nextStepInputs, today time.Time) []action {
	if cs == nil || !cs.HaveObjections {
		return nil
	}
	limit := in.cases.ObjectionLimit
	if limit == 0 {
		limit = 5
	}
	var near, over []dueItem
	for _, f := range cs.Objections {
		if !f.Open || f.Unknown != "" {
			continue
		}
		due := deadlineAfter(in.cal(), today, limit, f.Workdays)
		switch {
		case due.IsZero():
			over = append(over, dueItem{text: fmt.Sprintf("异议 %s（已受理 %d 个工作日）", f.ID, f.Workdays)})
		case f.Workdays >= limit-2:
			near = append(near, dueItem{due: due, text: fmt.Sprintf("异议 %s（已受理 %d 个工作日，须于 %s 前办结）", f.ID, f.Workdays, clock.Date(due))})
		}
	}
	var out []action
	if len(over) > 0 {
		items, _ := dueItems(over)
		a := action{Text: fmt.Sprintf("%d 件异议已超过 %d 个工作日仍未办结，将拉高平均办理时间：尽快办结", len(over), limit), Urgent: true, Link: "#cases"}
		a.Items, a.More = listed(items)
		out = append(out, a)
	}
	if len(near) > 0 {
		items, first := dueItems(near)
		a := action{Text: fmt.Sprintf("%d 件异议临近 %d 个工作日的办理期限", len(near), limit), Due: first, Urgent: first == clock.Date(today), Link: "#cases"}
		a.Items, a.More = listed(items)
		out = append(out, a)
	}
	if m := cs.Summary.Objections.MeanWorkdays; m > float64(limit) {
		out = append(out, action{Text: fmt.Sprintf("本周期异议平均办理 %s 个工作日，超过 %d 个工作日：此后受理的异议应尽快办结以拉低平均值", zh.Number(m), limit)})
	}
	return out
}

func repairActions(cs *card.Cases, in nextStepInputs, today time.Time) []action {
	if cs == nil || !cs.HaveRepairs {
		return nil
	}
	limit := in.cases.RepairLimit
	if limit == 0 {
		limit = 3
	}
	var near, over []dueItem
	for _, f := range cs.Repairs {
		if !f.Open || f.Unknown != "" {
			continue
		}
		if f.Overdue {
			over = append(over, dueItem{text: fmt.Sprintf("信用修复 %s（已受理 %d 个工作日，%s 起超期）", f.ID, f.Workdays, f.OverdueOn)})
			continue
		}
		if due := deadlineAfter(in.cal(), today, limit, f.Workdays); !due.IsZero() && (f.DueSoon || f.Workdays >= limit-1) {
			near = append(near, dueItem{due: due, text: fmt.Sprintf("信用修复 %s（已受理 %d 个工作日，须于 %s 前办结）", f.ID, f.Workdays, clock.Date(due))})
		}
	}
	var out []action
	if len(near) > 0 {
		items, first := dueItems(near)
		a := action{Text: fmt.Sprintf("%d 件信用修复临近 %d 个工作日的办理期限，超期每件扣 1 分", len(near), limit), Due: first,
			Urgent: first == clock.Date(today), Link: "#cases"}
		a.Items, a.More = listed(items)
		out = append(out, a)
	}
	if len(over) > 0 {
		items, _ := dueItems(over)
		a := action{Text: fmt.Sprintf("%d 件信用修复已超期（已计入扣分）：尽快办结", len(over)), Urgent: true, Link: "#cases"}
		a.Items, a.More = listed(items)
		out = append(out, a)
	}
	return out
}

func repairComplianceActions(cs *card.Cases) []action {
	if cs == nil || !cs.HaveRepairs {
		return nil
	}
	var items []string
	for _, f := range cs.Repairs {
		if f.InPeriod && f.Approved && !f.Compliant {
			items = append(items, "信用修复 "+f.ID+"："+strings.Join(f.Reasons, "；"))
		}
	}
	if len(items) == 0 {
		return nil
	}
	a := action{Text: fmt.Sprintf("%d 件准予修复的决定不合规（已计入扣分，每件扣 0.5 分）：复核并纠正；此后审核时核对最短公示期、履行情况和信用承诺", len(items)),
		Link: "#cases"}
	a.Items, a.More = listed(items)
	return []action{a}
}

func syncActions(cs *card.Cases, today time.Time) []action {
	if cs == nil {
		return nil
	}
	var due, late []string
	for _, f := range cs.Objections {
		if f.SyncDue {
			due = append(due, "异议 "+f.ID)
		}
		if f.SyncLate && f.InPeriod {
			late = append(late, "异议 "+f.ID)
		}
	}
	for _, f := range cs.Repairs {
		if f.SyncDue {
			due = append(due, "信用修复 "+f.ID)
		}
		if f.SyncLate && f.InPeriod {
			late = append(late, "信用修复 "+f.ID)
		}
	}
	var out []action
	if len(due) > 0 {
		a := action{Text: fmt.Sprintf("今日办结的 %d 件须在今日 24 时前将结果同步至“信用中国”", len(due)), Due: clock.Date(today), Urgent: true, Link: "#cases"}
		a.Items, a.More = listed(due)
		out = append(out, a)
	}
	if len(late) > 0 {
		a := action{Text: fmt.Sprintf("%d 件办理结果未当日同步（本项本周期不得分）：补同步并记录原因", len(late)), Link: "#cases"}
		a.Items, a.More = listed(late)
		out = append(out, a)
	}
	return out
}

func portalActions(r scoring.Result, c *card.Card, targets []targetView) []action {
	var out []action
	for _, t := range targets {
		switch t.State.Code {
		case StateDown, StateRecovering:
			since := ""
			if !t.OpenSince.IsZero() {
				since = "自 " + t.OpenSince.In(clock.Shanghai).Format("2006-01-02 15:04") + " 起"
			}
			a := action{Text: fmt.Sprintf("恢复 %s（%s）的访问：%s不可访问", t.Name, t.URL, since), Urgent: true}
			switch {
			case t.State.Code == StateRecovering:
				a.Text, a.Urgent = fmt.Sprintf("确认 %s（%s）已恢复：%s的事件仍在进行，最近一次探测正常", t.Name, t.URL, since), false
			case t.OpenIncident == 0 && t.OpenSince.IsZero():
				a.Text, a.Urgent = fmt.Sprintf("留意 %s（%s）：最近一次探测失败，尚未确认为事件", t.Name, t.URL), false
			}
			if t.Outcome != "" && t.Outcome != "ok" {
				a.Items = []string{"最近一次探测：" + zh.OutcomeName(t.Outcome) + errorSuffix(t.LastError)}
			}
			if t.OpenIncident != 0 {
				a.Link = "/incidents/" + strconv.FormatInt(t.OpenIncident, 10)
			}
			out = append(out, a)
		case StateChallenged:
			out = append(out, action{Text: fmt.Sprintf("%s 被网站防火墙拦截（挑战页）：请网站运维将监测程序的出口地址加入白名单", t.Name)})
		}
	}
	if losing(r) && c.Portal != nil {
		out = append(out, action{Text: fmt.Sprintf("本周期已有 %d 起计分的不可访问情形（每起扣 %s 分）：在事件页标注原因；监测程序自身的误报标注后不计分",
			len(c.Portal.Outages), zh.FormatPoints(r.Rule.Deduction)), Link: "#incidents"})
	}
	return out
}

func errorSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "：" + zh.ErrorText(e)
}

func reportActions(r *card.Reports) []action {
	if r == nil || len(r.Nonconforming) == 0 {
		return nil
	}
	var items []string
	for _, n := range r.Nonconforming {
		var reasons []string
		for _, x := range n.Reasons {
			reasons = append(reasons, x.Message)
		}
		name := n.Code
		if n.Name != "" {
			name += " " + n.Name
		}
		items = append(items, name+"："+strings.Join(reasons, "；"))
	}
	a := action{Text: fmt.Sprintf("%d 家企业的信用报告不符合《公共信用信息报告标准》（已计入扣分）：整改报告模板或数据", len(items)), Link: "#credit-reports"}
	a.Items, a.More = listed(items)
	return []action{a}
}

func securityActions(s *card.Security) []action {
	if s == nil {
		return nil
	}
	var items []string
	for _, i := range s.Incidents {
		if i.Open() {
			items = append(items, fmt.Sprintf("%s：%s，迹象仍在（%s）", i.Target, zh.SecurityKindName(i.Kind), i.OccurredOn))
		}
	}
	if len(items) == 0 {
		return nil
	}
	a := action{Text: "清除页面上的篡改迹象并按信息安全事件处置", Urgent: true, Link: "#security"}
	a.Items, a.More = listed(items)
	return []action{a}
}

// choreActions are what keeps the monitoring itself whole: rejected files, stale list pages.
func choreActions(in nextStepInputs) []action {
	var out []action
	if in.imports.RejectedTotal > 0 {
		var items []string
		for _, f := range in.imports.Rejected {
			items = append(items, f.Source+" / "+f.Name+"："+zh.ErrorText(f.Error))
		}
		a := action{Text: fmt.Sprintf("%d 个导出文件被拒收，其中的记录未计入：按原因修正后重新放入导出目录", in.imports.RejectedTotal), Link: "#imports"}
		a.Items, a.More = listed(items)
		a.More += in.imports.RejectedTotal - len(in.imports.Rejected)
		out = append(out, a)
	}
	for _, s := range in.imports.Sources {
		if s.Waiting > 0 || s.InProgress > 0 {
			out = append(out, action{Text: fmt.Sprintf("%s 有 %d 条记录正在导入，导入完成前不计入", s.Name, s.Waiting), Link: "#imports"})
		}
	}
	var stale []string
	for _, lp := range in.card.ListPages {
		if lp.Stale {
			stale = append(stale, lp.Target)
		}
	}
	if len(stale) > 0 {
		a := action{Text: "栏目内容超过设定的工作日数未更新：请更新", Link: "#list-pages"}
		a.Items, a.More = listed(stale)
		out = append(out, a)
	}
	return out
}

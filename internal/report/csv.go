package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/creditwatch/creditwatch/internal/csvsafe"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// WriteJSON writes {"meta", "data"}: the report's data exactly as its digest covers it.
func (r *Report) WriteJSON(w io.Writer) error {
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "{\"meta\":%s,\"data\":%s}\n", meta, r.Raw)
	return err
}

func secs(v float64) string { return fmt.Sprintf("%.0f", v) }

// WriteCSV writes the report's tables one after another, UTF-8 with a BOM so that Excel
// reads the Chinese right, every cell safe to open in a spreadsheet.
func (r *Report) WriteCSV(w io.Writer) error {
	d := r.Data
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	status := "临时版本（本月尚未结束）"
	if r.Meta.Frozen() {
		status = "封存版本 " + strconv.Itoa(r.Meta.Version)
	}
	rows := [][]string{
		{"creditwatch 月度监测报告", d.Month, "数据摘要 SHA-256", r.Meta.Digest, status, r.Meta.StampedAt},
		{"签名公钥指纹", fingerprintOf(r.Meta.PublicKey), "签名", r.Meta.Signature},
		{"城市", d.City, "计分依据", d.LedgerTitle},
		{"考核周期评分概况", d.Headline},
		{"统计区间", d.From, d.To, map[bool]string{true: "整月", false: "截至生成时"}[d.Complete]},
		{"监测程序未运行时长（秒）", secs(d.Monitor.UnknownSeconds)},
		{},
		{"门户网站可用性"},
		{"目标", "探测次数", "正常次数", "已监测（秒）", "可用（秒）", "不可用（秒）", "未监测（秒）", "可用率"},
	}
	for _, t := range d.Targets {
		rows = append(rows, []string{t.Name, strconv.Itoa(t.Probes), strconv.Itoa(t.Good), secs(t.WatchedSeconds), secs(t.UpSeconds),
			secs(t.DownSeconds), secs(t.UnknownSeconds), uptime(t.UptimeRatio)})
	}
	rows = append(rows, []string{}, []string{"不可访问事件"},
		[]string{"编号", "目标", "计分事件", "监测点", "开始", "结束", "持续（秒）", "类型", "首个错误", "失败探测次数", "标注"})
	for _, i := range d.Incidents {
		note := ""
		if n := len(i.Annotations); n > 0 {
			a := i.Annotations[n-1]
			note = causeNames[a.Cause] + "：" + a.Note + "（" + a.By + "）"
		}
		rows = append(rows, []string{strconv.FormatInt(i.ID, 10), i.Target, strconv.FormatInt(i.OutageID, 10), i.Vantage, i.Start, i.End,
			secs(i.Seconds), zh.OutcomeName(i.Outcome), zh.ErrorText(i.FirstError), strconv.Itoa(i.FailedProbes), note})
	}
	rows = append(rows, []string{}, []string{"风险事件（未确认为不可访问）", strconv.Itoa(len(d.RiskEvents))}, []string{},
		[]string{"评分"}, []string{"台账条目", "指标", "满分", "本月得分", "考核周期累计得分", "本月依据", "周期依据"})
	for _, ind := range d.Indicators {
		name, max := ind.Name, zh.FormatPoints(ind.MaxPoints)
		if name == "" {
			name = ind.Title
		}
		month, period := opt(ind.Month), opt(ind.Period)
		if ind.MaxPoints == 0 {
			max, month, period = "门槛", gateWord(ind.MonthGate), gateWord(ind.PeriodGate)
		}
		rows = append(rows, []string{ind.Ledger, name, max, month, period, ind.MonthBasis, ind.PeriodBasis})
	}
	if p := d.Publicity; p != nil {
		rows = append(rows, []string{}, []string{"“双公示”（截至 " + p.AsOf + "）"},
			[]string{"类别", "数据来源单位", "应报", "已报", "合规", "及时", "上报率", "合规率", "及时率"})
		for _, dep := range p.Departments {
			rows = append(rows, []string{dep.Kind, dep.Department, strconv.Itoa(dep.Due), strconv.Itoa(dep.Reported), strconv.Itoa(dep.Compliant),
				strconv.Itoa(dep.Timely), pct(dep.UploadRatio), pct(dep.ComplianceRatio), pct(dep.TimelinessRatio)})
		}
	}
	if cs := d.Cases; cs != nil {
		rows = append(rows, []string{}, []string{"异议与信用修复"},
			[]string{"异议办结", strconv.Itoa(cs.Objections.ClosedInPeriod), "平均办理工作日", strconv.FormatFloat(cs.Objections.MeanWorkdays, 'f', 2, 64)},
			[]string{"修复办结", strconv.Itoa(cs.Repairs.DecidedInPeriod), "超期", strconv.Itoa(cs.Repairs.Overdue), "不合规", strconv.Itoa(cs.Repairs.NonCompliant)})
	}
	rows = append(rows, contentRows(d.Content)...)
	return csvsafe.NewWriter(w).WriteAll(rows)
}

// contentRows are the month's content sections: security incidents, non-conforming credit
// reports with every reason, list pages.
func contentRows(c *Content) [][]string {
	if c == nil {
		return nil
	}
	rows := [][]string{{}, {"信息安全事件"}, {"编号", "来源", "类型", "目标", "日期", "确认或记录时间", "结束", "证据", "页面 SHA-256", "计入"}}
	for _, s := range c.Security {
		evidence, sha := s.Ref+"："+s.Note+"（"+s.By+"）", ""
		if e := s.Evidence; e != nil {
			var parts []string
			for _, sg := range e.Signs {
				parts = append(parts, zh.RuleName(sg.Rule)+"："+sg.Evidence)
			}
			evidence, sha = strings.Join(parts, "；"), e.PageSHA256
		}
		rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Source, zh.SecurityKindName(s.Kind), s.Target, s.OccurredOn, s.Confirmed,
			s.Ended, evidence, sha, map[bool]string{true: "是", false: "否"}[s.Counts]})
	}
	if r := c.Reports; r != nil {
		rows = append(rows, []string{}, []string{"企业信用报告", "检查次数", strconv.Itoa(r.Checks), "读到报告的企业", strconv.Itoa(r.CodesChecked),
			"不符合", strconv.Itoa(len(r.Nonconforming))}, []string{"统一社会信用代码", "企业名称", "首次发现", "不符合次数", "不符合原因"})
		for _, n := range r.Nonconforming {
			var reasons []string
			for _, rs := range n.Reasons {
				reasons = append(reasons, rs.Message)
			}
			rows = append(rows, []string{n.Code, n.Name, n.CheckedAt, strconv.Itoa(n.Checks), strings.Join(reasons, "；")})
		}
	}
	if len(c.ListPages) > 0 {
		rows = append(rows, []string{}, []string{"栏目内容更新（仅提示）"}, []string{"目标", "最新条目日期", "距月末工作日", "上限", "未及时更新"})
		for _, p := range c.ListPages {
			rows = append(rows, []string{p.Target, p.NewestOn, strconv.Itoa(p.AgeWorkdays), strconv.Itoa(p.MaxAgeWorkdays),
				map[bool]string{true: "是", false: "否"}[p.Stale]})
		}
	}
	return rows
}

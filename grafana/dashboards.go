// Package grafana builds creditwatch's Grafana dashboards as code with
// grafana-foundation-sdk. The JSON under dashboards/ is the generator's output
// (go run ./grafana/gen); a test proves they match.
package grafana

import (
	"encoding/json"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Selectors every query filters by; target only on the dashboards that have it.
const (
	base = `job=~"$job",vantage=~"$vantage"`
	tgt  = base + `,target=~"$target"`
)

var ds = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend)
}

func variable(name, label, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).Datasource(ds).
		Multi(true).IncludeAll(true).AllValue(".*").Refresh(dashboard.VariableRefreshOnTimeRangeChanged)
}

func newDashboard(uid, title string, withTarget bool) *dashboard.DashboardBuilder {
	d := dashboard.NewDashboardBuilder(title).Uid(uid).Tags([]string{"creditwatch"}).
		Refresh("1m").Time("now-24h", "now").Timezone("Asia/Shanghai").Readonly().
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("数据源").Type("prometheus")).
		WithVariable(variable("job", "job", "label_values(creditwatch_build_info, job)")).
		WithVariable(variable("vantage", "监测点", `label_values(creditwatch_build_info{job=~"$job"}, vantage)`))
	if withTarget {
		d = d.WithVariable(variable("target", "目标", `label_values(creditwatch_probe_success{job=~"$job",vantage=~"$vantage"}, target)`))
	}
	return d
}

func statPanel(title, unit string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().Title(title).Datasource(ds).Unit(unit).Span(w).Height(h).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

func timePanel(title, unit string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Datasource(ds).Unit(unit).Span(w).Height(h)
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

func barPanel(title, unit string, w, h uint32, max float64, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().Title(title).Datasource(ds).Unit(unit).Span(w).Height(h).Min(0).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	if max > 0 {
		p = p.Max(max)
	}
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

// Overview is the score card: each indicator's points against its maximum, this period and
// this month.
func Overview() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-overview", "creditwatch · 评分总览", false).
		Description("可监测指标的得分与失分，按《工作台账》计算。").
		WithRow(dashboard.NewRowBuilder("评分卡")).
		WithPanel(statPanel("可监测指标得分（本考核周期）", "none", 6, 5,
			query(`sum(creditwatch_indicator_points{`+base+`})`, "得分"))).
		WithPanel(statPanel("对应满分", "none", 6, 5,
			query(`sum(creditwatch_indicator_max_points{`+base+`} and creditwatch_indicator_points{`+base+`})`, "满分"))).
		WithPanel(statPanel("基础指标门槛（1 达标，0 未达标）", "none", 12, 5,
			query(`creditwatch_indicator_gate_pass{`+base+`}`, "{{indicator}}"))).
		WithPanel(barPanel("各指标得分率（本考核周期）", "percentunit", 12, 10, 1,
			query(`creditwatch_indicator_points{`+base+`} / creditwatch_indicator_max_points{`+base+`}`, "{{indicator}}"))).
		WithPanel(barPanel("各指标得分率（本月）", "percentunit", 12, 10, 1,
			query(`creditwatch_indicator_month_points{`+base+`} / creditwatch_indicator_max_points{`+base+`}`, "{{indicator}}"))).
		WithPanel(timePanel("失分走势", "none", 24, 8,
			query(`creditwatch_indicator_max_points{`+base+`} - creditwatch_indicator_points{`+base+`}`, "{{indicator}}")))
}

// Portal is the portal's availability.
func Portal() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-portal", "creditwatch · 门户网站可访问性", true).
		WithRow(dashboard.NewRowBuilder("状态")).
		WithPanel(statetimeline.NewPanelBuilder().Title("可访问状态（1 正常，0 失败）").Datasource(ds).Span(16).Height(7).
			WithTarget(query(`creditwatch_probe_success{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithPanel(statPanel("多数监测点可访问比例", "percentunit", 8, 7,
			query(`portal:creditwatch_probe_success:quorum{target=~"$target"}`, "{{target}}"))).
		WithPanel(timePanel("不可访问事件与风险事件（累计）", "none", 12, 8,
			query(`creditwatch_portal_incidents_total{`+tgt+`}`, "事件 {{target}} @ {{vantage}}"),
			query(`creditwatch_portal_risk_events_total{`+tgt+`}`, "风险 {{target}} @ {{vantage}}"))).
		WithPanel(timePanel("事件进行中", "none", 12, 8,
			query(`creditwatch_portal_incident_open{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithRow(dashboard.NewRowBuilder("性能与结果")).
		WithPanel(timePanel("各阶段耗时", "s", 12, 8,
			query(`creditwatch_probe_duration_seconds{`+tgt+`}`, "{{target}} {{phase}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(30)).
		WithPanel(timePanel("探测结果分类（每秒）", "ops", 12, 8,
			query(`sum by (target, outcome) (rate(creditwatch_probe_outcome_total{`+tgt+`}[5m]))`, "{{target}} {{outcome}}"))).
		WithPanel(timePanel("HTTP 状态码", "none", 12, 7,
			query(`creditwatch_probe_http_status_code{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithPanel(statPanel("证书剩余天数", "d", 12, 7,
			query(`(creditwatch_tls_cert_expiry_timestamp_seconds{`+tgt+`} - time()) / 86400`, "{{target}}"))).
		WithRow(dashboard.NewRowBuilder("页面内容与信息安全（五(六)）")).
		WithPanel(statPanel("已确认的篡改迹象（按规则）", "none", 12, 7,
			query(`sum by (target, rule) (creditwatch_defacement_signs{`+tgt+`})`, "{{target}} {{rule}}"))).
		WithPanel(timePanel("信息安全事件（累计，含信用办记录）", "none", 12, 7,
			query(`creditwatch_security_incidents_total{`+base+`}`, "{{vantage}}"))).
		WithPanel(barPanel("栏目最新条目距今（工作日；超过上限即未及时更新）", "none", 24, 7, 0,
			query(`creditwatch_content_age_workdays{`+tgt+`}`, "{{target}}"))).
		WithRow(dashboard.NewRowBuilder("企业信用报告（五(四)2）")).
		WithPanel(timePanel("报告检查结果（每小时）", "none", 12, 8,
			query(`sum by (result) (increase(creditwatch_report_checks_total{`+base+`}[1h]))`, "{{result}}"))).
		WithPanel(statPanel("计入扣分的不符合报告（累计，每家每周期一次）", "none", 12, 8,
			query(`creditwatch_report_nonconforming_total{`+base+`}`, "{{vantage}}")))
}

// Publicity is the double-publicity audit.
func Publicity() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-publicity", "creditwatch · “双公示”", false).
		WithRow(dashboard.NewRowBuilder("三率（须均为100%）")).
		WithPanel(barPanel("上报率", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_upload_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithPanel(barPanel("合规率", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_compliance_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithPanel(barPanel("及时率", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_timeliness_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithRow(dashboard.NewRowBuilder("预警与问题")).
		WithPanel(statPanel("一个工作日内须上报", "none", 6, 6,
			query(`sum(creditwatch_publicity_records{`+base+`,state="due_soon"})`, "即将到期"))).
		WithPanel(statPanel("统一社会信用代码重错率", "percentunit", 6, 6,
			query(`creditwatch_uscc_error_ratio{`+base+`}`, "重错率"))).
		WithPanel(barPanel("违规（按规则）", "none", 12, 10, 0,
			query(`sum by (rule) (creditwatch_publicity_violations{`+base+`})`, "{{rule}}"))).
		WithPanel(timePanel("数据源错误（累计）", "none", 12, 7,
			query(`sum by (source, reason) (creditwatch_source_errors_total{`+base+`})`, "{{source}} {{reason}}"))).
		WithPanel(statPanel("距上次完整轮询", "s", 12, 7,
			query(`time() - creditwatch_source_last_success_timestamp_seconds{`+base+`}`, "{{source}}")))
}

// Cases is objections and credit repair.
func Cases() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-cases", "creditwatch · 异议处理与信用修复", false).
		WithPanel(barPanel("未办结异议（按已受理工作日，4 预警）", "none", 12, 8, 0,
			query(`creditwatch_objection_open{`+base+`}`, "{{age_workdays}}"))).
		WithPanel(statPanel("异议平均办理工作日（5 以内满分）", "none", 12, 8,
			query(`creditwatch_objection_handling_workdays_sum{`+base+`} / creditwatch_objection_handling_workdays_count{`+base+`}`, "平均"))).
		WithPanel(barPanel("异议办理时间分布（累计，≤ 工作日）", "none", 12, 8, 0,
			query(`sum by (le) (creditwatch_objection_handling_workdays_bucket{`+base+`})`, "≤ {{le}}"))).
		WithPanel(statPanel("信用修复", "none", 12, 8,
			query(`creditwatch_repair_cases{`+base+`}`, "{{state}}"))).
		WithPanel(statPanel("结果同步“信用中国”", "none", 24, 6,
			query(`creditwatch_objection_cases{`+base+`,state=~"sync_late|sync_pending"}`, "异议 {{state}}"),
			query(`creditwatch_repair_cases{`+base+`,state=~"unsynced|sync_pending"}`, "修复 {{state}}")))
}

// All returns every dashboard by file name.
func All() map[string]*dashboard.DashboardBuilder {
	return map[string]*dashboard.DashboardBuilder{
		"overview.json": Overview(), "portal.json": Portal(), "publicity.json": Publicity(), "cases.json": Cases(),
	}
}

// Render builds a dashboard into its JSON file content.
func Render(b *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Exprs returns every PromQL expression of a dashboard's JSON, panels and variables alike.
func Exprs(dashboardJSON []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(dashboardJSON, &v); err != nil {
		return nil, err
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "expr" && strings.TrimSpace(s) != "" {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out, nil
}

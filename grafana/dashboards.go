// Package grafana builds creditwatch's Grafana dashboards as code with
// grafana-foundation-sdk. The JSON under dashboards/ is the generator's output
// (go run ./grafana/gen); a test proves they match.
package grafana

import (
	"encoding/json"
	"sort"
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
		WithVariable(variable("vantage", "监测点", `label_values(creditwatch_build_info{job=~"$job"}, vantage)`)).
		// Where creditwatch's own pages are: the status page, the runbooks and the reports.
		WithVariable(dashboard.NewTextBoxVariableBuilder("creditwatch_url").Label("creditwatch 地址").
			DefaultValue(dashboard.StringOrMap{String: cog.ToPtr("http://creditwatch:9797")}).Description("creditwatch 网页地址（状态页、处置手册、月度报告），按部署修改")).
		Link(pageLink("状态页", "/", "creditwatch 状态页：各目标状态、事件、评分与下一步")).
		Link(pageLink("处置手册", "/runbooks/", "各告警的含义、扣分、前三项检查与联系人")).
		Link(pageLink("月度报告", "/reports/", "已封存与临时的月度监测报告")).
		// Incident markers on every time series: where an incident of the portal began and ended.
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("不可访问事件开始").Datasource(ds).Enable(true).IconColor("red").
			Expr(`increase(creditwatch_portal_incidents_total{` + base + `}[$__interval]) > 0`).
			TitleFormat("不可访问事件开始：{{target}}").TextFormat("监测点 {{vantage}}").Step("30s")).
		Annotation(dashboard.NewAnnotationQueryBuilder().Name("不可访问事件结束").Datasource(ds).Enable(true).IconColor("green").
			Expr(`changes(creditwatch_portal_incident_open{` + base + `}[$__interval]) > 0 and creditwatch_portal_incident_open{` + base + `} == 0`).
			TitleFormat("不可访问事件结束：{{target}}").TextFormat("监测点 {{vantage}}").Step("30s"))
	if withTarget {
		d = d.WithVariable(variable("target", "目标", `label_values(creditwatch_probe_success{job=~"$job",vantage=~"$vantage"}, target)`))
	}
	return d
}

// named joins an indicator series with creditwatch_indicator_info, for its Chinese name and
// ledger row in the legend.
func named(expr string) string {
	return expr + ` * on (job, instance, indicator) group_left (name, ledger) creditwatch_indicator_info{` + base + `}`
}

// indicatorLegend shows an indicator by its Chinese name and ledger row.
const indicatorLegend = "{{name}}（{{ledger}}）"

// pageLink is a dashboard link to one of creditwatch's own pages.
func pageLink(title, path, tooltip string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeLink).
		Url("${creditwatch_url}" + path).Tooltip(tooltip).TargetBlank(true).Icon("external link")
}

// valueText maps values to words, e.g. 1 → 达标 (green), 0 → 未达标 (red).
func valueText(m map[string][2]string) []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	i := int32(0)
	for _, v := range sortedKeys(m) {
		text, color := m[v][0], m[v][1]
		opts[v] = dashboard.ValueMappingResult{Text: cog.ToPtr(text), Color: cog.ToPtr(color), Index: cog.ToPtr(i)}
		i++
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func sortedKeys(m map[string][2]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var (
	gateWords = valueText(map[string][2]string{"1": {"达标", "green"}, "0": {"未达标", "red"}})
	upWords   = valueText(map[string][2]string{"1": {"正常", "green"}, "0": {"失败", "red"}})
	yesNo     = valueText(map[string][2]string{"1": {"是", "red"}, "0": {"否", "green"}})
	okWords   = valueText(map[string][2]string{"1": {"成功", "green"}, "0": {"失败", "red"}})
)

func statPanel(title, desc, unit string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	p := stat.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

func timePanel(title, desc, unit string, w, h uint32, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h)
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

func barPanel(title, desc, unit string, w, h uint32, max float64, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	p := bargauge.NewPanelBuilder().Title(title).Description(desc).Datasource(ds).Unit(unit).Span(w).Height(h).Min(0).
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
// this month; and creditwatch's own health.
func Overview() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-overview", "creditwatch · 评分总览", false).
		Description("可监测指标的得分与失分，按《工作台账》计算；以及 creditwatch 自身的运行状况。").
		WithRow(dashboard.NewRowBuilder("评分卡")).
		WithPanel(statPanel("可监测指标得分（本考核周期）", "各可监测指标本考核周期累计得分之和（不含需佐证材料的条目）。", "none", 6, 5,
			query(`sum(creditwatch_indicator_points{`+base+`})`, "得分"))).
		WithPanel(statPanel("对应满分", "上述指标的满分之和；与得分之差即已扣分数。", "none", 6, 5,
			query(`sum(creditwatch_indicator_max_points{`+base+`} and creditwatch_indicator_points{`+base+`})`, "满分"))).
		WithPanel(statPanel("基础指标门槛", "基础指标（门槛项）是否达标：未达标将影响示范城市评定，须立即处理。", "none", 12, 5,
			query(named(`creditwatch_indicator_gate_pass{`+base+`}`), indicatorLegend)).Mappings(gateWords)).
		WithPanel(barPanel("各指标得分率（本考核周期）", "得分 ÷ 满分；低于 100% 的指标见状态页“下一步”。", "percentunit", 12, 10, 1,
			query(named(`(creditwatch_indicator_points{`+base+`} / creditwatch_indicator_max_points{`+base+`})`), indicatorLegend))).
		WithPanel(barPanel("各指标得分率（本月）", "本月内发生的扣分；月度报告按此口径。", "percentunit", 12, 10, 1,
			query(named(`(creditwatch_indicator_month_points{`+base+`} / creditwatch_indicator_max_points{`+base+`})`), indicatorLegend))).
		WithPanel(timePanel("失分走势", "各指标本考核周期已扣分数随时间的变化；每次上升即一次新的扣分。", "none", 24, 8,
			query(named(`(creditwatch_indicator_max_points{`+base+`} - creditwatch_indicator_points{`+base+`})`), indicatorLegend))).
		WithRow(dashboard.NewRowBuilder("creditwatch 自身运行状况")).
		WithPanel(statPanel("采集器最近一次运行", "各采集器（门户探测、平台轮询、导出文件导入、信用报告检查）最近一次是否完成。", "none", 8, 6,
			query(`creditwatch_collector_success{`+base+`}`, "{{collector}} {{target}}")).Mappings(okWords)).
		WithPanel(statPanel("距采集器上次成功", "采集器上次完成至今的时间；远超其间隔说明采集停滞。", "s", 8, 6,
			query(`time() - creditwatch_collector_last_success_timestamp_seconds{`+base+`}`, "{{collector}} {{target}}"))).
		WithPanel(statPanel("配置重新加载", "最近一次重新加载配置是否成功；失败时仍按旧配置运行。", "none", 8, 6,
			query(`creditwatch_config_last_reload_successful{`+base+`}`, "重新加载")).Mappings(okWords)).
		WithPanel(timePanel("数据源错误（每小时）", "平台轮询与导出文件导入的错误，按来源与原因；被拒的文件见状态页“数据导入”。", "none", 12, 7,
			query(`sum by (source, reason) (increase(creditwatch_source_errors_total{`+base+`}[1h]))`, "{{source}} {{reason}}"))).
		WithPanel(statPanel("工作日历剩余天数", "内置及补充的官方节假日数据可覆盖到的最后一天距今的天数；不足 60 天时须补充下一年的安排。", "d", 12, 7,
			query(`(creditwatch_calendar_last_known_day_timestamp_seconds{`+base+`} - time()) / 86400`, "剩余天数")))
}

// Portal is the portal's availability.
func Portal() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-portal", "creditwatch · 门户网站可访问性", true).
		Description("信用门户网站各页面的探测结果、事件与性能（台账五(四)1：每起不可访问扣 0.5 分）。").
		WithRow(dashboard.NewRowBuilder("状态")).
		WithPanel(statetimeline.NewPanelBuilder().Title("可访问状态").
			Description("每次探测的结果：正常或失败。连续失败达到 open_after 次即确认一起不可访问事件。").
			Datasource(ds).Span(16).Height(7).Mappings(upWords).
			WithTarget(query(`creditwatch_probe_success{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithPanel(statPanel("多数监测点可访问比例", "能访问门户的监测点占比；低于一半即页面告警（计分的不可访问）。", "percentunit", 8, 7,
			query(`portal:creditwatch_probe_success:quorum{target=~"$target"}`, "{{target}}"))).
		WithPanel(timePanel("不可访问事件与风险事件（累计）", "已确认的事件（计分）与未确认的风险事件（单次失败，不计分），自台账建立以来累计。", "none", 12, 8,
			query(`creditwatch_portal_incidents_total{`+tgt+`}`, "事件 {{target}} @ {{vantage}}"),
			query(`creditwatch_portal_risk_events_total{`+tgt+`}`, "风险 {{target}} @ {{vantage}}"))).
		WithPanel(statetimeline.NewPanelBuilder().Title("事件进行中").
			Description("是否有进行中的不可访问事件（含恢复确认中）。").
			Datasource(ds).Span(12).Height(8).Mappings(yesNo).
			WithTarget(query(`creditwatch_portal_incident_open{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithRow(dashboard.NewRowBuilder("性能与结果")).
		WithPanel(timePanel("各阶段耗时", "最近一次探测的域名解析、建立连接、TLS 握手、首字节与传输耗时，叠加即总耗时。", "s", 12, 8,
			query(`creditwatch_probe_duration_seconds{`+tgt+`}`, "{{target}} {{phase}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(30)).
		WithPanel(timePanel("探测结果分类（每秒）", "按结果分类的探测速率：ok 正常，timeout 超时，connect_error 连接失败，dns_error 域名解析失败，tls_error 证书或 TLS 错误，http_status 状态码异常，content_mismatch 内容不符，challenged 被防火墙拦截。", "ops", 12, 8,
			query(`sum by (target, outcome) (rate(creditwatch_probe_outcome_total{`+tgt+`}[5m]))`, "{{target}} {{outcome}}"))).
		WithPanel(timePanel("HTTP 状态码", "最近一次探测的 HTTP 状态码；0 表示没有得到响应。", "none", 12, 7,
			query(`creditwatch_probe_http_status_code{`+tgt+`}`, "{{target}} @ {{vantage}}"))).
		WithPanel(statPanel("证书剩余天数", "门户网站 TLS 证书到期前的天数；14 天内告警。", "d", 12, 7,
			query(`(creditwatch_tls_cert_expiry_timestamp_seconds{`+tgt+`} - time()) / 86400`, "{{target}}"))).
		WithRow(dashboard.NewRowBuilder("页面内容与信息安全（五(六)）")).
		WithPanel(statPanel("已确认的篡改迹象（按规则）", "连续探测确认的篡改迹象：一旦出现，本考核周期“信息安全事件”一项不得分。", "none", 12, 7,
			query(`sum by (target, rule) (creditwatch_defacement_signs{`+tgt+`})`, "{{target}} {{rule}}"))).
		WithPanel(timePanel("信息安全事件（累计，含信用办记录）", "探测确认的篡改与信用办登记的入侵、通报事件，累计。", "none", 12, 7,
			query(`creditwatch_security_incidents_total{`+base+`}`, "{{vantage}}"))).
		WithPanel(barPanel("栏目最新条目距今（工作日）", "各列表栏目最新条目距今的工作日数；超过该栏目的上限即未及时更新（提示，不计分）。", "none", 24, 7, 0,
			query(`creditwatch_content_age_workdays{`+tgt+`}`, "{{target}}"))).
		WithRow(dashboard.NewRowBuilder("企业信用报告（五(四)2）")).
		WithPanel(timePanel("报告检查结果（每小时）", "企业信用报告检查：conforming 符合，nonconforming 不符合（扣分），fetch_error 获取或读取失败（不扣分）。", "none", 12, 8,
			query(`sum by (result) (increase(creditwatch_report_checks_total{`+base+`}[1h]))`, "{{result}}"))).
		WithPanel(statPanel("计入扣分的不符合报告（累计）", "每家企业每考核周期计一次，每次扣 1 分。", "none", 12, 8,
			query(`creditwatch_report_nonconforming_total{`+base+`}`, "{{vantage}}")))
}

// Publicity is the double-publicity audit.
func Publicity() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-publicity", "creditwatch · “双公示”", false).
		Description("行政许可、行政处罚“双公示”的上报率、合规率、及时率（基础指标4：须均为 100%）与统一社会信用代码重错率。").
		WithRow(dashboard.NewRowBuilder("三率（须均为100%）")).
		WithPanel(barPanel("上报率", "已上报 ÷ 应上报，按数据来源单位。", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_upload_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithPanel(barPanel("合规率", "无违规的已上报记录 ÷ 应上报，按数据来源单位；违规原因见状态页。", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_compliance_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithPanel(barPanel("及时率", "决定后 7 个工作日内上报的记录 ÷ 应上报，按数据来源单位。", "percentunit", 8, 12, 1,
			query(`creditwatch_publicity_timeliness_ratio{`+base+`}`, "{{kind}} {{department}}"))).
		WithRow(dashboard.NewRowBuilder("预警与问题")).
		WithPanel(statPanel("一个工作日内须上报", "下一个工作日即到期的未上报记录；逐条名单见状态页。", "none", 6, 6,
			query(`sum(creditwatch_publicity_records{`+base+`,state="due_soon"})`, "即将到期"))).
		WithPanel(statPanel("统一社会信用代码重错率", "（无效 + 重码）÷ 不同代码数；为 0 得满分，每十万分之一扣 0.1 分，万分之一起基础指标不达标。", "percentunit", 6, 6,
			query(`creditwatch_uscc_error_ratio{`+base+`}`, "重错率"))).
		WithPanel(barPanel("违规（按规则）", "已存记录中的违规，按规则。", "none", 12, 10, 0,
			query(`sum by (rule) (creditwatch_publicity_violations{`+base+`})`, "{{rule}}"))).
		WithPanel(timePanel("数据源错误（累计）", "平台轮询与导出文件导入的错误，按来源与原因。", "none", 12, 7,
			query(`sum by (source, reason) (creditwatch_source_errors_total{`+base+`})`, "{{source}} {{reason}}"))).
		WithPanel(statPanel("距上次完整轮询", "平台数据上次完整轮询至今的时间。", "s", 12, 7,
			query(`time() - creditwatch_source_last_success_timestamp_seconds{`+base+`}`, "{{source}}")))
}

// Cases is objections and credit repair.
func Cases() *dashboard.DashboardBuilder {
	return newDashboard("creditwatch-cases", "creditwatch · 异议处理与信用修复", false).
		Description("异议处理（台账五(二)1、2）与信用修复（五(二)3）的办理情况与时限。").
		WithPanel(barPanel("未办结异议（按已受理工作日）", "已受理工作日数达到 4 即预警：第 5 个工作日须办结。", "none", 12, 8, 0,
			query(`creditwatch_objection_open{`+base+`}`, "{{age_workdays}}"))).
		WithPanel(statPanel("异议平均办理工作日", "本考核周期办结异议的平均办理工作日；5 以内满分，每超 1 天扣 0.4 分。", "none", 12, 8,
			query(`creditwatch_objection_handling_workdays_sum{`+base+`} / creditwatch_objection_handling_workdays_count{`+base+`}`, "平均"))).
		WithPanel(barPanel("异议办理时间分布（累计）", "办理工作日数不超过各档的异议件数。", "none", 12, 8, 0,
			query(`sum by (le) (creditwatch_objection_handling_workdays_bucket{`+base+`})`, "≤ {{le}}"))).
		WithPanel(statPanel("信用修复", "on_time 按时，overdue 超过 3 个工作日（每件扣 1 分），non_compliant 不合规（每件扣 0.5 分），due_soon 即将到期。", "none", 12, 8,
			query(`creditwatch_repair_cases{`+base+`}`, "{{state}}"))).
		WithPanel(statPanel("结果同步“信用中国”", "修复与异议结果须当日同步至“信用中国”网站：sync_late 次日及以后同步，sync_pending、unsynced 尚未同步。", "none", 24, 6,
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

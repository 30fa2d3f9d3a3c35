package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-analyze/charts"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"
)

func pct(v float64) string { return zh.Percent(v) }

// uptime writes an uptime ratio, or says there was nothing watched to measure it by.
func uptime(v *float64) string {
	if v == nil {
		return "无数据"
	}
	return pct(*v)
}

// gateWord is a basic indicator's verdict, or nothing when it is not known.
func gateWord(b *bool) string {
	if b == nil {
		return ""
	}
	return zh.GateWord(*b)
}

func opt(p *float64) string {
	if p == nil {
		return ""
	}
	return zh.FormatPoints(*p)
}

//go:embed templates/*.tmpl
var templates embed.FS

var funcs = template.FuncMap{
	"shanghai": func(s string) string {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "—"
		}
		return t.In(clock.Shanghai).Format("2006-01-02 15:04:05")
	},
	"monthZH": func(m string) string {
		t, err := time.Parse("2006-01", m)
		if err != nil {
			return m
		}
		return t.Format("2006年1月")
	},
	"seconds": func(s float64) string { return zh.FormatDuration(time.Duration(s * float64(time.Second))) },
	"pct":     pct,
	"uptime":  uptime,
	"opt":     opt,
	"points":  zh.FormatPoints,
	"outcome": zh.OutcomeName,
	"errorZH": zh.ErrorText,
	"cause":   func(c string) string { return causeNames[c] },
	"endCause": func(c string) string {
		return map[string]string{ledger.EndMonitoringStopped: "停止监测（目标已移出配置）"}[c]
	},
	"kindName":     func(k string) string { return publicity.KindNamesZH[publicity.Kind(k)] },
	"rule":         zh.RuleName,
	"fetchClass":   zh.FetchClassName,
	"securityKind": zh.SecurityKindName,
	"gate":         gateWord,
	"list":         func(s []string) string { return strings.Join(s, "、") },
	"fingerprint":  fingerprintOf,
	"add":          func(a, b int) int { return a + b },
	"num":          func(v view, name string) string { return v.Sections[name] },
}

var causeNames = map[string]string{
	ledger.CauseMaintenance: "计划维护（仍计入）", ledger.CauseMonitorError: "监测程序自身错误（不计分）",
	ledger.CauseConfirmed: "确认的不可访问", ledger.CauseOther: "其他",
}

var page = template.Must(template.New("report.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/report.html.tmpl"))

type view struct {
	*Report
	D        *Data
	Charts   map[string]template.HTML
	DataJSON template.JS
	MetaJSON template.JS
	Print    bool              // the PDF-ready version: laid out as the printed A4 pages
	Sections map[string]string // section numbers, in Chinese, of the sections present
}

// WriteHTML writes the Chinese report with its data and meta embedded, so that it can be
// verified alone.
func (r *Report) WriteHTML(w io.Writer) error { return r.writeHTML(w, false) }

// WritePrintHTML writes the PDF-ready version: the same report laid out as its A4 pages.
func (r *Report) WritePrintHTML(w io.Writer) error { return r.writeHTML(w, true) }

func (r *Report) writeHTML(w io.Writer, print bool) error {
	ch, err := r.charts()
	if err != nil {
		return err
	}
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	// Raw and meta are json.Marshal output: <, > and & are escaped, so they are safe in <script>.
	v := view{Report: r, D: r.Data, Charts: ch, DataJSON: template.JS(r.Raw), MetaJSON: template.JS(meta), Print: print,
		Sections: sections(r.Data)}
	if err := page.Execute(&buf, v); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// sections numbers the report's sections, some of which are present only with data.
func sections(d *Data) map[string]string {
	numerals := []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	out := map[string]string{}
	n := 0
	for _, s := range []struct {
		name    string
		present bool
	}{{"summary", true}, {"availability", true}, {"incidents", true}, {"scores", true},
		{"publicity", d.Publicity != nil}, {"cases", d.Cases != nil}, {"content", d.Content != nil}, {"gaps", true},
		{"appendix", true}} {
		if s.present {
			out[s.name] = numerals[n]
			n++
		}
	}
	return out
}

func (r *Report) charts() (map[string]template.HTML, error) {
	d := r.Data
	out := map[string]template.HTML{}
	from, end, err := ParseMonth(d.Month)
	if err != nil {
		return nil, err
	}
	var days []string
	for t := from; t.Before(end); t = t.AddDate(0, 0, 1) {
		days = append(days, strconv.Itoa(t.Day()))
	}
	if len(d.Targets) > 0 {
		var avail, latency [][]float64
		var names []string
		for _, t := range d.Targets {
			a := nulls(len(days))
			l := nulls(len(days))
			for _, day := range t.Days {
				i := dayIndex(day.Date, from)
				if i < 0 || i >= len(days) {
					continue
				}
				// A day nothing was watched is a gap, never 0 %.
				if day.UptimeRatio != nil {
					a[i] = round(*day.UptimeRatio*100, 2)
				}
				if day.Probes > 0 {
					l[i] = round(day.MeanSeconds*1000, 1)
				}
			}
			avail, latency, names = append(avail, a), append(latency, l), append(names, t.Name)
		}
		svg, err := render(charts.BarRender(avail, charts.SVGOutputOptionFunc(), charts.XAxisLabelsOptionFunc(days),
			charts.LegendLabelsOptionFunc(names), charts.DimensionsOptionFunc(760, 260)))
		if err != nil {
			return nil, err
		}
		out["availability"] = svg
		if svg, err = render(charts.LineRender(latency, charts.SVGOutputOptionFunc(), charts.XAxisLabelsOptionFunc(days),
			charts.LegendLabelsOptionFunc(names), charts.DimensionsOptionFunc(760, 260))); err != nil {
			return nil, err
		}
		out["latency"] = svg
	}
	var labels []string
	var month, period []float64
	for _, ind := range d.Indicators {
		if ind.Month == nil || ind.Period == nil || ind.MaxPoints == 0 {
			continue
		}
		labels = append(labels, ind.Ledger)
		month = append(month, *ind.Month)
		period = append(period, *ind.Period)
	}
	if len(labels) > 0 {
		svg, err := render(charts.BarRender([][]float64{month, period}, charts.SVGOutputOptionFunc(), charts.XAxisLabelsOptionFunc(labels),
			charts.LegendLabelsOptionFunc([]string{"本月", "考核周期累计"}), charts.DimensionsOptionFunc(760, 280)))
		if err != nil {
			return nil, err
		}
		out["indicators"] = svg
	}
	return out, nil
}

func nulls(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = charts.GetNullValue()
	}
	return out
}

func dayIndex(date string, from time.Time) int {
	t, err := time.ParseInLocation(time.DateOnly, date, clock.Shanghai)
	if err != nil {
		return -1
	}
	return int(t.Sub(from).Hours() / 24)
}

func render(p *charts.Painter, err error) (template.HTML, error) {
	if err != nil {
		return "", fmt.Errorf("drawing chart: %w", err)
	}
	b, err := p.Bytes()
	if err != nil {
		return "", fmt.Errorf("drawing chart: %w", err)
	}
	return template.HTML(b), nil //nolint:gosec // generated by the chart library from numbers and our own labels
}

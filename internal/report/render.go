package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/go-analyze/charts"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// Report is a month's data with its digest.
type Report struct {
	Data        *Data
	Raw         []byte // the JSON the digest covers
	Digest      string
	GeneratedAt time.Time
	Frozen      bool // data read back from the month's frozen copy
	FrozenAt    time.Time
}

// Digest is the hex SHA-256 of a report's data JSON.
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Generate returns a month's report. A finished month is frozen the first time it is
// generated and read back afterwards, unless Recompute asks for fresh data (which then
// replaces the frozen copy).
func Generate(ctx context.Context, l *ledger.Ledger, cfg *config.Config, set card.Settings, o Options) (*Report, error) {
	_, end, err := ParseMonth(o.Month)
	if err != nil {
		return nil, err
	}
	complete := !o.Now.Before(end)
	if complete && !o.Recompute {
		fr, err := l.FrozenReport(ctx, o.Month)
		if err != nil {
			return nil, err
		}
		if fr != nil {
			d := &Data{}
			if err := json.Unmarshal(fr.Data, d); err != nil {
				return nil, fmt.Errorf("reading frozen report %s: %w", o.Month, err)
			}
			return &Report{Data: d, Raw: fr.Data, Digest: fr.Digest, GeneratedAt: o.Now, Frozen: true, FrozenAt: fr.FrozenAt}, nil
		}
	}
	d, err := Build(ctx, l, cfg, set, o)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	r := &Report{Data: d, Raw: raw, Digest: Digest(raw), GeneratedAt: o.Now}
	if complete {
		if err := l.FreezeReport(ctx, ledger.FrozenReport{Month: o.Month, Data: raw, Digest: r.Digest, FrozenAt: o.Now}); err != nil {
			return nil, err
		}
		r.Frozen, r.FrozenAt = true, o.Now
	}
	return r, nil
}

// WriteJSON writes {"digest", "generated_at", "frozen", "data"}.
func (r *Report) WriteJSON(w io.Writer) error {
	head, err := json.Marshal(struct {
		Digest      string `json:"digest"`
		GeneratedAt string `json:"generated_at"`
		Frozen      bool   `json:"frozen"`
	}{r.Digest, stamp(r.GeneratedAt), r.Frozen})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s,\"data\":%s}\n", head[:len(head)-1], r.Raw)
	return err
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

func opt(p *float64) string {
	if p == nil {
		return ""
	}
	return zh.FormatPoints(*p)
}

// WriteCSV writes the report's tables, one after another, UTF-8 with a BOM so that Excel
// reads the Chinese right.
func (r *Report) WriteCSV(w io.Writer) error {
	d := r.Data
	io.WriteString(w, "\ufeff")
	c := csv.NewWriter(w)
	rows := [][]string{
		{"creditwatch 月度监测报告", d.Month, "数据摘要 SHA-256", r.Digest},
		{"统计区间", d.From, d.To, map[bool]string{true: "整月", false: "截至生成时"}[d.Complete]},
		{"未监测时长（秒）", fmt.Sprintf("%.0f", d.Monitor.UnknownSeconds)},
		{},
		{"门户网站可用性"},
		{"目标", "探测次数", "正常次数", "可用率", "不可用时长（秒）", "未监测时长（秒）"},
	}
	for _, t := range d.Targets {
		rows = append(rows, []string{t.Name, strconv.Itoa(t.Probes), strconv.Itoa(t.Good), pct(t.UptimeRatio),
			fmt.Sprintf("%.0f", t.DownSeconds), fmt.Sprintf("%.0f", t.UnknownSeconds)})
	}
	rows = append(rows, []string{}, []string{"不可访问事件"},
		[]string{"目标", "监测点", "开始", "结束", "持续（秒）", "类型", "首个错误", "失败探测次数"})
	for _, i := range d.Incidents {
		rows = append(rows, []string{i.Target, i.Vantage, i.Start, i.End, fmt.Sprintf("%.0f", i.Seconds), zh.OutcomeName(i.Outcome),
			i.FirstError, strconv.Itoa(i.FailedProbes)})
	}
	rows = append(rows, []string{}, []string{"风险事件（未确认为不可访问）", strconv.Itoa(len(d.RiskEvents))}, []string{},
		[]string{"评分"}, []string{"台账条目", "指标", "满分", "本月得分", "考核周期累计得分", "本月依据", "周期依据"})
	for _, ind := range d.Indicators {
		rows = append(rows, []string{ind.Ledger, ind.ID, zh.FormatPoints(ind.MaxPoints), opt(ind.Month), opt(ind.Period), ind.MonthBasis, ind.PeriodBasis})
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
	if err := c.WriteAll(rows); err != nil {
		return err
	}
	return c.Error()
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
	"opt":     opt,
	"points":  zh.FormatPoints,
	"outcome": zh.OutcomeName,
	"kindName": func(k string) string {
		return publicity.KindNamesZH[publicity.Kind(k)]
	},
	"gate": func(b *bool) string {
		if b == nil {
			return ""
		}
		return map[bool]string{true: "达标", false: "未达标"}[*b]
	},
	"stamp": func(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04:05") },
}

var page = template.Must(template.New("report.html.tmpl").Funcs(funcs).ParseFS(templates, "templates/report.html.tmpl"))

type view struct {
	*Report
	D        *Data
	Charts   map[string]template.HTML
	DataJSON template.JS
}

// WriteHTML writes the printable Chinese report with its data and digest embedded.
func (r *Report) WriteHTML(w io.Writer) error {
	ch, err := r.charts()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	// Raw is json.Marshal output: <, > and & are escaped, so it is safe inside <script>.
	if err := page.Execute(&buf, view{Report: r, D: r.Data, Charts: ch, DataJSON: template.JS(r.Raw)}); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
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
			a := make([]float64, len(days))
			l := make([]float64, len(days))
			for _, day := range t.Days {
				i := dayIndex(day.Date, from)
				if i >= 0 && i < len(days) && day.Probes > 0 {
					a[i] = round(float64(day.Good)/float64(day.Probes)*100, 2)
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

// ErrDigestMismatch is returned by Verify when a report's data does not match its digest.
var ErrDigestMismatch = errors.New("the report's data does not match its digest")

const (
	dataOpen   = `<script type="application/json" id="creditwatch-report-data">`
	dataClose  = `</script>`
	digestMeta = `<meta name="creditwatch-digest" content="`
)

// Verify recomputes the digest of a saved HTML or JSON report and compares it with the
// digest the report states. It returns the month and digest.
func Verify(file []byte) (month, digest string, err error) {
	var raw []byte
	if bytes.HasPrefix(bytes.TrimSpace(file), []byte("{")) {
		var j struct {
			Digest string          `json:"digest"`
			Data   json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(file, &j); err != nil {
			return "", "", fmt.Errorf("not a creditwatch JSON report: %w", err)
		}
		raw, digest = j.Data, j.Digest
	} else {
		s := string(file)
		i, k := strings.Index(s, dataOpen), strings.Index(s, digestMeta)
		if i < 0 || k < 0 {
			return "", "", errors.New("not a creditwatch HTML report: no embedded data or digest")
		}
		rest := s[i+len(dataOpen):]
		raw = []byte(rest[:strings.Index(rest, dataClose)])
		meta := s[k+len(digestMeta):]
		digest = meta[:strings.Index(meta, `"`)]
	}
	var d struct {
		Month string `json:"month"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return "", digest, fmt.Errorf("reading the embedded data: %w", err)
	}
	if got := Digest(raw); got != digest {
		return d.Month, digest, fmt.Errorf("%w: stated %s, computed %s", ErrDigestMismatch, digest, got)
	}
	return d.Month, digest, nil
}

package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/report"
	"github.com/creditwatch/creditwatch/internal/service"
)

type reports struct {
	svc *service.Service
	log *zap.Logger
}

var reportIndex = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>creditwatch · 月度监测报告</title>
<style>body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:40rem;margin:2rem auto}li{line-height:2}</style></head>
<body><h1>月度监测报告</h1><p><a href="/">返回状态页</a></p><ul>
{{range .}}<li>{{.Label}}：<a href="/reports/{{.Month}}">网页（可打印）</a> · <a href="/reports/{{.Month}}.csv">CSV</a> · <a href="/reports/{{.Month}}.json">JSON</a></li>
{{end}}</ul></body></html>`))

// index lists the months of the assessment period up to the current one, newest first.
func (h *reports) index(w http.ResponseWriter, _ *http.Request) {
	now := h.svc.Clock().Now().In(clock.Shanghai)
	from := h.svc.Settings().PeriodStart(now)
	type month struct{ Month, Label string }
	var ms []month
	for m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, clock.Shanghai); !m.Before(time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, clock.Shanghai)); m = m.AddDate(0, -1, 0) {
		ms = append(ms, month{m.Format("2006-01"), m.Format("2006年1月")})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	reportIndex.Execute(w, ms)
}

func (h *reports) month(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	month, format := name, "html"
	for _, f := range []string{"csv", "json", "html"} {
		if m, ok := strings.CutSuffix(name, "."+f); ok {
			month, format = m, f
		}
	}
	if _, _, err := report.ParseMonth(month); err != nil {
		http.Error(w, "月份格式应为 YYYY-MM", http.StatusNotFound)
		return
	}
	rep, err := report.Generate(r.Context(), h.svc.Ledger(), h.svc.Config(), h.svc.Settings(),
		report.Options{Month: month, Now: h.svc.Clock().Now()})
	if err != nil {
		h.log.Warn("report not generated", zap.String("month", month), zap.Error(err))
		http.Error(w, "无法生成该月报告："+err.Error(), http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	switch format {
	case "csv":
		err = rep.WriteCSV(&buf)
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="creditwatch-`+month+`.csv"`)
	case "json":
		err = rep.WriteJSON(&buf)
		w.Header().Set("Content-Type", "application/json")
	default:
		err = rep.WriteHTML(&buf)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
	}
	if err != nil {
		h.log.Error("report rendering failed", zap.String("month", month), zap.Error(err))
		http.Error(w, "报告生成失败", http.StatusInternalServerError)
		return
	}
	w.Write(buf.Bytes())
}

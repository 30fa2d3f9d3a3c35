package web

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"
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
<style>body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:48rem;margin:2rem auto}li{line-height:2}.muted{color:#57606a}</style></head>
<body><h1>月度监测报告</h1><p><a href="/">返回状态页</a></p><ul>
{{range .}}<li>{{.Label}}：<a href="/reports/{{.Month}}">网页</a> · <a href="/reports/{{.Month}}-print">可打印（A4）</a> · <a href="/reports/{{.Month}}.csv">CSV</a> · <a href="/reports/{{.Month}}.json">JSON</a> <span class="muted">{{.Status}}</span></li>
{{else}}<li class="muted">creditwatch 尚未运行过，没有可出具的月份。</li>{{end}}</ul></body></html>`))

// index lists the months creditwatch watched, newest first, saying which are frozen.
func (h *reports) index(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l := h.svc.Ledger()
	now := h.svc.Clock().Now()
	first, err := l.FirstRun(ctx)
	if err != nil {
		h.log.Error("reports index: reading the ledger failed", zap.Error(err))
		http.Error(w, "读取台账失败", http.StatusInternalServerError)
		return
	}
	type month struct{ Month, Label, Status string }
	var ms []month
	for m := clock.MonthStart(now); !first.IsZero() && !m.Before(clock.MonthStart(first)); m = m.AddDate(0, -1, 0) {
		watched, err := l.Watched(ctx, m, m.AddDate(0, 1, 0))
		if err != nil || !watched {
			continue
		}
		ms = append(ms, month{m.Format("2006-01"), m.Format("2006年1月"), h.status(r, m)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	reportIndex.Execute(w, ms)
}

func (h *reports) status(r *http.Request, m time.Time) string {
	fr, err := h.svc.Ledger().FrozenReport(r.Context(), m.Format("2006-01"))
	switch {
	case err != nil:
		return ""
	case fr != nil:
		return "已封存（第 " + strconv.Itoa(fr.Version) + " 版，" + fr.FrozenAt.In(clock.Shanghai).Format("2006-01-02 15:04") + "，摘要 " + fr.Digest[:12] + "…）"
	case !h.svc.Clock().Now().Before(m.AddDate(0, 1, 0)):
		return "月份已结束，首次打开时封存"
	default:
		return "临时版本（本月尚未结束）"
	}
}

func (h *reports) month(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	month, format := name, "html"
	for _, f := range []string{"csv", "json", "html"} {
		if m, ok := strings.CutSuffix(name, "."+f); ok {
			month, format = m, f
		}
	}
	if m, ok := strings.CutSuffix(month, "-print"); ok {
		month, format = m, "print"
	}
	if _, _, err := report.ParseMonth(month); err != nil {
		http.Error(w, "月份格式应为 YYYY-MM", http.StatusNotFound)
		return
	}
	rep, err := report.Generate(r.Context(), h.svc.Ledger(), h.svc.Config(), h.svc.Settings(),
		report.Options{Month: month, Now: h.svc.Clock().Now(), Key: h.svc.SigningKey(), Renderer: h.svc.Version()})
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, report.ErrNoData) {
			status = http.StatusNotFound
		}
		h.log.Warn("report not generated", zap.String("month", month), zap.Error(err))
		http.Error(w, "无法生成该月报告："+err.Error(), status)
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
	case "print":
		err = rep.WritePrintHTML(&buf)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
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

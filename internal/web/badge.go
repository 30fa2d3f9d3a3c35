package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/zh"
)

// Badges: small SVG images of a target's uptime and of the score, for a wiki or an intranet
// page. Their text is escaped as XML; an unknown target is 404.

// Badge colours.
const (
	badgeGreen  = "#2da44e"
	badgeYellow = "#d4a72c"
	badgeRed    = "#cf222e"
	badgeGrey   = "#8c959f"
)

// textWidth estimates the width of text at 11 px: wide (CJK) characters about 11 px, others 7.
func textWidth(s string) int {
	w := 0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 11
		} else {
			w += 7
		}
	}
	return w
}

func escapeXML(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// badgeSVG draws a two-part badge: a grey label and a coloured value.
func badgeSVG(label, value, colour string) []byte {
	if !utf8.ValidString(label) {
		label = "?"
	}
	lw, vw := textWidth(label)+12, textWidth(value)+12
	l, v := escapeXML(label), escapeXML(value)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s：%s">`, lw+vw, l, v)
	fmt.Fprintf(&b, `<title>%s：%s</title>`, l, v)
	fmt.Fprintf(&b, `<rect width="%d" height="20" rx="3" fill="#555"/><rect x="%d" width="%d" height="20" rx="3" fill="%s"/>`, lw+vw, lw, vw, colour)
	fmt.Fprintf(&b, `<g fill="#fff" font-family="Noto Sans CJK SC,Microsoft YaHei,Verdana,sans-serif" font-size="11">`)
	fmt.Fprintf(&b, `<text x="6" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`, l, lw+6, v)
	return b.Bytes()
}

func writeBadge(w http.ResponseWriter, svg []byte) {
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(svg)
}

// uptimeColour grades an uptime ratio.
func uptimeColour(r *float64) string {
	switch {
	case r == nil:
		return badgeGrey
	case *r >= 0.999:
		return badgeGreen
	case *r >= 0.99:
		return badgeYellow
	}
	return badgeRed
}

// badgeUptime is /badge/{target}/uptime: the target's uptime over window (24h, 30d or
// period; 30d by default).
func (p *statusPage) badgeUptime(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("target")
	known := false
	for _, t := range p.svc.Config().Portal.Targets {
		known = known || t.Name == name
	}
	if !known {
		http.Error(w, "没有该监测目标", http.StatusNotFound)
		return
	}
	window := r.URL.Query().Get("window")
	labels := map[string]string{"": "近30天可用率", "30d": "近30天可用率", "24h": "近24小时可用率", "period": "本周期可用率"}
	label, ok := labels[window]
	if !ok {
		http.Error(w, "window 应为 24h、30d 或 period", http.StatusBadRequest)
		return
	}
	// The uptimes alone: no daily bar, no sparkline.
	g := p.gatherer()
	var views []targetView
	_, err := g.prepare(r.Context())
	if err == nil {
		views, err = g.targetViews(r.Context(), name)
	}
	if err != nil && !errors.Is(err, errNoCard) {
		p.log.Error("badge: reading the ledger failed", zap.Error(err))
		http.Error(w, "读取台账失败", http.StatusInternalServerError)
		return
	}
	var ratio *float64
	for _, t := range views {
		if t.Name == name {
			ratio = map[string]*float64{"": t.Uptime30d, "30d": t.Uptime30d, "24h": t.Uptime24h, "period": t.UptimePeriod}[window]
		}
	}
	writeBadge(w, badgeSVG(name+" "+label, uptimeText(ratio), uptimeColour(ratio)))
}

// badgeScore is /badge/score: the card's headline in two parts, the observable points and
// those lost ("可监测指标 17 分 | 已扣 2 分"), with the basic indicators failing.
func (p *statusPage) badgeScore(w http.ResponseWriter, r *http.Request) {
	c := p.svc.Store().Card()
	if c == nil {
		writeBadge(w, badgeSVG("可监测指标", "评分中", badgeGrey))
		return
	}
	var most, lost float64
	failing := 0
	for _, res := range c.Results {
		if !res.Observable {
			continue
		}
		if res.Gate && res.MaxPoints == 0 {
			if res.Known && !res.GatePass {
				failing++
			}
			continue
		}
		most += res.MaxPoints
		if res.Known {
			lost += res.Lost()
		}
	}
	value := "已扣 " + zh.FormatPoints(lost) + " 分"
	colour := badgeGreen
	switch {
	case failing > 0:
		value += fmt.Sprintf("，%d 项门槛未达标", failing)
		colour = badgeRed
	case lost > 0:
		colour = badgeYellow
	}
	writeBadge(w, badgeSVG("可监测指标 "+zh.FormatPoints(most)+" 分", value, colour))
}

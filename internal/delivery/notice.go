package delivery

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/report"
	"github.com/creditwatch/creditwatch/internal/zh"
)

// Notice is the body posted to a webhook of a format (wecom or json) about a delivered
// report: the month, its version and digest, and where to read it.
func Notice(format string, r *report.Report, linkBase string, files []string) ([]byte, error) {
	links := map[string]string{}
	if linkBase != "" {
		base := strings.TrimRight(linkBase, "/") + "/reports/" + r.Meta.Month
		links = map[string]string{"html": base, "csv": base + ".csv", "json": base + ".json"}
	}
	if format == "wecom" {
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"content": wecomText(r, links, files)}})
	}
	return json.Marshal(struct {
		Event     string            `json:"event"`
		Month     string            `json:"month"`
		Version   int               `json:"version"`
		Digest    string            `json:"digest"`
		FrozenAt  string            `json:"frozen_at"`
		Signed    bool              `json:"signed"`
		Files     []string          `json:"files"`
		Links     map[string]string `json:"links,omitempty"`
		Incidents int               `json:"incidents"`
	}{"report_delivered", r.Meta.Month, r.Meta.Version, r.Meta.Digest, r.Meta.StampedAt, r.Meta.Signature != "", files, links,
		len(r.Data.Outages)})
}

func wecomText(r *report.Report, links map[string]string, files []string) string {
	month := r.Meta.Month
	if t, err := time.Parse("2006-01", month); err == nil {
		month = t.Format("2006年1月")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s信用平台月度监测报告已封存**\n", month, r.Data.City)
	fmt.Fprintf(&b, "> 第 %d 版，计分的不可访问情形 %d 起\n", r.Meta.Version, len(r.Data.Outages))
	if r.Data.Headline != "" {
		fmt.Fprintf(&b, "> %s\n", r.Data.Headline)
	}
	for _, t := range r.Data.Targets {
		up := "无数据"
		if t.UptimeRatio != nil {
			up = zh.Percent(*t.UptimeRatio)
		}
		fmt.Fprintf(&b, "> %s 可用率 %s\n", t.Name, up)
	}
	fmt.Fprintf(&b, "> 数据摘要 SHA-256：%s\n", r.Meta.Digest)
	if h := links["html"]; h != "" {
		fmt.Fprintf(&b, "[网页版](%s) · [CSV](%s) · [JSON](%s)\n", h, links["csv"], links["json"])
	} else {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = filepath.Base(f)
		}
		fmt.Fprintf(&b, "文件：%s\n", strings.Join(names, "、"))
	}
	return b.String()
}

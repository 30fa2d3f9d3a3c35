package web

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

// importsView is the state of the data sources: each export directory and the platform's
// change streams, and the files that were rejected.
type importsView struct {
	Sources       []sourceView
	Rejected      []ledger.SourceFile
	RejectedTotal int
}

// sourceView is one data source's row.
type sourceView struct {
	Name       string
	Kind       string // the records it brings, in Chinese
	Dir        string // an export directory; "" for the platform
	Platform   bool
	Configured bool
	// LastSuccess is the last complete poll since creditwatch started (zero: none yet);
	// LastImport the last file imported whole, or the last move of a stream's cursor.
	LastSuccess, LastImport         time.Time
	Files, Done, Failed, InProgress int
	Waiting                         int                // records staged, not published yet
	Errors                          []string           // in Chinese, for the page
	ErrorCounts                     map[string]float64 // by reason
	Streams                         []streamView
}

type streamView struct {
	Name string
	At   time.Time
}

// rejectedShown bounds the rejected files listed on the page.
const rejectedShown = 50

var exportKindNames = map[string]string{"penalty": "行政处罚", "licence": "行政许可", "objection": "异议", "repair": "信用修复"}

var sourceErrorNames = map[string]string{
	"timeout": "超时", "connect_error": "连接失败", "dns_error": "域名解析失败", "tls_error": "证书或TLS错误",
	"http_status": "HTTP状态异常", "unauthorized": "认证失败（请检查令牌）", "bad_json": "返回内容无法解析",
	"body_too_large": "返回内容超过上限", "bad_record": "记录缺少编号、时间或字段（已跳过）", "unreadable_file": "文件无法读取",
}

func (g *gatherer) imports(ctx context.Context) (importsView, error) {
	var v importsView
	sums, err := g.ledger.SourceSummaries(ctx)
	if err != nil {
		return v, err
	}
	byName := map[string]ledger.SourceSummary{}
	for _, s := range sums {
		byName[s.Source] = s
	}
	seen := map[string]bool{}
	add := func(sv sourceView) {
		seen[sv.Name] = true
		s := byName[sv.Name]
		sv.LastImport, sv.Files, sv.Done, sv.Failed, sv.InProgress, sv.Waiting = s.LastImport, s.Files, s.Done, s.Failed, s.InProgress, s.Waiting
		for name, at := range s.Streams {
			sv.Streams = append(sv.Streams, streamView{Name: name, At: at})
			if at.After(sv.LastImport) {
				sv.LastImport = at
			}
		}
		sort.Slice(sv.Streams, func(i, j int) bool { return sv.Streams[i].Name < sv.Streams[j].Name })
		st := g.store.Source(sv.Name)
		sv.LastSuccess, sv.ErrorCounts = st.LastSuccess, st.Errors
		reasons := make([]string, 0, len(st.Errors))
		for r := range st.Errors {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		for _, r := range reasons {
			name := sourceErrorNames[r]
			if name == "" {
				name = r
			}
			sv.Errors = append(sv.Errors, fmt.Sprintf("%s %.0f 次", name, st.Errors[r]))
		}
		v.Sources = append(v.Sources, sv)
	}
	for _, e := range g.cfg.Publicity.Exports {
		add(sourceView{Name: e.Name, Kind: exportKindNames[e.Kind], Dir: e.Dir, Configured: true})
	}
	if g.cfg.Platform.URL != "" {
		add(sourceView{Name: "platform", Kind: "平台接口（变更流）", Platform: true, Configured: true})
	}
	for _, s := range sums {
		if !seen[s.Source] {
			add(sourceView{Name: s.Source, Kind: "—", Platform: len(s.Streams) > 0})
		}
	}
	v.Rejected, v.RejectedTotal, err = g.ledger.RejectedFiles(ctx, rejectedShown)
	return v, err
}

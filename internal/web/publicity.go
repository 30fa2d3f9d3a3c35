package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/csvsafe"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// issuesShown bounds the records of each issue listed on the page; the CSV has them all.
const issuesShown = 20

// issuesView is the records behind the card's publicity counts, as of the card's instant.
type issuesView struct {
	AsOf         string // the day the card speaks for
	DeadlineDays int
	Groups       []issueGroup
}

type issueGroup struct {
	Issue, Name, Rule string
	Short             string // the rule column of a record without rules broken
	Count             int
	Records           []publicity.IssueRecord
}

// Truncated reports whether the page lists fewer records than there are.
func (g issueGroup) Truncated() bool { return len(g.Records) < g.Count }

// issueCache keeps the lists between page views: they change only when records are written
// or the day turns, as the card's publicity figures do.
type issueCache struct {
	mu  sync.Mutex
	key issueKey
	val *ledger.PublicityIssues
}

type issueKey struct {
	version   int64
	day, from string
}

func (c *issueCache) get(ctx context.Context, l *ledger.Ledger, pub *card.Publicity, v ledger.View) (*ledger.PublicityIssues, error) {
	key := issueKey{version: l.PublicityVersion(), day: v.Day(), from: clock.Date(v.From)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.val != nil && c.key == key {
		return c.val, nil
	}
	val, err := l.PublicityIssueList(ctx, v, pub.NextWorkday, issuesShown)
	if err != nil {
		return nil, err
	}
	c.key, c.val = key, val
	return val, nil
}

// issueRuleText says which rule a record of an issue breaks.
func issueRuleText(issue string, deadlineDays int) string {
	switch issue {
	case publicity.IssueFaulty:
		return "数据不符合“双公示”数据标准"
	case publicity.IssueDueSoon:
		return fmt.Sprintf("决定之日起 %d 个工作日内上报；期限为今日或下一个工作日", deadlineDays)
	case publicity.IssueLate:
		return fmt.Sprintf("决定之日起 %d 个工作日内上报；已超期上报，计入及时率", deadlineDays)
	}
	return fmt.Sprintf("决定之日起 %d 个工作日内上报；已超期仍未上报，计入上报率", deadlineDays)
}

// ruleNames are a faulty record's rules in Chinese.
func ruleNames(rules []string) string {
	names := make([]string, len(rules))
	for i, r := range rules {
		if names[i] = publicity.RuleNamesZH[r]; names[i] == "" {
			names[i] = r
		}
	}
	return strings.Join(names, "、")
}

func (g *gatherer) issues(ctx context.Context, c *card.Card) (*issuesView, error) {
	pub := c.Publicity
	if pub == nil || !pub.Watched {
		return nil, nil
	}
	list, err := g.issueCache.get(ctx, g.ledger, pub, ledger.View{At: c.At, From: c.From})
	if err != nil {
		return nil, err
	}
	v := &issuesView{AsOf: clock.Date(clock.LastDay(c.At)), DeadlineDays: g.cfg.Publicity.DeadlineWorkdays}
	for _, is := range publicity.IssueOrder {
		v.Groups = append(v.Groups, issueGroup{Issue: is, Name: publicity.IssueNamesZH[is], Rule: issueRuleText(is, v.DeadlineDays),
			Short: fmt.Sprintf("决定之日起 %d 个工作日内上报", v.DeadlineDays),
			Count: list.Counts[is], Records: list.Records[is]})
	}
	return v, nil
}

// issuesCSV downloads every record behind the card's publicity counts, as of the card's
// instant: UTF-8 with a BOM so that Excel reads the Chinese right, every cell safe to open.
func (p *statusPage) issuesCSV(w http.ResponseWriter, r *http.Request) {
	c := p.svc.Store().Card()
	if c == nil || c.Publicity == nil || !c.Publicity.Watched {
		http.Error(w, "尚无“双公示”数据", http.StatusNotFound)
		return
	}
	only := r.URL.Query().Get("issue")
	if _, ok := publicity.IssueNamesZH[only]; only != "" && !ok {
		http.Error(w, "issue 应为 overdue、due_soon、late 或 faulty", http.StatusBadRequest)
		return
	}
	day := clock.Date(clock.LastDay(c.At))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="publicity-issues-`+day+`.csv"`)
	deadline := p.svc.Config().Publicity.DeadlineWorkdays
	cw := csvsafe.NewWriter(w)
	w.Write([]byte("\ufeff"))
	cw.Write([]string{"问题", "类别", "决定书文号", "数据来源单位", "决定日期", "上报期限", "上报日期", "规则", "截至"})
	err := p.svc.Ledger().EachPublicityIssue(r.Context(), ledger.View{At: c.At, From: c.From}, c.Publicity.NextWorkday,
		func(ir publicity.IssueRecord) error {
			if only != "" && ir.Issue != only {
				return nil
			}
			rule := issueRuleText(ir.Issue, deadline)
			if len(ir.Rules) > 0 {
				rule = ruleNames(ir.Rules)
			}
			return cw.Write([]string{publicity.IssueNamesZH[ir.Issue], publicity.KindNamesZH[ir.Kind], ir.ID, ir.Department,
				ir.DecidedOn, ir.Deadline, ir.ReportedOn, rule, day})
		})
	if err == nil {
		err = cw.Flush()
	}
	if err != nil && r.Context().Err() == nil {
		// The header is gone: the truncated file ends with the reason.
		p.log.Error("publicity issues download failed", zap.Error(err))
		cw.Write([]string{"下载中断：读取台账失败"})
		cw.Flush()
	}
}

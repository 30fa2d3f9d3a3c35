package sim

import (
	"bytes"
	_ "embed"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Defacement and content pages. The home page's defaced variants are fault kinds, scripted
// like outages (faults: or sequence:); /-/sim/pages/KIND serves any of them directly.
// /xydt/ is a news list that changes every day; /sgs/ a double-publicity list whose newest
// item is lists.stale_days old.

// Fault kinds of the home page's content.
const (
	FaultDefaceKeyword    = "deface_keyword"     // a gambling item injected into the news list
	FaultDefaceScript     = "deface_script"      // a script from a foreign origin
	FaultDefaceIframe     = "deface_iframe"      // an invisible frame from a foreign origin
	FaultDefaceLink       = "deface_link"        // a visible link to a foreign site
	FaultDefaceHiddenLink = "deface_hidden_link" // links to foreign sites hidden off screen and by a style rule
	FaultDefaceTitle      = "deface_title"       // the title changed
	FaultDefacePage       = "deface_page"        // the whole page replaced by a defacer's
	FaultRedesign         = "redesign"           // a legitimate new layout, same content and title
)

// ContentFaults are the fault kinds that change the home page's content.
var ContentFaults = []string{FaultDefaceKeyword, FaultDefaceScript, FaultDefaceIframe, FaultDefaceLink,
	FaultDefaceHiddenLink, FaultDefaceTitle, FaultDefacePage, FaultRedesign}

//go:embed assets/redesign.html
var redesignPage []byte

var defacedPage = []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hacked by 0x5ec</title></head>` +
	`<body style="background:#000;color:#0f0;text-align:center"><h1>Hacked by 0x5ec</h1><marquee>your security is zero</marquee>` +
	`<p>澳门新葡京 真人娱乐 百家乐 <a href="https://www.amxpj-888.example/">立即注册</a></p></body></html>`)

// PortalPage is the home page with a content fault (ok or "" for the normal page).
func PortalPage(kind string) ([]byte, error) {
	insert := func(marker, what string) []byte {
		return bytes.Replace(indexPage, []byte(marker), []byte(what+marker), 1)
	}
	switch kind {
	case "", FaultOK:
		return indexPage, nil
	case FaultDefaceKeyword:
		return insert("</ul></section>", "<li>澳门新葡京娱乐城 首存送彩金</li>\n"), nil
	case FaultDefaceScript:
		return insert("</body>", `<script src="https://cdn.tj-stat.example/tj.js"></script>`+"\n"), nil
	case FaultDefaceIframe:
		return insert("</body>", `<iframe src="https://www.bet-online.example/" width="0" height="0" frameborder="0"></iframe>`+"\n"), nil
	case FaultDefaceLink:
		return insert("</nav>", `<a href="http://www.zhaopin-cn.example/">招聘信息</a>`), nil
	case FaultDefaceHiddenLink:
		return insert("</footer>", `<div style="position:absolute;left:-9999px;top:-9999px"><a href="http://www.seo-links.example/">优惠活动</a></div>`+
			`<style>.ft-links{display:none}</style><div class="ft-links"><a href="http://www.seo-links.example/2">友情链接</a></div>`), nil
	case FaultDefaceTitle:
		return bytes.Replace(indexPage, []byte("<title>信用濮阳 - 濮阳市社会信用体系建设门户网站</title>"), []byte("<title>信用濮阳 - 欢迎光临</title>"), 1), nil
	case FaultDefacePage:
		return defacedPage, nil
	case FaultRedesign:
		return redesignPage, nil
	}
	return nil, fmt.Errorf("unknown page kind %q", kind)
}

func (s *Sim) page(w http.ResponseWriter, r *http.Request) {
	body, err := PortalPage(r.PathValue("kind"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	writeHTML(w, body)
}

func writeHTML(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(body)
}

// ListScenario configures the list pages.
type ListScenario struct {
	StaleDays int `yaml:"stale_days"` // age in days of /sgs/'s newest item; default 45
}

var newsTitles = []string{"我市召开社会信用体系建设工作推进会", "市发展改革委开展诚信宣传进社区活动", "关于开展信用修复专项培训的通知",
	"我市新增一批守信激励对象", "市场监管局发布企业信用风险分类结果", "信用承诺制在工程建设领域全面推行", "我市“信易贷”平台放款突破十亿元",
	"关于公布第三季度双公示工作评估结果的通知", "市住建局开展建筑市场信用评价", "诚信建设万里行主题宣传活动启动", "我市举办信用体系建设示范城市创建培训",
	"市税务局发布纳税信用A级纳税人名单", "关于进一步规范信用信息归集工作的通知", "城市信用监测排名稳步提升"}

// NewsList is /xydt/ on day: items of the last working days, newest first, their titles
// and number changing from day to day, the layout never.
func NewsList(day time.Time) []byte {
	day = civilDay(day)
	h := fnv.New32a()
	h.Write([]byte(day.Format(time.DateOnly)))
	n := 10 + int(h.Sum32()%6)
	var items strings.Builder
	d := day
	for i := 0; i < n; i++ {
		title := newsTitles[(int(h.Sum32()/7)+i*5)%len(newsTitles)]
		fmt.Fprintf(&items, `<li class="news-item"><a href="/xydt/%s-%d.html">%s</a><span class="date">%s</span></li>`+"\n",
			d.Format("20060102"), i, title, d.Format(time.DateOnly))
		if i%2 == 1 {
			d = before(d, 1)
		}
	}
	return listPage("信用动态", items.String())
}

// StaleList is /sgs/ at now: double-publicity items, the newest staleDays days old.
func StaleList(now time.Time, staleDays int) []byte {
	d := civilDay(now).AddDate(0, 0, -staleDays)
	var items strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&items, `<li class="news-item"><a href="/sgs/%d.html">濮市监罚〔%d〕%d号 行政处罚决定书</a><span class="date">%s</span></li>`+"\n",
			300-i, d.Year(), 300-i, d.Format("2006年1月2日"))
		d = d.AddDate(0, 0, -3)
	}
	return listPage("双公示", items.String())
}

func listPage(title, items string) []byte {
	return []byte(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>` + title + ` - 信用濮阳</title></head><body>` +
		`<header><h1>信用濮阳</h1></header><nav><a href="/">首页</a><a href="/xydt/">信用动态</a><a href="/sgs/">双公示</a></nav>` +
		`<div class="list-box"><h2>` + title + `</h2><ul class="news-list">` + "\n" + items + `</ul></div>` +
		`<footer>版权所有：濮阳市发展和改革委员会</footer></body></html>`)
}

func civilDay(t time.Time) time.Time {
	y, m, d := t.In(clock.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
}

func (s *Sim) today() time.Time {
	if s.scenario.Platform.AsOf != "" {
		return s.platform.asOf
	}
	return time.Now()
}

func (s *Sim) news(w http.ResponseWriter, _ *http.Request) { writeHTML(w, NewsList(s.today())) }

func (s *Sim) staleList(w http.ResponseWriter, _ *http.Request) {
	days := s.scenario.Lists.StaleDays
	if days <= 0 {
		days = 45
	}
	writeHTML(w, StaleList(s.today(), days))
}

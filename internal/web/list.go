package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The status page's targets table, a page at a time; a filter on the name or address. When
// the targets fit on one page they keep the config's order, as they always have; when they
// need more, those with a problem come first, so that none is left on a later page, then
// the others, each group by name. Only the targets shown have their daily bars and
// sparklines read.

// pageSize is how many targets a page of the status page shows: with each target's 90-day
// bar and sparkline, about 20 KB of HTML a target.
const pageSize = 25

// maxQuery bounds the filter's length, in characters.
const maxQuery = 100

// listQuery is what the status page was asked for: ?page=N&q=text.
type listQuery struct {
	page   int    // from 1
	filter string // "": every target
}

// parseListQuery reads the status page's parameters; an error names the bad one, in Chinese.
func parseListQuery(v url.Values) (listQuery, error) {
	var q listQuery
	var err error
	if q.page, err = intParam(v, "page", 1, 1, math.MaxInt, "从 1 起的整数"); err != nil {
		return q, err
	}
	q.filter, err = filterParam(v)
	return q, err
}

// intParam reads the integer parameter name, from lo to hi, def when absent; want says what
// it should be, in Chinese, for the error (after 应为: a leading digit takes a space).
func intParam(v url.Values, name string, def, lo, hi int, want string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return def, fmt.Errorf("%s 应为%s（收到 %q）", name, want, s)
	}
	return n, nil
}

// filterParam reads the filter q, at most maxQuery characters.
func filterParam(v url.Values) (string, error) {
	f := strings.TrimSpace(v.Get("q"))
	if utf8.RuneCountInString(f) > maxQuery {
		return f, fmt.Errorf("q 过长：最多 %d 个字符", maxQuery)
	}
	return f, nil
}

// errNoPage is a page number past the last page.
type errNoPage struct{ page, pages int }

func (e errNoPage) Error() string {
	return fmt.Sprintf("没有第 %d 页：共 %d 页", e.page, e.pages)
}

// targetList is the targets table of one page.
type targetList struct {
	Shown   []targetView // the targets of this page, with their heavy parts
	Total   int          // configured targets
	Matched int          // of them, those the filter keeps
	Problem int          // of them, those with a problem (listed first when there are pages)
	Query   string       // the filter, "" when none
	Page    int
	Pages   int // at least 1
	Size    int
	Counts  []stateCount // every configured target, by state
	Content int          // targets whose page content is not as it should be
	Nav     []pageLink   // links to other pages, empty when there is one page
}

// stateCount is how many targets are in a state.
type stateCount struct {
	Code, Word, Class string
	N                 int
}

// pageLink is one item of the page links: a page number, or a gap ("…").
type pageLink struct {
	Text    string
	Href    string // "" for the current page and gaps
	Current bool
	Rel     string // prev or next
}

// First is the position of the first target shown, from 1.
func (l *targetList) First() int { return (l.Page-1)*l.Size + 1 }

// Last is the position of the last target shown.
func (l *targetList) Last() int { return l.First() + len(l.Shown) - 1 }

// Rank orders the targets table: 0 for a target down, with an incident open or a confirmed
// defacement; 1 for a WAF challenge, suspected defacement, stale or unreadable content, an
// expired certificate; 2 for the rest.
func (v targetView) Rank() int {
	switch {
	case v.State.Code == StateDown || v.State.Code == StateRecovering || v.OpenIncident != 0 || v.ContentClass == "down":
		return 0
	case v.State.Code == StateChallenged || v.ContentClass == "risk" || v.CertClass == "down":
		return 1
	}
	return 2
}

// Problem reports whether the target is listed among those with a problem.
func (v targetView) Problem() bool { return v.Rank() < 2 }

// matches reports whether the filter is in the target's name or address, whatever the case.
func matches(v *targetView, filter string) bool {
	if filter == "" {
		return true
	}
	f := strings.ToLower(filter)
	return strings.Contains(strings.ToLower(v.Name), f) || strings.Contains(strings.ToLower(v.URL), f)
}

// listTargets orders and filters the targets (every configured one, without heavy parts)
// and picks the page asked for; the targets of the page are copies, to be detailed.
func listTargets(all []targetView, q listQuery) (*targetList, error) {
	l := &targetList{Total: len(all), Query: q.filter, Page: q.page, Size: pageSize}
	var kept []*targetView
	counts := map[string]int{}
	for i := range all {
		v := &all[i]
		counts[v.State.Code]++
		if v.ContentClass == "down" || v.ContentClass == "risk" {
			l.Content++
		}
		if matches(v, q.filter) {
			kept = append(kept, v)
			if v.Problem() {
				l.Problem++
			}
		}
	}
	for _, s := range []struct{ code, word, class string }{
		{StateDown, "不可访问", "down"}, {StateRecovering, "恢复确认中", "risk"}, {StateChallenged, "WAF 拦截", "risk"},
		{StateUp, "正常", "up"}, {StateUnknown, "未监测", "unknown"},
	} {
		if n := counts[s.code]; n > 0 {
			l.Counts = append(l.Counts, stateCount{s.code, s.word, s.class, n})
		}
	}
	l.Matched = len(kept)
	l.Pages = max(1, (len(kept)+pageSize-1)/pageSize)
	if l.Pages > 1 {
		ranks := make(map[*targetView]int, len(kept))
		for _, v := range kept {
			ranks[v] = v.Rank()
		}
		slices.SortStableFunc(kept, func(a, b *targetView) int {
			return cmp.Or(cmp.Compare(ranks[a], ranks[b]), strings.Compare(a.Name, b.Name))
		})
	}
	if q.page > l.Pages {
		return nil, errNoPage{q.page, l.Pages}
	}
	for _, v := range kept[(q.page-1)*pageSize : min(len(kept), q.page*pageSize)] {
		l.Shown = append(l.Shown, *v)
	}
	l.Nav = pageLinks(q, l.Pages)
	return l, nil
}

// pageHref is the address of a page of the status page with the same filter.
func pageHref(q listQuery, page int) string {
	v := url.Values{}
	if q.filter != "" {
		v.Set("q", q.filter)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/#targets"
	}
	return "/?" + v.Encode() + "#targets"
}

// pageLinks are the links to the previous and next pages, the first and last, and the two
// pages either side of the current one, with gaps between.
func pageLinks(q listQuery, pages int) []pageLink {
	if pages <= 1 {
		return nil
	}
	var out []pageLink
	if q.page > 1 {
		out = append(out, pageLink{Text: "上一页", Href: pageHref(q, q.page-1), Rel: "prev"})
	}
	gap := false
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < q.page-2 || n > q.page+2) {
			if !gap {
				out = append(out, pageLink{Text: "…"})
			}
			gap = true
			continue
		}
		gap = false
		link := pageLink{Text: strconv.Itoa(n), Href: pageHref(q, n)}
		if n == q.page {
			link.Href, link.Current = "", true
		}
		out = append(out, link)
	}
	if q.page < pages {
		out = append(out, pageLink{Text: "下一页", Href: pageHref(q, q.page+1), Rel: "next"})
	}
	return out
}

// page reads the status page's data for one page of the targets table.
func (g *gatherer) page(ctx context.Context, q listQuery) (*statusData, error) {
	d, err := g.summary(ctx)
	if err != nil {
		return nil, err
	}
	if d.List, err = listTargets(d.Targets, q); err != nil {
		return nil, err
	}
	if err := g.detail(ctx, d.List.Shown, true); err != nil {
		return nil, err
	}
	return d, nil
}

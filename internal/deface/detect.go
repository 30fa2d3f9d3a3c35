package deface

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// Rules of defacement signs. Bounded: usable as a metric label.
const (
	RuleKeyword          = "keyword"           // a term of the shipped list
	RuleMustNotContain   = "must_not_contain"  // a term of the target's own list
	RuleForeignScript    = "foreign_script"    // <script src> from an origin not allowed
	RuleForeignFrame     = "foreign_frame"     // <iframe>/<frame> from an origin not allowed
	RuleForeignResource  = "foreign_resource"  // img, embed, object, link, form action, meta refresh
	RuleForeignLink      = "foreign_link"      // <a href> to an origin not allowed
	RuleHiddenLink       = "hidden_link"       // a hidden link to an origin other than the page's
	RuleTitleChanged     = "title_changed"     // <title> differs from the baseline's
	RuleStructureChanged = "structure_changed" // structure distance beyond the threshold
)

// Rules lists every rule.
func Rules() []string {
	return []string{RuleKeyword, RuleMustNotContain, RuleForeignScript, RuleForeignFrame, RuleForeignResource,
		RuleForeignLink, RuleHiddenLink, RuleTitleChanged, RuleStructureChanged}
}

var ruleMessages = map[string]string{
	RuleKeyword:          "页面出现涉赌、涉黄或诈骗关键词",
	RuleMustNotContain:   "页面出现禁止出现的内容",
	RuleForeignScript:    "页面加载了白名单以外来源的脚本",
	RuleForeignFrame:     "页面嵌入了白名单以外来源的框架",
	RuleForeignResource:  "页面加载了白名单以外来源的资源",
	RuleForeignLink:      "页面含有指向白名单以外站点的链接",
	RuleHiddenLink:       "页面含有指向外部站点的隐藏链接",
	RuleTitleChanged:     "页面标题与基线不一致",
	RuleStructureChanged: "页面结构与基线相比变化过大",
}

// MaxEvidenceBytes bounds a sign's evidence.
const MaxEvidenceBytes = 300

// maxSignsPerRule bounds the signs of one rule on one page.
const maxSignsPerRule = 10

// DefaultStructureThreshold is the structure distance beyond which a page has changed:
// daily news changes stay far below it, a redesign or a replaced page far above.
const DefaultStructureThreshold = 0.35

// Policy is a target's configuration of the checks.
type Policy struct {
	Keywords           []string  // the shipped list; nil means DefaultKeywords
	MustNotContain     []string  // the target's own terms
	Allow              AllowList // origins allowed besides the page's own
	StructureThreshold float64   // 0 means DefaultStructureThreshold
}

// Sign is one sign of defacement on a page.
type Sign struct {
	Rule     string `json:"rule"`     // one of the Rule constants
	Evidence string `json:"evidence"` // the fragment, at most MaxEvidenceBytes
	Message  string `json:"message"`  // Chinese, for the office
}

// Detect lists the signs on a page against a policy and, when the office has accepted one,
// the page's baseline (nil: no title or structure check yet).
func Detect(p *Page, pol Policy, base *Baseline) []Sign {
	var signs []Sign
	add := func(rule, evidence string) {
		if countRule(signs, rule) < maxSignsPerRule {
			signs = append(signs, Sign{Rule: rule, Evidence: clip(evidence, MaxEvidenceBytes), Message: ruleMessages[rule]})
		}
	}
	keywords := pol.Keywords
	if keywords == nil {
		keywords = DefaultKeywords
	}
	// The page's text is folded once for both lists.
	text := fold(pageText(p.Root, p.size))
	for _, h := range sortedHits(keywordHits(text, keywords)) {
		add(RuleKeyword, h)
	}
	for _, h := range sortedHits(keywordHits(text, pol.MustNotContain)) {
		add(RuleMustNotContain, h)
	}
	hidden := hiddenLinks(p.Root)
	for _, ref := range references(p.Root) {
		u, ok := resolve(p.URL, ref.url)
		if !ok {
			continue
		}
		if !pol.Allow.allows(p.URL, u) {
			add(ref.rule, fragment(ref.node, MaxEvidenceBytes))
		}
		if hidden[ref.node] && !sameOrigin(p.URL, u) {
			add(RuleHiddenLink, fragment(hiddenAncestorOrSelf(ref.node), MaxEvidenceBytes))
		}
	}
	if base != nil {
		signs = append(signs, baselineSigns(p, base, pol.StructureThreshold)...)
	}
	return signs
}

func baselineSigns(p *Page, base *Baseline, threshold float64) []Sign {
	var out []Sign
	if p.Title != base.Title {
		out = append(out, Sign{Rule: RuleTitleChanged, Message: ruleMessages[RuleTitleChanged],
			Evidence: clip(fmt.Sprintf("基线标题「%s」，现为「%s」", base.Title, p.Title), MaxEvidenceBytes)})
	}
	if threshold <= 0 {
		threshold = DefaultStructureThreshold
	}
	now := ProfileOf(p.Root)
	if d := Distance(base.Profile, now); d > threshold {
		out = append(out, Sign{Rule: RuleStructureChanged, Message: ruleMessages[RuleStructureChanged],
			Evidence: clip(fmt.Sprintf("结构差异 %.2f（阈值 %.2f）：%s", d, threshold, strings.Join(changedPaths(base.Profile, now, 5), " ")), MaxEvidenceBytes)})
	}
	return out
}

// hiddenAncestorOrSelf is the outermost ancestor of a link that is still a small part of
// the page, so the evidence shows how the link is hidden: the link's parent if it carries
// a style, else the link.
func hiddenAncestorOrSelf(n *html.Node) *html.Node {
	if p := n.Parent; p != nil && attr(p, "style") != "" {
		return p
	}
	return n
}

func countRule(signs []Sign, rule string) int {
	n := 0
	for _, s := range signs {
		if s.Rule == rule {
			n++
		}
	}
	return n
}

func sortedHits(hits map[string]string) []string {
	var out []string
	for _, ctx := range hits {
		out = append(out, ctx)
	}
	slices.Sort(out)
	return out
}

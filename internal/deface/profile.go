package deface

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Profile is a page's structure: how many elements sit at each root-to-element tag path.
// A path is the tags from <html> down, each with its class names (digits removed, sorted),
// such as "html>body>div.news>ul>li>a".
type Profile map[string]int

const (
	maxPathDepth = 40    // deeper elements count under their ancestor at this depth
	maxPaths     = 10000 // distinct paths kept; more is a page no portal serves
	maxPathBytes = 400
)

// ProfileOf computes a page's profile. Scripts, styles and the head's metadata are left
// out: they change with deployments more than with layout.
func ProfileOf(root *html.Node) Profile {
	p := Profile{}
	var walk func(n *html.Node, path string, depth int)
	walk = func(n *html.Node, path string, depth int) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode || ignoredInProfile[c.DataAtom] {
				continue
			}
			cp := path
			switch {
			case depth == 0:
				cp = step(c)
			case depth < maxPathDepth:
				cp = clip(path+">"+step(c), maxPathBytes)
			}
			if _, ok := p[cp]; ok || len(p) < maxPaths {
				p[cp]++
			}
			walk(c, cp, depth+1)
		}
	}
	walk(root, "", 0)
	return p
}

var ignoredInProfile = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Meta: true, atom.Link: true,
	atom.Noscript: true, atom.Template: true, atom.Br: true}

// step is an element's part of a path: its tag and its classes without digits, so that
// generated class names (item-3, col12) do not make two identical layouts differ.
func step(n *html.Node) string {
	var classes []string
	for _, c := range strings.Fields(strings.ToLower(attr(n, "class"))) {
		c = strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return -1
			}
			return r
		}, c)
		if c = strings.Trim(c, "-_"); c != "" && !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	slices.Sort(classes)
	if len(classes) == 0 {
		return n.Data
	}
	return n.Data + "." + strings.Join(classes, ".")
}

// weight dampens counts, so that a list's length (20 news items today, 23 tomorrow) weighs
// little against the layout around it: 1 + log2(count).
func weight(count int) float64 {
	if count <= 0 {
		return 0
	}
	return 1 + math.Log2(float64(count))
}

// Distance is 1 − weighted Jaccard similarity of two profiles: 0 for the same structure,
// 1 for nothing in common.
func Distance(a, b Profile) float64 {
	var minSum, maxSum float64
	for path, ca := range a {
		wa, wb := weight(ca), weight(b[path])
		minSum += math.Min(wa, wb)
		maxSum += math.Max(wa, wb)
	}
	for path, cb := range b {
		if _, ok := a[path]; !ok {
			maxSum += weight(cb)
		}
	}
	if maxSum == 0 {
		return 0
	}
	return 1 - minSum/maxSum
}

// changedPaths lists the paths whose weight differs most between two profiles, for
// evidence: at most n, largest change first.
func changedPaths(base, now Profile, n int) []string {
	type diff struct {
		path  string
		delta float64
	}
	var ds []diff
	for path, c := range now {
		if d := weight(c) - weight(base[path]); d != 0 {
			ds = append(ds, diff{"+" + path, math.Abs(d)})
		}
	}
	for path, c := range base {
		if _, ok := now[path]; !ok {
			ds = append(ds, diff{"-" + path, weight(c)})
		}
	}
	slices.SortFunc(ds, func(a, b diff) int {
		if a.delta != b.delta {
			return map[bool]int{true: -1, false: 1}[a.delta > b.delta]
		}
		return strings.Compare(a.path, b.path)
	})
	var out []string
	for _, d := range ds[:min(n, len(ds))] {
		out = append(out, d.path)
	}
	return out
}

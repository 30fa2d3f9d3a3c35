package deface

import (
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Hidden links are found from inline styles and from <style> rules with simple selectors
// (tag, .class, #id, tag.class, tag#id, and lists of them): how injected link farms hide
// themselves. This is not a CSS engine: no cascade, no combinators, no external sheets.

var cssRule = regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)

// hidingRules maps simple selectors to whether their declarations hide an element.
type hidingRules map[string]bool

func styleRules(root *html.Node) hidingRules {
	rules := hidingRules{}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.DataAtom != atom.Style {
			continue
		}
		css := stripComments(textOf(n))
		for _, m := range cssRule.FindAllStringSubmatch(css, -1) {
			if !hides(m[2]) {
				continue
			}
			for _, sel := range strings.Split(m[1], ",") {
				if sel = strings.ToLower(strings.TrimSpace(sel)); isSimple(sel) {
					rules[sel] = true
				}
			}
		}
	}
	return rules
}

var simpleSelector = regexp.MustCompile(`^[a-z0-9]*(?:[.#][a-z0-9_-]+)?$`)

func isSimple(sel string) bool { return sel != "" && simpleSelector.MatchString(sel) }

func stripComments(css string) string {
	for {
		i := strings.Index(css, "/*")
		if i < 0 {
			return css
		}
		j := strings.Index(css[i+2:], "*/")
		if j < 0 {
			return css[:i]
		}
		css = css[:i] + css[i+2+j+2:]
	}
}

// matches reports whether an element is hidden by a rule.
func (r hidingRules) matches(n *html.Node) bool {
	if len(r) == 0 {
		return false
	}
	tag := n.Data
	if id := strings.ToLower(attr(n, "id")); id != "" && (r["#"+id] || r[tag+"#"+id]) {
		return true
	}
	for _, c := range strings.Fields(strings.ToLower(attr(n, "class"))) {
		if r["."+c] || r[tag+"."+c] {
			return true
		}
	}
	return r[tag]
}

// hides reports whether CSS declarations hide what they apply to: display:none,
// visibility:hidden, opacity:0, font-size:0, zero width or height with overflow hidden,
// or absolute/fixed positioning (or text-indent) far off screen.
func hides(decls string) bool {
	d := declarations(decls)
	switch {
	case d["display"] == "none", d["visibility"] == "hidden", isZero(d["opacity"]), isZero(d["font-size"]):
		return true
	case (isZero(d["width"]) || isZero(d["height"])) && (d["overflow"] == "hidden" || isZero(d["width"]) && isZero(d["height"])):
		return true
	case offScreen(d["text-indent"]):
		return true
	case d["position"] == "absolute" || d["position"] == "fixed":
		return offScreen(d["left"]) || offScreen(d["top"]) || offScreen(d["right"]) || offScreen(d["margin-left"]) || offScreen(d["margin-top"])
	}
	return false
}

func declarations(s string) map[string]string {
	out := map[string]string{}
	for _, decl := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		v = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important")))
		out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return out
}

var lengthValue = regexp.MustCompile(`^(-?[0-9.]+)(px|pt|em|rem|%)?$`)

func isZero(v string) bool {
	m := lengthValue.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	return err == nil && f == 0
}

// offScreen is a length of -500px or less (-30em and beyond for em).
func offScreen(v string) bool {
	m := lengthValue.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return false
	}
	if m[2] == "em" || m[2] == "rem" {
		f *= 16
	}
	return f <= -500
}

// hiddenElement reports whether an element itself is hidden: by attribute, inline style
// or a <style> rule. Callers carry the flag down to descendants.
func hiddenElement(n *html.Node, rules hidingRules) bool {
	if n.Type != html.ElementNode {
		return false
	}
	for _, a := range n.Attr {
		if a.Key == "hidden" {
			return true
		}
	}
	if st := attr(n, "style"); st != "" && hides(st) {
		return true
	}
	return rules.matches(n)
}

// hiddenLinks lists the links (a, area with href) that are hidden themselves or inside a
// hidden element.
func hiddenLinks(root *html.Node) map[*html.Node]bool {
	rules := styleRules(root)
	out := map[*html.Node]bool{}
	var walk func(n *html.Node, hidden bool)
	walk = func(n *html.Node, hidden bool) {
		hidden = hidden || hiddenElement(n, rules)
		if hidden && n.Type == html.ElementNode && (n.DataAtom == atom.A || n.DataAtom == atom.Area) && attr(n, "href") != "" {
			out[n] = true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, hidden)
		}
	}
	walk(root, false)
	return out
}

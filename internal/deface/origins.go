package deface

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// AllowList holds the origins a page may load from and link to, besides its own:
// "https://host[:port]" (that origin), "host" (any scheme and port), "*.example.gov.cn"
// (any subdomain).
type AllowList []string

// allows reports whether a resource URL is the page's own origin or on the list.
func (a AllowList) allows(page, res *url.URL) bool {
	if sameOrigin(page, res) {
		return true
	}
	host := strings.ToLower(res.Hostname())
	for _, p := range a {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case strings.HasPrefix(p, "*."):
			if strings.HasSuffix(host, p[1:]) {
				return true
			}
		case strings.Contains(p, "://"):
			if u, err := url.Parse(p); err == nil && sameOrigin(u, res) {
				return true
			}
		case host == p:
			return true
		}
	}
	return false
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// resolve makes a reference absolute against the page; only http(s) URLs are resources
// (javascript:, mailto:, data: and fragments are not loaded from anywhere).
func resolve(page *url.URL, ref string) (*url.URL, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") {
		return nil, false
	}
	u, err := page.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// reference is an element that loads or links to a URL, and which rule it falls under.
type reference struct {
	node *html.Node
	url  string
	rule string
}

// references lists the elements that load from or link to another place.
func references(root *html.Node) []reference {
	var out []reference
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.DataAtom {
		case atom.Script:
			out = appendRef(out, n, attr(n, "src"), RuleForeignScript)
		case atom.Iframe, atom.Frame:
			out = appendRef(out, n, attr(n, "src"), RuleForeignFrame)
		case atom.Embed, atom.Img, atom.Source, atom.Audio, atom.Video:
			out = appendRef(out, n, attr(n, "src"), RuleForeignResource)
		case atom.Object:
			out = appendRef(out, n, attr(n, "data"), RuleForeignResource)
		case atom.Link:
			out = appendRef(out, n, attr(n, "href"), RuleForeignResource)
		case atom.Form:
			out = appendRef(out, n, attr(n, "action"), RuleForeignResource)
		case atom.Meta:
			if strings.EqualFold(attr(n, "http-equiv"), "refresh") {
				out = appendRef(out, n, refreshURL(attr(n, "content")), RuleForeignResource)
			}
		case atom.A, atom.Area:
			out = appendRef(out, n, attr(n, "href"), RuleForeignLink)
		}
	}
	return out
}

func appendRef(out []reference, n *html.Node, u, rule string) []reference {
	if u == "" {
		return out
	}
	return append(out, reference{node: n, url: u, rule: rule})
}

// refreshURL is the target of <meta http-equiv=refresh content="0;url=...">.
func refreshURL(content string) string {
	_, after, ok := strings.Cut(strings.ToLower(content), "url=")
	if !ok {
		return ""
	}
	i := len(content) - len(after)
	return strings.Trim(content[i:], `'" `)
}

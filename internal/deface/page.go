package deface

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// Page is a fetched page, parsed once.
type Page struct {
	URL    *url.URL   // where it was fetched from: its origin is allowed
	Root   *html.Node // the parsed document
	Title  string     // the <title>, white space collapsed
	SHA256 string     // of the body as fetched, hex
	size   int        // of the body as fetched: room made for the page's text at once
}

// PageSHA256 is the hex SHA-256 of a body as fetched, the page's identity in evidence.
func PageSHA256(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Parse decodes a body (by Content-Type or meta charset, as the portal probe does) and
// parses it. HTML nested deeper than 512 elements is an error wrapping pagetext.ErrTooDeep.
func Parse(body []byte, contentType, pageURL string) (*Page, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("parsing page url: %w", err)
	}
	root, err := pagetext.ParseHTML(pagetext.Decode(body, contentType))
	if err != nil {
		return nil, err
	}
	return &Page{URL: u, Root: root, Title: titleOf(root), SHA256: PageSHA256(body), size: len(body)}, nil
}

func titleOf(n *html.Node) string {
	for n := range n.Descendants() {
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			return collapse(textOf(n))
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// fragment renders an element's start tag and the start of its text, at most max bytes,
// cut on a character boundary: evidence that is bounded and readable.
func fragment(n *html.Node, max int) string {
	var b strings.Builder
	b.WriteString("<" + n.Data)
	for _, a := range n.Attr {
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Val)
	}
	b.WriteString(">")
	b.WriteString(collapse(textOf(n)))
	return clip(b.String(), max)
}

// clip cuts s to at most max bytes on a rune boundary.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

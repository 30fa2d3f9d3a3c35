package deface

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

//go:embed keywords.txt
var keywordsFile []byte

// DefaultKeywords is the shipped list of gambling, adult and scam terms.
var DefaultKeywords = parseKeywords(keywordsFile)

func parseKeywords(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// fold prepares text and keywords for matching: lower case, no white space.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < utf8.RuneSelf:
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			if r == ' ' || r >= '\t' && r <= '\r' {
				return -1
			}
			return r
		case r >= 0x3400 && r < 0xA000:
			// CJK ideographs, most of a Chinese page: no case, no space. The table
			// lookups below are what folding a page costs otherwise.
			return r
		case unicode.IsSpace(r):
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// pageText is everything a keyword may hide in: text (visible or not, inline scripts
// included, as injected scripts write their links), the title, meta descriptions and
// keywords, and the alt and title of elements.
func pageText(root *html.Node) string {
	var b strings.Builder
	for n := range root.Descendants() {
		switch n.Type {
		case html.TextNode:
			if p := n.Parent; p != nil && p.DataAtom == atom.Style {
				continue
			}
			b.WriteString(n.Data)
			b.WriteByte('\n')
		case html.ElementNode:
			for _, k := range []string{"alt", "title"} {
				if v := attr(n, k); v != "" {
					b.WriteString(v + "\n")
				}
			}
			if n.DataAtom == atom.Meta {
				b.WriteString(attr(n, "content") + "\n")
			}
		}
	}
	return b.String()
}

// keywordHits returns each keyword found in a folded text with a little of its context.
func keywordHits(folded string, keywords []string) map[string]string {
	hits := map[string]string{}
	for _, k := range keywords {
		fk := fold(k)
		if fk == "" {
			continue
		}
		if i := strings.Index(folded, fk); i >= 0 {
			hits[k] = "「" + k + "」：" + around(folded, i, len(fk))
		}
	}
	return hits
}

// around is the match with up to 20 characters either side.
func around(s string, at, n int) string {
	r := []rune(s[:at])
	before := string(r[max(0, len(r)-20):])
	after := []rune(s[at+n:])
	return before + s[at:at+n] + string(after[:min(20, len(after))])
}

package deface

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"
	"sync"
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
// keywords, and the alt and title of elements. sizeHint is the page's size: its text is
// rarely more than half of it.
func pageText(root *html.Node, sizeHint int) string {
	var b strings.Builder
	b.Grow(sizeHint / 2)
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
	return compiledKeywords(keywords).hits(folded)
}

// keywordSet finds all its keywords in a text in one pass. Searching a Chinese page for
// each keyword in turn cost 1.7 ms a page with the shipped list: nearly every character of
// the page shares its first byte with some keyword, so each search stopped at nearly every
// character. The set looks at the first two bytes of each position, in a bitmap, and only
// where a keyword starts with them compares the keywords that do.
type keywordSet struct {
	terms  []string // as given
	folded []string // folded, "" for a term that folds to nothing
	// starts has a bit for each pair of first two bytes of a folded term (a term of one
	// byte sets every pair it begins); byPair lists the terms beginning with a pair.
	starts [1 << 16 / 64]uint64
	byPair map[uint16][]int
}

func newKeywordSet(terms []string) *keywordSet {
	s := &keywordSet{terms: terms, byPair: map[uint16][]int{}}
	for i, t := range terms {
		f := fold(t)
		s.folded = append(s.folded, f)
		switch len(f) {
		case 0:
		case 1:
			for b := range 256 {
				s.add(uint16(f[0])<<8|uint16(b), i)
			}
		default:
			s.add(uint16(f[0])<<8|uint16(f[1]), i)
		}
	}
	return s
}

func (s *keywordSet) add(pair uint16, term int) {
	s.starts[pair/64] |= 1 << (pair % 64)
	s.byPair[pair] = append(s.byPair[pair], term)
}

// hits returns each term found in a folded text, by the term as given, with its first
// occurrence and a little of its context.
func (s *keywordSet) hits(folded string) map[string]string {
	hits := map[string]string{}
	if len(s.byPair) == 0 {
		return hits
	}
	for i := 0; i < len(folded); i++ {
		pair := uint16(folded[i]) << 8
		if i+1 < len(folded) {
			pair |= uint16(folded[i+1])
		}
		if s.starts[pair/64]&(1<<(pair%64)) == 0 {
			continue
		}
		for _, k := range s.byPair[pair] {
			f, t := s.folded[k], s.terms[k]
			if _, found := hits[t]; !found && strings.HasPrefix(folded[i:], f) {
				hits[t] = "「" + t + "」：" + around(folded, i, len(f))
			}
		}
	}
	return hits
}

// keywordSets are the keyword sets made, by their terms joined by NUL.
var keywordSets sync.Map

// compiledKeywords is the keyword set of a list, made once per list.
func compiledKeywords(terms []string) *keywordSet {
	key := strings.Join(terms, "\x00")
	if s, ok := keywordSets.Load(key); ok {
		return s.(*keywordSet)
	}
	s, _ := keywordSets.LoadOrStore(key, newKeywordSet(terms))
	return s.(*keywordSet)
}

// around is the match with up to 20 characters either side.
func around(s string, at, n int) string {
	r := []rune(s[:at])
	before := string(r[max(0, len(r)-20):])
	after := []rune(s[at+n:])
	return before + s[at:at+n] + string(after[:min(20, len(after))])
}

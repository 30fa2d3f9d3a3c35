package creditreport

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// norm folds a line for matching: full-width letters, digits and punctuation to their
// narrow forms (（ to (, ： to :), white space removed, as PDF text extraction inserts and
// drops spaces between Chinese characters at will. Tabs, which separate table cells, stay.
func norm(s string) string {
	s = width.Narrow.String(s)
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t':
			return r
		case '､', '｡', '｢', '｣': // width.Narrow's halfwidth forms of Chinese punctuation
			return wideCJKPunct[r]
		}
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
}

var wideCJKPunct = map[rune]rune{'､': '、', '｡': '。', '｢': '「', '｣': '」'}

// numbering is the numbering before a heading: 一、 (一) 1. 1、 第一部分 and the like.
var numbering = regexp.MustCompile(`^(?:第[一二三四五六七八九十百0-9]+(?:部分|章|节|项)[、.:]?|\(?[一二三四五六七八九十]+[)、.]|\(?[0-9]{1,2}[)、.])`)

// headingOf returns the section a normalised line is the heading of, or -1: the line is
// the section's name after any numbering, alone or followed by a short bracketed or
// colon suffix such as (共3条). A line of a table of contents (name, dots, page) is not.
func headingOf(line string, names []string) int {
	rest := numbering.ReplaceAllString(line, "")
	for i, n := range names {
		suffix, ok := strings.CutPrefix(rest, n)
		if !ok {
			continue
		}
		if suffix == "" || len([]rune(suffix)) <= 16 && strings.ContainsAny(suffix[:1], "(:[") {
			return i
		}
	}
	return -1
}

package creditreport

import (
	"regexp"
	"strings"
	"unicode"

	unorm "golang.org/x/text/unicode/norm"
)

// norm folds a line for matching: NFKC (full-width letters, digits and punctuation to
// their plain forms, （ to (, ： to :, Kangxi radicals to ideographs), the simplified
// radicals that PDF producers map some glyphs to (⻓ for 长) to their ideographs, and white
// space removed, as PDF text extraction inserts and drops spaces between Chinese
// characters at will. Tabs, which separate table cells, stay.
func norm(s string) string {
	s = radicals.Replace(unorm.NFKC.String(s))
	return strings.Map(func(r rune) rune {
		if r == '\t' {
			return r
		}
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			return -1
		}
		return r
	}, s)
}

// radicals maps the CJK Radicals Supplement characters that stand for whole simplified
// ideographs (and that NFKC leaves alone) to those ideographs. Chromium's PDFs, among
// others, map glyphs shared by a radical and an ideograph to the radical.
var radicals = strings.NewReplacer("⻅", "见", "⻆", "角", "⻉", "贝", "⻋", "车", "⻓", "长", "⻔", "门", "⻘", "青",
	"⻙", "韦", "⻚", "页", "⻛", "风", "⻜", "飞", "⻝", "食", "⻢", "马", "⻥", "鱼", "⻦", "鸟", "⻧", "卤", "⻨", "麦",
	"⻩", "黄", "⻪", "黾", "⻬", "齐", "⻮", "齿", "⻰", "龙")

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

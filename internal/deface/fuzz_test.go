package deface

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// FuzzDetect: any page is parsed and checked against a baseline, or refused; never a
// panic, and evidence stays bounded. Seeds: testdata/fuzz/FuzzDetect.
func FuzzDetect(f *testing.F) {
	base := Baseline{Version: 1, Title: "信用濮阳", Profile: Profile{"html>body>div": 3}}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := Parse(body, "text/html", origin)
		if err != nil {
			return
		}
		for _, s := range Detect(p, Policy{MustNotContain: []string{"测试"}, Allow: AllowList{"*.gov.cn"}}, &base) {
			if len(s.Evidence) > MaxEvidenceBytes+len("…") {
				t.Fatalf("evidence of %d bytes", len(s.Evidence))
			}
		}
	})
}

// FuzzNewestDate: any text gives a date not after today, or none. Seeds:
// testdata/fuzz/FuzzNewestDate.
func FuzzNewestDate(f *testing.F) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, clock.Shanghai)
	f.Fuzz(func(t *testing.T, page string, selector string) {
		p, err := Parse([]byte(page), "text/html; charset=utf-8", origin)
		if err != nil {
			return
		}
		newest, found, err := NewestDate(p, selector, now)
		if err == nil && found && newest.After(now) {
			t.Fatalf("newest %v is after now", newest)
		}
	})
}

// FuzzKeywordSet: the one-pass keyword set finds what searching for each keyword in turn
// finds, at the same first occurrence. Seeds: testdata/fuzz/FuzzKeywordSet.
func FuzzKeywordSet(f *testing.F) {
	f.Add("欢迎访问信用濮阳，网上赌场开业", "网上赌场\x00信用\x00x")
	f.Add("a", "a\x00ab\x00")
	f.Add("色情色情", "色情\x00情色")
	f.Fuzz(func(t *testing.T, text, terms string) {
		list := strings.Split(terms, "\x00")
		folded := fold(text)
		got := newKeywordSet(list).hits(folded)
		want := map[string]string{}
		for _, k := range list {
			if fk := fold(k); fk != "" {
				if i := strings.Index(folded, fk); i >= 0 {
					want[k] = "「" + k + "」：" + around(folded, i, len(fk))
				}
			}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("text %q, terms %q:\none pass %q\none by one %q", folded, list, got, want)
		}
	})
}

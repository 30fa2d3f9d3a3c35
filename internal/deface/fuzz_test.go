package deface

import (
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

package deface

import (
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/workday"
)

func TestNewestDate(t *testing.T) {
	now := time.Date(2026, 11, 27, 1, 30, 0, 0, clock.Shanghai) // 26 Nov 17:30 UTC: already the 27th in Shanghai
	list := `<div class="sidebar">2026-11-27 更新</div><ul class="news">` +
		`<li><a>通知一</a><span class="date">2026-11-20</span></li><li><a>通知二</a><span class="date">2026/11/03</span></li></ul>`
	tests := map[string]struct {
		html, selector string
		want           string // YYYY-MM-DD, "" for none
	}{
		"whole page":                {html: list, want: "2026-11-27"},
		"by selector":               {html: list, selector: "ul.news .date", want: "2026-11-20"},
		"slashes":                   {html: `<p>发布于 2026/10/09</p>`, want: "2026-10-09"},
		"chinese":                   {html: `<p>2026年9月3日 发布</p><p>2026年10月30日</p>`, want: "2026-10-30"},
		"future ignored":            {html: `<p>2026-11-28 会议预告</p><p>2026-11-02</p>`, want: "2026-11-02"},
		"impossible date ignored":   {html: `<p>2026-02-30</p><p>2026-02-01</p>`, want: "2026-02-01"},
		"selector matching nothing": {html: list, selector: ".missing", want: ""},
		"no date":                   {html: `<p>暂无信息</p>`, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, found, err := NewestDate(parse(t, tc.html), tc.selector, now)
			if err != nil {
				t.Fatal(err)
			}
			s := ""
			if found {
				s = got.Format(time.DateOnly)
				if got.Location() != clock.Shanghai {
					t.Errorf("date in %v, want Asia/Shanghai", got.Location())
				}
			}
			if s != tc.want {
				t.Errorf("newest %q, want %q", s, tc.want)
			}
		})
	}
	if _, _, err := NewestDate(parse(t, list), "ul[", now); err == nil || CompileSelector("ul[") == nil {
		t.Error("a bad selector was accepted")
	}
}

func TestAgeWorkdays(t *testing.T) {
	newest := time.Date(2026, 9, 29, 0, 0, 0, 0, clock.Shanghai)
	tests := map[string]struct {
		now  time.Time
		want int
	}{
		"same day":                        {now: time.Date(2026, 9, 29, 18, 0, 0, 0, clock.Shanghai), want: 0},
		"next day":                        {now: time.Date(2026, 9, 30, 9, 0, 0, 0, clock.Shanghai), want: 1},
		"across the National Day holiday": {now: time.Date(2026, 10, 9, 9, 0, 0, 0, clock.Shanghai), want: 3},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AgeWorkdays(workday.Default, newest, tc.now)
			want, _ := workday.Default.Workdays(newest, tc.now)
			if err != nil || got != tc.want || got != want {
				t.Errorf("age %d (%v), want %d (calendar says %d)", got, err, tc.want, want)
			}
		})
	}
	if _, err := AgeWorkdays(workday.Default, newest, time.Date(2099, 1, 1, 0, 0, 0, 0, clock.Shanghai)); err == nil ||
		!strings.Contains(err.Error(), "counting working days since 2026-09-29") {
		t.Errorf("a year without holiday data: %v", err)
	}
}

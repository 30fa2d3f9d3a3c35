package deface

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/andybalholm/cascadia"
	"github.com/creditwatch/creditwatch/internal/clock"
)

// Content freshness: the newest item date of a list page (news, 双公示 lists), found by a
// configured CSS selector or else as the newest date anywhere on the page.

// CompileSelector checks a freshness selector, for config validation.
func CompileSelector(sel string) error {
	if _, err := cascadia.Compile(sel); err != nil {
		return fmt.Errorf("freshness selector %q: %w", sel, err)
	}
	return nil
}

var datePattern = regexp.MustCompile(`(20[0-9]{2})(?:-([0-9]{1,2})-([0-9]{1,2})|/([0-9]{1,2})/([0-9]{1,2})|年([0-9]{1,2})月([0-9]{1,2})日)`)

// NewestDate returns the newest date on a page: in the text of the elements the selector
// matches, or, with an empty selector, anywhere in the page's text. Dates are YYYY-MM-DD,
// YYYY/MM/DD or YYYY年M月D日; dates after now's day (Asia/Shanghai) are ignored, as are
// impossible ones. found is false when there is no date.
func NewestDate(p *Page, selector string, now time.Time) (newest time.Time, found bool, err error) {
	texts := []string{}
	if selector == "" {
		texts = append(texts, pageText(p.Root, p.size))
	} else {
		sel, err := cascadia.Compile(selector)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("finding newest date: selector %q: %w", selector, err)
		}
		for _, n := range sel.MatchAll(p.Root) {
			texts = append(texts, textOf(n))
		}
	}
	y, m, d := now.In(clock.Shanghai).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
	for _, t := range texts {
		for _, date := range datesIn(t) {
			if !date.After(today) && date.After(newest) {
				newest, found = date, true
			}
		}
	}
	return newest, found, nil
}

// datesIn lists the valid dates in a text, at midnight Asia/Shanghai.
func datesIn(s string) []time.Time {
	var out []time.Time
	for _, m := range datePattern.FindAllStringSubmatch(s, -1) {
		mo, da := m[2], m[3]
		if m[4] != "" {
			mo, da = m[4], m[5]
		} else if m[6] != "" {
			mo, da = m[6], m[7]
		}
		y, _ := strconv.Atoi(m[1])
		month, _ := strconv.Atoi(mo)
		day, _ := strconv.Atoi(da)
		t := time.Date(y, time.Month(month), day, 0, 0, 0, 0, clock.Shanghai)
		if t.Year() == y && int(t.Month()) == month && t.Day() == day {
			out = append(out, t)
		}
	}
	return out
}

// Calendar counts working days; *workday.Calendar is one.
type Calendar interface {
	Workdays(a, b time.Time) (int, error)
}

// AgeWorkdays is how many working days old the newest item is at now: working days d with
// newest < d ≤ now, on the official calendar. A page is stale when this exceeds the
// configured number.
func AgeWorkdays(cal Calendar, newest, now time.Time) (int, error) {
	n, err := cal.Workdays(newest, now)
	if err != nil {
		return 0, fmt.Errorf("counting working days since %s: %w", newest.Format(time.DateOnly), err)
	}
	return n, nil
}

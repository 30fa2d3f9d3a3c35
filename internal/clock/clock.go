// Package clock is creditwatch's sense of time: the Asia/Shanghai calendar every date is
// read in, whatever the machine's time zone, and an injectable clock so that tests can
// cross midnight, a month end or New Year on purpose.
package clock

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // Asia/Shanghai even where the system has no zoneinfo
)

// Shanghai is the time zone of every date creditwatch reads or shows.
var Shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// The binary embeds time/tzdata, so this only fails on a broken build.
		panic(err)
	}
	return loc
}

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Real is the system clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// Fake is a clock that moves only when told; safe for concurrent use.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Day is the midnight (Asia/Shanghai) that begins t's Shanghai calendar day.
func Day(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
}

// NextDay is the midnight that ends t's Shanghai calendar day.
func NextDay(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, Shanghai)
}

// LastDay is the Shanghai day of the last instant before t: the day an "as of t" figure
// speaks for. As of 1 November 00:00 it is 31 October.
func LastDay(t time.Time) time.Time { return Day(t.Add(-time.Nanosecond)) }

// MonthStart is the midnight that begins t's Shanghai calendar month.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.In(Shanghai).Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, Shanghai)
}

// YearStart is the midnight that begins t's Shanghai calendar year.
func YearStart(t time.Time) time.Time {
	return time.Date(t.In(Shanghai).Year(), 1, 1, 0, 0, 0, 0, Shanghai)
}

// Date formats t's Shanghai calendar date as YYYY-MM-DD.
func Date(t time.Time) string { return t.In(Shanghai).Format(time.DateOnly) }

// Stamp formats t in Shanghai as RFC 3339, "" for the zero time.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(Shanghai).Format(time.RFC3339)
}

// ParseDate reads YYYY-MM-DD as midnight Asia/Shanghai.
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date in YYYY-MM-DD form", s)
	}
	return t, nil
}

// ParseMonth reads YYYY-MM as the month's bounds [from, to) in Asia/Shanghai.
func ParseMonth(s string) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", s, Shanghai)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not a month in YYYY-MM form", s)
	}
	return t, t.AddDate(0, 1, 0), nil
}

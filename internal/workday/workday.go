// Package workday is the official Chinese working-day calendar: weekends and statutory
// holidays off, adjusted working days (调休) on. Data comes from github.com/6tail/lunar-go's
// HolidayUtil, which covers 2001 to 2027, and from an optional override file the office
// extends when the State Council publishes a new year. A year known to neither is an error,
// never a weekends-only guess.
package workday

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/strictyaml"
)

// ErrUnknownYear is returned for dates in a year without holiday data.
var ErrUnknownYear = errors.New("no official holiday data for this year")

// YearError is ErrUnknownYear for a given year.
type YearError struct{ Year int }

func (e *YearError) Error() string { return fmt.Sprintf("%d: %v", e.Year, ErrUnknownYear) }

// Is makes errors.Is(err, ErrUnknownYear) hold.
func (e *YearError) Is(target error) bool { return target == ErrUnknownYear }

// Overrides are holiday arrangements by year. A year present here replaces the built-in
// data for that year entirely.
type Overrides map[int]YearArrangement

// YearArrangement lists the days off that are not weekends' and the weekend days worked.
// Entries are dates (2028-01-01) or inclusive ranges (2028-01-26/2028-02-02).
type YearArrangement struct {
	Off  []string `yaml:"off"`
	Work []string `yaml:"work"`
}

// LoadOverrides reads an override file.
func LoadOverrides(path string) (Overrides, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading holiday overrides: %w", err)
	}
	o, err := ParseOverrides(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// ParseOverrides parses the content of an override file strictly.
func ParseOverrides(data []byte) (Overrides, error) {
	var o Overrides
	if err := strictyaml.Decode(data, &o); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	for y, a := range o {
		for _, list := range [][]string{a.Off, a.Work} {
			for _, e := range list {
				days, err := expand(e)
				if err != nil {
					return nil, fmt.Errorf("year %d: %w", y, err)
				}
				for _, d := range days {
					if d.Year() != y {
						return nil, fmt.Errorf("year %d: %s is in another year", y, d.Format(time.DateOnly))
					}
				}
			}
		}
	}
	return o, nil
}

func expand(entry string) ([]time.Time, error) {
	from, to, isRange := strings.Cut(entry, "/")
	a, err := time.Parse(time.DateOnly, strings.TrimSpace(from))
	if err != nil {
		return nil, fmt.Errorf("%q is not a date or date range", entry)
	}
	b := a
	if isRange {
		if b, err = time.Parse(time.DateOnly, strings.TrimSpace(to)); err != nil || b.Before(a) {
			return nil, fmt.Errorf("%q is not a date range", entry)
		}
		// Checked before the days are listed: 0001-01-01/9999-12-31 would be 3.6 million.
		if b.Sub(a) > 366*24*time.Hour {
			return nil, fmt.Errorf("%q spans more than a year", entry)
		}
	}
	var out []time.Time
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out, nil
}

// Calendar answers working-day questions. It is safe for concurrent use.
type Calendar struct {
	overrides Overrides
	mu        sync.RWMutex
	years     map[int]*[367]bool // working day by day of year; nil entry: unknown year
}

// New returns a calendar of the built-in data plus overrides (which may be nil).
func New(o Overrides) *Calendar {
	return &Calendar{overrides: o, years: map[int]*[367]bool{}}
}

// Default is the calendar of the built-in data alone.
var Default = New(nil)

func (c *Calendar) year(y int) (*[367]bool, error) {
	c.mu.RLock()
	days, ok := c.years[y]
	c.mu.RUnlock()
	if ok {
		if days == nil {
			return nil, &YearError{Year: y}
		}
		return days, nil
	}
	days = c.build(y)
	c.mu.Lock()
	c.years[y] = days
	c.mu.Unlock()
	if days == nil {
		return nil, &YearError{Year: y}
	}
	return days, nil
}

func (c *Calendar) build(y int) *[367]bool {
	special := map[int]bool{} // day of year → working
	if a, ok := c.overrides[y]; ok {
		for _, list := range []struct {
			entries []string
			work    bool
		}{{a.Off, false}, {a.Work, true}} {
			for _, e := range list.entries {
				days, _ := expand(e) // validated by LoadOverrides
				for _, d := range days {
					special[d.YearDay()] = list.work
				}
			}
		}
	} else {
		l := HolidayUtil.GetHolidaysByYear(y)
		if l.Len() == 0 {
			return nil
		}
		for e := l.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			d, err := time.Parse(time.DateOnly, h.GetDay())
			if err == nil && d.Year() == y {
				special[d.YearDay()] = h.IsWork()
			}
		}
	}
	var days [367]bool
	for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
		work, ok := special[d.YearDay()]
		if !ok {
			work = d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		}
		days[d.YearDay()] = work
	}
	return &days
}

// civil returns t's calendar date in Asia/Shanghai as midnight UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.In(clock.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// IsWorkday reports whether t's date (in Asia/Shanghai) is a working day.
func (c *Calendar) IsWorkday(t time.Time) (bool, error) {
	d := civil(t)
	days, err := c.year(d.Year())
	if err != nil {
		return false, err
	}
	return days[d.YearDay()], nil
}

// Workdays counts working days d with a < d ≤ b, dates in Asia/Shanghai: the day of the
// event does not count, the count starts the next day. It is 0 when b is not after a.
func (c *Calendar) Workdays(a, b time.Time) (int, error) {
	from, to := civil(a), civil(b)
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		days, err := c.year(d.Year())
		if err != nil {
			return 0, err
		}
		if days[d.YearDay()] {
			n++
		}
	}
	return n, nil
}

// AddWorkdays returns the n-th working day after t's date (n ≥ 1), as midnight Asia/Shanghai:
// the deadline of "n working days after t". An act on that day is on time.
func (c *Calendar) AddWorkdays(t time.Time, n int) (time.Time, error) {
	if n < 1 {
		return time.Time{}, fmt.Errorf("AddWorkdays needs n ≥ 1, got %d", n)
	}
	d := civil(t)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		days, err := c.year(d.Year())
		if err != nil {
			return time.Time{}, err
		}
		if days[d.YearDay()] {
			n--
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, clock.Shanghai), nil
}

// Exceptions lists a year's weekdays off (holidays) and weekend days worked (调休).
func (c *Calendar) Exceptions(year int) (offWeekdays, workedWeekends []time.Time, err error) {
	days, err := c.year(year)
	if err != nil {
		return nil, nil, err
	}
	for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		switch work := days[d.YearDay()]; {
		case weekend && work:
			workedWeekends = append(workedWeekends, d)
		case !weekend && !work:
			offWeekdays = append(offWeekdays, d)
		}
	}
	return offWeekdays, workedWeekends, nil
}

// LastKnownDay is the last day (midnight Asia/Shanghai) of the last year the calendar knows
// without a gap from the year of today, in the built-in data or the overrides. Past it,
// working days cannot be counted. Zero when not even today's year is known.
func (c *Calendar) LastKnownDay(today time.Time) time.Time {
	year := today.In(clock.Shanghai).Year()
	last := 0
	for y := year; y < year+50; y++ {
		if _, err := c.year(y); err != nil {
			break
		}
		last = y
	}
	if last == 0 {
		return time.Time{}
	}
	return time.Date(last, 12, 31, 0, 0, 0, 0, clock.Shanghai)
}

package app

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/creditwatch/creditwatch/internal/amcal"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// CheckUSCC prints "CODE valid" or "CODE invalid: reason" per code, with the warnings of a
// valid code that is unusual; exit 1 if any is invalid.
func CheckUSCC(out io.Writer, list []string) error {
	bad := 0
	for _, c := range list {
		if err := codes.USCC(c); err != nil {
			bad++
			fmt.Fprintf(out, "%s invalid: %v\n", c, err)
			continue
		}
		var ws []string
		for _, w := range codes.USCCWarnings(c) {
			ws = append(ws, w.Error())
		}
		if len(ws) > 0 {
			fmt.Fprintf(out, "%s valid (warning, not counted: %s)\n", c, strings.Join(ws, "; "))
			continue
		}
		fmt.Fprintf(out, "%s valid\n", c)
	}
	if bad > 0 {
		return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d codes invalid", bad, len(list))}
	}
	return nil
}

// CheckWorkdays prints the number of working days d with from < d ≤ to.
func CheckWorkdays(out io.Writer, from, to, holidays string) error {
	a, err := publicity.ParseDate(from)
	if err != nil {
		return exitErr(2, "FROM: %w", err)
	}
	b, err := publicity.ParseDate(to)
	if err != nil {
		return exitErr(2, "TO: %w", err)
	}
	if a.After(b) {
		return exitErr(2, "FROM %s is after TO %s: give the earlier date first", from, to)
	}
	cal, err := calendar(holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	n, err := cal.Workdays(a, b)
	if err != nil {
		return unknownYear(err)
	}
	fmt.Fprintln(out, n)
	return nil
}

// unknownYear says how to give creditwatch a year it has no holiday data for.
func unknownYear(err error) error {
	var ye *workday.YearError
	if errors.As(err, &ye) {
		return exitErr(2, "no official holiday data for %d is built in: write that year's days off and adjusted "+
			"working days in a file (format: docs/domain.md, \"Working days\") and pass it with --holidays FILE", ye.Year)
	}
	return err
}

// ParseYears reads --year values: years such as 2026.
func ParseYears(values []string) ([]int, error) {
	out := make([]int, 0, len(values))
	for _, v := range values {
		y, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || y < 1900 || y > 2999 {
			return nil, exitErr(2, "--year %s: not a year; write it as 2026 (repeat --year for several years)", v)
		}
		out = append(out, y)
	}
	return out, nil
}

// CalendarAlertmanager prints Alertmanager time intervals for the years.
func CalendarAlertmanager(out io.Writer, yearFlags []string, holidays string) error {
	years, err := ParseYears(yearFlags)
	if err != nil {
		return err
	}
	cal, err := calendar(holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	return unknownYear(amcal.Write(out, cal, years))
}

package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/creditwatch/creditwatch/internal/amcal"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/publicity"
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
	cal, err := calendar(holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	n, err := cal.Workdays(a, b)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, n)
	return nil
}

// CalendarAlertmanager prints Alertmanager time intervals for the years.
func CalendarAlertmanager(out io.Writer, years []int, holidays string) error {
	cal, err := calendar(holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	return amcal.Write(out, cal, years)
}

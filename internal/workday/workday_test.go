package workday

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

func day(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// The official notices of 2024–2026 (docs/domain.md, "Working days"): every day off and every
// adjusted working day.
var official = map[int]struct{ off, work []string }{
	2024: {
		off:  []string{"2024-01-01", "2024-02-10/2024-02-17", "2024-04-04/2024-04-06", "2024-05-01/2024-05-05", "2024-06-10", "2024-09-15/2024-09-17", "2024-10-01/2024-10-07"},
		work: []string{"2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14", "2024-09-29", "2024-10-12"},
	},
	2025: {
		off:  []string{"2025-01-01", "2025-01-28/2025-02-04", "2025-04-04/2025-04-06", "2025-05-01/2025-05-05", "2025-05-31/2025-06-02", "2025-10-01/2025-10-08"},
		work: []string{"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"},
	},
	2026: {
		off:  []string{"2026-01-01/2026-01-03", "2026-02-15/2026-02-23", "2026-04-04/2026-04-06", "2026-05-01/2026-05-05", "2026-06-19/2026-06-21", "2026-09-25/2026-09-27", "2026-10-01/2026-10-07"},
		work: []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"},
	},
}

func TestOfficialCalendar(t *testing.T) {
	for year, want := range official {
		for _, block := range want.off {
			days, _ := expand(block)
			t.Run(block+" off", func(t *testing.T) {
				for _, d := range days {
					if w, err := Default.IsWorkday(day(d.Format(time.DateOnly))); err != nil || w {
						t.Errorf("%s: working=%t err=%v, want a day off", d.Format(time.DateOnly), w, err)
					}
				}
			})
		}
		for _, d := range want.work {
			t.Run(d+" adjusted working day", func(t *testing.T) {
				if w, err := Default.IsWorkday(day(d)); err != nil || !w {
					t.Errorf("working=%t err=%v, want a working day", w, err)
				}
			})
		}
		// Every other day of the year follows the weekend rule.
		special := map[string]bool{}
		for _, e := range append(append([]string{}, want.off...), want.work...) {
			days, _ := expand(e)
			for _, d := range days {
				special[d.Format(time.DateOnly)] = true
			}
		}
		for d := day(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)); d.Year() == year; d = d.AddDate(0, 0, 1) {
			if special[d.Format(time.DateOnly)] {
				continue
			}
			weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
			if w, _ := Default.IsWorkday(d); w != weekday {
				t.Errorf("%s: working=%t, want %t", d.Format(time.DateOnly), w, weekday)
			}
		}
	}
}

func TestWorkdays(t *testing.T) {
	tests := map[string]struct {
		a, b string
		want int
	}{
		"same day counts nothing": {"2026-03-02", "2026-03-02", 0},
		"next day":                {"2026-03-02", "2026-03-03", 1},
		"across a weekend":        {"2026-03-06", "2026-03-09", 1},
		// 2/14 (Sat, worked), 2/15–2/23 off, 2/24–2/27, 2/28 (Sat, worked), 3/2: 1 + 4 + 1 + 1.
		"Spring Festival with two work Sats": {"2026-02-13", "2026-03-02", 7},
		// 10/1–10/7 off; 10/8, 10/9, 10/10 (Sat, worked), 10/12.
		"National Day with adjusted Saturday": {"2026-09-30", "2026-10-12", 4},
		"backwards is zero":                   {"2026-03-09", "2026-03-02", 0},
		"year boundary into New Year holiday": {"2025-12-31", "2026-01-05", 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Default.Workdays(day(tc.a), day(tc.b))
			if err != nil || got != tc.want {
				t.Errorf("Workdays(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
			}
		})
	}
}

func TestAddWorkdays(t *testing.T) {
	tests := map[string]struct {
		from string
		n    int
		want string
	}{
		"plain week":                  {"2026-03-02", 5, "2026-03-09"},
		"7 working days over May Day": {"2026-04-28", 7, "2026-05-11"}, // 4/29, 4/30, 5/6, 5/7, 5/8, 5/9 (Sat, worked), 5/11
		"from a holiday":              {"2026-10-03", 1, "2026-10-08"},
		"onto an adjusted Saturday":   {"2026-10-09", 1, "2026-10-10"},
		"3 days across year end":      {"2025-12-30", 3, "2026-01-05"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Default.AddWorkdays(day(tc.from), tc.n)
			if err != nil || !got.Equal(day(tc.want)) {
				t.Errorf("AddWorkdays(%s, %d) = %v, %v; want %s", tc.from, tc.n, got, err, tc.want)
			}
			// The deadline is consistent with the counting rule.
			if n, _ := Default.Workdays(day(tc.from), got); n != tc.n {
				t.Errorf("Workdays to the deadline = %d, want %d", n, tc.n)
			}
		})
	}
}

func TestShanghaiDateNotUTC(t *testing.T) {
	// 16:30 UTC on Friday 6 March is already Saturday in Shanghai: not a working day.
	w, err := Default.IsWorkday(time.Date(2026, 3, 6, 16, 30, 0, 0, time.UTC))
	if err != nil || w {
		t.Errorf("working=%t err=%v, want Saturday in Shanghai", w, err)
	}
}

func TestUnknownYearIsAnError(t *testing.T) {
	if _, err := Default.IsWorkday(day("2028-03-01")); !errors.Is(err, ErrUnknownYear) {
		t.Errorf("2028 without overrides: %v, want ErrUnknownYear", err)
	}
	if _, err := Default.Workdays(day("2027-12-30"), day("2028-01-04")); !errors.Is(err, ErrUnknownYear) {
		t.Errorf("counting into 2028: %v, want ErrUnknownYear", err)
	}
	o, err := LoadOverrides("testdata/overrides-2028.yml")
	if err != nil {
		t.Fatal(err)
	}
	c := New(o)
	for d, want := range map[string]bool{"2028-01-23": true, "2028-01-27": false, "2028-03-01": true, "2028-03-04": false} {
		if w, err := c.IsWorkday(day(d)); err != nil || w != want {
			t.Errorf("%s with overrides: working=%t err=%v, want %t", d, w, err, want)
		}
	}
	if w, _ := c.IsWorkday(day("2026-10-10")); !w {
		t.Error("overrides for 2028 lost the built-in 2026 data")
	}
}

func TestLoadOverridesErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ doc, want string }{
		"bad date":      {"2028:\n  off: [2028-02-30]\n", `year 2028: "2028-02-30" is not a date or date range`},
		"other year":    {"2028:\n  off: [2029-01-01]\n", "year 2028: 2029-01-01 is in another year"},
		"unknown key":   {"2028:\n  of: [2028-01-01]\n", "field of not found"},
		"reverse range": {"2028:\n  off: [2028-02-05/2028-02-01]\n", "is not a date range"},
		"huge range":    {"2028:\n  off: [0001-01-01/9999-12-31]\n", `year 2028: "0001-01-01/9999-12-31" spans more than a year`},
	} {
		t.Run(name, func(t *testing.T) {
			path := dir + "/" + strings.ReplaceAll(name, " ", "-") + ".yml"
			writeFile(t, path, tc.doc)
			_, err := LoadOverrides(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseOverrides(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOverrides(data)
		if err != nil {
			return
		}
		c := New(o)
		for y := range o {
			// An overridden year answers for every day of it.
			if _, err := c.IsWorkday(time.Date(y, 6, 30, 12, 0, 0, 0, clock.Shanghai)); err != nil && y > 0 && y < 10000 {
				t.Fatalf("year %d overridden but: %v", y, err)
			}
		}
	})
}

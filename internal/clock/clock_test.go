package clock

import (
	"testing"
	"time"
)

func TestDaysAreShanghaiDays(t *testing.T) {
	// 2026-03-01 07:00 in Shanghai is still 28 February in UTC and in Los Angeles.
	at := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]time.Time{"utc": at, "los angeles": at.In(la), "shanghai": at.In(Shanghai)} {
		t.Run(name, func(t *testing.T) {
			cases := map[string]struct {
				got  time.Time
				want string
			}{
				"day":         {Day(in), "2026-03-01T00:00:00+08:00"},
				"next day":    {NextDay(in), "2026-03-02T00:00:00+08:00"},
				"month start": {MonthStart(in), "2026-03-01T00:00:00+08:00"},
				"year start":  {YearStart(in), "2026-01-01T00:00:00+08:00"},
			}
			for what, c := range cases {
				if got := c.got.Format(time.RFC3339); got != c.want {
					t.Errorf("%s = %s, want %s", what, got, c.want)
				}
			}
			if got := Date(in); got != "2026-03-01" {
				t.Errorf("Date = %s, want 2026-03-01", got)
			}
		})
	}
}

func TestLastDayOfAMonthEnd(t *testing.T) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, Shanghai)
	if got := Date(LastDay(end)); got != "2026-10-31" {
		t.Errorf("LastDay(1 Nov 00:00) = %s, want 2026-10-31", got)
	}
	if got := Date(LastDay(end.Add(time.Second))); got != "2026-11-01" {
		t.Errorf("LastDay(1 Nov 00:00:01) = %s, want 2026-11-01", got)
	}
}

func TestParse(t *testing.T) {
	d, err := ParseDate("2026-10-08")
	if err != nil || d.Format(time.RFC3339) != "2026-10-08T00:00:00+08:00" {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	if _, err := ParseDate("2026-13-01"); err == nil || err.Error() != `"2026-13-01" is not a date in YYYY-MM-DD form` {
		t.Errorf("bad date: %v", err)
	}
	from, to, err := ParseMonth("2026-12")
	if err != nil || Date(from) != "2026-12-01" || Date(to) != "2027-01-01" {
		t.Errorf("ParseMonth = %v %v %v", from, to, err)
	}
}

func TestFake(t *testing.T) {
	f := NewFake(time.Date(2026, 12, 31, 23, 59, 0, 0, Shanghai))
	f.Advance(2 * time.Minute)
	if got := Date(f.Now()); got != "2027-01-01" {
		t.Errorf("after advance: %s", got)
	}
	var _ Clock = Real{}
}

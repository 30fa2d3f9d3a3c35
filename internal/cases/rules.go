package cases

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Repair rules for the minimum publication period before a penalty may be repaired.
const (
	// Rule2019: 3 months for ordinary penalties, 6 months for serious ones.
	Rule2019 = "2019"
	// Rule2023: 3 months; 1 year for special-equipment, work-safety and fire penalties.
	Rule2023 = "2023"
)

// DefaultSpecialDomains are the penalty domains with a one-year period under Rule2023,
// matched in 处罚领域 or 处罚类别.
var DefaultSpecialDomains = []string{"特种设备", "安全生产", "消防"}

// Options are the office's settings.
type Options struct {
	Calendar       *workday.Calendar
	RepairRule     string
	SpecialDomains []string
	ObjectionLimit int // working days; 5
	RepairLimit    int // working days; 3
	WarnAt         int // an open objection at this many working days is an early warning; 4
}

// DefaultOptions are the ledger's rules.
func DefaultOptions() Options {
	return Options{Calendar: workday.Default, RepairRule: Rule2019, SpecialDomains: DefaultSpecialDomains,
		ObjectionLimit: 5, RepairLimit: 3, WarnAt: 4}
}

// Period is [From, To), both midnight Asia/Shanghai; To is the day after the last day.
type Period struct{ From, To time.Time }

// Contains reports whether day d (midnight Asia/Shanghai) falls in the period.
func (p Period) Contains(d time.Time) bool { return !d.IsZero() && !d.Before(p.From) && d.Before(p.To) }

// ObjectionFinding is what the rules say of one objection.
type ObjectionFinding struct {
	ID       string    `json:"id"`
	Open     bool      `json:"open"`
	Workdays int       `json:"workdays"` // handling time if closed, elapsed if open
	InPeriod bool      `json:"closed_in_period"`
	Valid    bool      `json:"valid"`
	SameDay  bool      `json:"synced_same_day"`
	SyncLate bool      `json:"sync_late"`    // closed on a day that has ended without a same-day sync
	SyncDue  bool      `json:"sync_pending"` // closed today and not synced yet: until midnight to go
	Warning  bool      `json:"early_warning"`
	Problems []Problem `json:"problems"`
}

// RepairFinding is what the rules say of one repair case.
type RepairFinding struct {
	ID           string    `json:"id"`
	Open         bool      `json:"open"`
	Workdays     int       `json:"workdays"`
	InPeriod     bool      `json:"decided_in_period"`
	Overdue      bool      `json:"overdue"`
	DueSoon      bool      `json:"due_soon"`
	Approved     bool      `json:"approved"`
	Compliant    bool      `json:"compliant"`
	Reasons      []string  `json:"non_compliance"`
	EarliestDate string    `json:"earliest_repair_date,omitempty"`
	SameDay      bool      `json:"synced_same_day"`
	SyncLate     bool      `json:"sync_late"`
	SyncDue      bool      `json:"sync_pending"`
	Problems     []Problem `json:"problems"`
}

// Checker applies the rules as of a moment.
type Checker struct {
	Opts   Options
	Now    time.Time // for open cases' elapsed time and whether a closing day has ended
	Period Period
	today  time.Time
}

func (c *Checker) day() time.Time {
	if c.today.IsZero() {
		y, m, d := c.Now.In(config.Shanghai).Date()
		c.today = time.Date(y, m, d, 0, 0, 0, 0, config.Shanghai)
	}
	return c.today
}

// syncLate: closed on a day that is over (before today) without a same-day sync.
func (c *Checker) syncLate(closed, synced time.Time) bool {
	return !closed.IsZero() && closed.Before(c.day()) && !SameDay(closed, synced)
}

// syncDue: closed today and not yet synced.
func (c *Checker) syncDue(closed, synced time.Time) bool {
	return !closed.IsZero() && closed.Equal(c.day()) && synced.IsZero()
}

// Objection assesses an objection.
func (c *Checker) Objection(o Objection) (ObjectionFinding, error) {
	f := ObjectionFinding{ID: o.ID, Open: o.Closed.IsZero(), Valid: o.Valid, Problems: o.Problems}
	if o.Received.IsZero() {
		return f, nil
	}
	end := o.Closed
	if f.Open {
		end = c.day()
	}
	n, err := c.Opts.Calendar.Workdays(o.Received, end)
	if err != nil {
		return f, fmt.Errorf("objection %s: %w", o.ID, err)
	}
	f.Workdays = n
	f.InPeriod = !f.Open && c.Period.Contains(o.Closed)
	f.Valid = f.Valid && !f.Open
	f.SameDay = SameDay(o.Closed, o.Synced)
	f.SyncLate = c.syncLate(o.Closed, o.Synced)
	f.SyncDue = c.syncDue(o.Closed, o.Synced)
	f.Warning = f.Open && n >= c.Opts.WarnAt
	return f, nil
}

// Repair assesses a repair case.
func (c *Checker) Repair(r Repair) (RepairFinding, error) {
	f := RepairFinding{ID: r.ID, Open: r.Decided.IsZero(), Approved: r.Approved && !r.Decided.IsZero(), Problems: r.Problems}
	if r.Applied.IsZero() {
		return f, nil
	}
	end := r.Decided
	if f.Open {
		end = c.day()
	}
	n, err := c.Opts.Calendar.Workdays(r.Applied, end)
	if err != nil {
		return f, fmt.Errorf("repair %s: %w", r.ID, err)
	}
	f.Workdays = n
	f.InPeriod = !f.Open && c.Period.Contains(r.Decided)
	// An open case past the limit is overdue already: it can no longer be decided in time.
	f.Overdue = n > c.Opts.RepairLimit
	f.DueSoon = f.Open && !f.Overdue && n >= c.Opts.RepairLimit-1
	f.SameDay = SameDay(r.Decided, r.Synced)
	f.SyncLate = c.syncLate(r.Decided, r.Synced)
	f.SyncDue = c.syncDue(r.Decided, r.Synced)
	if f.Approved {
		f.Compliant = true
		if !r.PenaltyDate.IsZero() {
			earliest := addMonths(r.PenaltyDate, c.minimumMonths(r))
			f.EarliestDate = earliest.Format(time.DateOnly)
			if r.Decided.Before(earliest) {
				f.Compliant = false
				f.Reasons = append(f.Reasons, fmt.Sprintf("最短公示期未满（%s前不得修复）", f.EarliestDate))
			}
		}
		if !r.Fulfilled {
			f.Compliant = false
			f.Reasons = append(f.Reasons, "行政处罚未履行完毕")
		}
		if !r.Commitment {
			f.Compliant = false
			f.Reasons = append(f.Reasons, "未作出信用承诺")
		}
	}
	return f, nil
}

func (c *Checker) minimumMonths(r Repair) int {
	if c.Opts.RepairRule == Rule2023 {
		for _, d := range c.Opts.SpecialDomains {
			if d != "" && (strings.Contains(r.Domain, d) || strings.Contains(r.Category, d)) {
				return 12
			}
		}
		return 3
	}
	if r.Serious {
		return 6
	}
	return 3
}

// addMonths adds months, keeping to the last day of a shorter month (31 Aug + 6 months
// is 28 or 29 Feb).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, t.Location())
}

// AgeBuckets are the label values of open objections' ages in working days.
var AgeBuckets = []string{"0", "1", "2", "3", "4", "5+"}

// AgeBucket is the bucket of an open objection n working days old.
func AgeBucket(n int) string {
	if n >= 5 {
		return "5+"
	}
	return AgeBuckets[max(n, 0)]
}

// Summary is what the period's cases add up to.
type Summary struct {
	Objections struct {
		Total          int            `json:"total"`
		ClosedInPeriod int            `json:"closed_in_period"`
		Valid          int            `json:"valid_in_period"`
		MeanWorkdays   float64        `json:"mean_handling_workdays"`
		Handling       []int          `json:"-"` // workdays of each objection closed in the period
		Open           int            `json:"open"`
		OpenByAge      map[string]int `json:"open_by_age_workdays"`
		Warnings       int            `json:"early_warnings"`
		SyncLate       int            `json:"sync_late"`
		SyncDue        int            `json:"sync_pending"`
	} `json:"objections"`
	Repairs struct {
		Total           int `json:"total"`
		DecidedInPeriod int `json:"decided_in_period"`
		OnTime          int `json:"on_time"`
		Overdue         int `json:"overdue"`
		NonCompliant    int `json:"non_compliant"`
		DueSoon         int `json:"due_soon"`
		SyncLate        int `json:"sync_late"`
		SyncDue         int `json:"sync_pending"`
		Open            int `json:"open"`
	} `json:"repairs"`
	Problems int `json:"cases_with_unreadable_fields"`
}

// Summarize assesses every case and adds up the period.
func (c *Checker) Summarize(objs []Objection, reps []Repair) (Summary, []ObjectionFinding, []RepairFinding, error) {
	var s Summary
	s.Objections.OpenByAge = map[string]int{}
	for _, b := range AgeBuckets {
		s.Objections.OpenByAge[b] = 0
	}
	var ofs []ObjectionFinding
	var rfs []RepairFinding
	total := 0
	for _, o := range objs {
		f, err := c.Objection(o)
		if err != nil {
			return s, nil, nil, err
		}
		ofs = append(ofs, f)
		so := &s.Objections
		so.Total++
		if len(f.Problems) > 0 {
			s.Problems++
		}
		switch {
		case f.Open:
			so.Open++
			so.OpenByAge[AgeBucket(f.Workdays)]++
			if f.Warning {
				so.Warnings++
			}
		case f.InPeriod:
			so.ClosedInPeriod++
			so.Handling = append(so.Handling, f.Workdays)
			total += f.Workdays
			if f.Valid {
				so.Valid++
			}
			if f.SyncLate {
				so.SyncLate++
			}
			if f.SyncDue {
				so.SyncDue++
			}
		}
	}
	if n := s.Objections.ClosedInPeriod; n > 0 {
		s.Objections.MeanWorkdays = float64(total) / float64(n)
	}
	sort.Ints(s.Objections.Handling)
	for _, r := range reps {
		f, err := c.Repair(r)
		if err != nil {
			return s, nil, nil, err
		}
		rfs = append(rfs, f)
		sr := &s.Repairs
		sr.Total++
		if len(f.Problems) > 0 {
			s.Problems++
		}
		if f.Open {
			sr.Open++
			if f.Overdue {
				sr.Overdue++
			}
			if f.DueSoon {
				sr.DueSoon++
			}
			continue
		}
		if !f.InPeriod {
			continue
		}
		sr.DecidedInPeriod++
		if f.Overdue {
			sr.Overdue++
		} else {
			sr.OnTime++
		}
		if f.Approved && !f.Compliant {
			sr.NonCompliant++
		}
		if f.SyncLate {
			sr.SyncLate++
		}
		if f.SyncDue {
			sr.SyncDue++
		}
	}
	return s, ofs, rfs, nil
}

// Observations are the scoring engine's inputs from the summary. publicityRecords is the
// number of publicity records published in the period (-1 if unknown); haveObjections and
// haveRepairs say whether the cases are watched at all.
func (s Summary) Observations(publicityRecords int, haveObjections, haveRepairs bool) map[string]scoring.Observation {
	out := map[string]scoring.Observation{}
	if haveObjections {
		out["objection_mean_handling_workdays"] = scoring.Observation{Known: true, Value: s.Objections.MeanWorkdays}
		if publicityRecords >= 0 {
			share := 0.0
			if publicityRecords > 0 {
				share = float64(s.Objections.Valid) / float64(publicityRecords)
			} else if s.Objections.Valid > 0 {
				share = 1
			}
			out["valid_objections_per_publicity_record"] = scoring.Observation{Known: true, Value: share}
		}
	}
	if haveRepairs {
		out["repairs_over_3_workdays"] = scoring.Observation{Known: true, Count: float64(s.Repairs.Overdue)}
		out["noncompliant_repairs"] = scoring.Observation{Known: true, Count: float64(s.Repairs.NonCompliant)}
	}
	if haveObjections || haveRepairs {
		out["all_results_synced_same_day"] = scoring.Observation{Known: true, OK: s.Objections.SyncLate+s.Repairs.SyncLate == 0}
	}
	return out
}

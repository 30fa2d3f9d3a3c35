package cases

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
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
	ID       string `json:"id"`
	Open     bool   `json:"open"`
	Workdays int    `json:"workdays"` // handling time if closed, elapsed if open
	InPeriod bool   `json:"closed_in_period"`
	Valid    bool   `json:"valid"`
	SameDay  bool   `json:"synced_same_day"`
	SyncLate bool   `json:"sync_late"`    // closed on a day that has ended without a same-day sync
	SyncDue  bool   `json:"sync_pending"` // closed today and not synced yet: until midnight to go
	Warning  bool   `json:"early_warning"`
	// Unknown says why the handling time cannot be worked out (a year the calendar lacks).
	Unknown  string    `json:"unknown,omitempty"`
	Problems []Problem `json:"problems"`
}

// RepairFinding is what the rules say of one repair case.
type RepairFinding struct {
	ID       string `json:"id"`
	Open     bool   `json:"open"`
	Workdays int    `json:"workdays"`
	InPeriod bool   `json:"decided_in_period"`
	Overdue  bool   `json:"overdue"`
	// OverdueOn is the day the case became (or becomes) overdue: the first working day
	// past the limit. An overdue case counts once, in the period of that day.
	OverdueOn       string    `json:"overdue_on,omitempty"`
	OverdueInPeriod bool      `json:"overdue_in_period"`
	DueSoon         bool      `json:"due_soon"`
	Approved        bool      `json:"approved"`
	Compliant       bool      `json:"compliant"`
	Reasons         []string  `json:"non_compliance"`
	EarliestDate    string    `json:"earliest_repair_date,omitempty"`
	SameDay         bool      `json:"synced_same_day"`
	SyncLate        bool      `json:"sync_late"`
	SyncDue         bool      `json:"sync_pending"`
	Unknown         string    `json:"unknown,omitempty"`
	Problems        []Problem `json:"problems"`
}

// Checker applies the rules as of a moment: a case received or closed on a later day did
// not exist, or was still open, as of that moment.
type Checker struct {
	Opts   Options
	Now    time.Time // a moment of the as-of day: open cases' elapsed time, whether a closing day has ended
	Period Period
	today  time.Time
}

func (c *Checker) day() time.Time {
	if c.today.IsZero() {
		c.today = clock.Day(c.Now)
	}
	return c.today
}

// asOf drops what had not happened yet on the checker's day.
func (c *Checker) asOf(t time.Time) time.Time {
	if t.After(c.day()) {
		return time.Time{}
	}
	return t
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
func (c *Checker) Objection(o Objection) ObjectionFinding {
	o.Closed = c.asOf(o.Closed)
	f := ObjectionFinding{ID: o.ID, Open: o.Closed.IsZero(), Valid: o.Valid, Problems: o.Problems}
	if o.Received.IsZero() {
		return f
	}
	end := o.Closed
	if f.Open {
		end = c.day()
	}
	n, err := c.Opts.Calendar.Workdays(o.Received, end)
	if err != nil {
		f.Unknown = fmt.Sprintf("异议%s的办理时间无法计算：%v", o.ID, err)
	}
	f.Workdays = n
	f.InPeriod = !f.Open && c.Period.Contains(o.Closed)
	f.Valid = f.Valid && !f.Open
	f.SameDay = SameDay(o.Closed, o.Synced)
	f.SyncLate = c.syncLate(o.Closed, o.Synced)
	f.SyncDue = c.syncDue(o.Closed, o.Synced)
	f.Warning = f.Open && n >= c.Opts.WarnAt
	return f
}

// Repair assesses a repair case.
func (c *Checker) Repair(r Repair) RepairFinding {
	r.Decided = c.asOf(r.Decided)
	f := RepairFinding{ID: r.ID, Open: r.Decided.IsZero(), Approved: r.Approved && !r.Decided.IsZero(), Problems: r.Problems}
	if r.Applied.IsZero() {
		return f
	}
	end := r.Decided
	if f.Open {
		end = c.day()
	}
	n, err := c.Opts.Calendar.Workdays(r.Applied, end)
	overdueOn, errDue := c.Opts.Calendar.AddWorkdays(r.Applied, c.Opts.RepairLimit+1)
	if err = errors.Join(err, errDue); err != nil {
		f.Unknown = fmt.Sprintf("信用修复%s的办理时间无法计算：%v", r.ID, err)
	} else {
		f.OverdueOn = clock.Date(overdueOn)
	}
	f.Workdays = n
	f.InPeriod = !f.Open && c.Period.Contains(r.Decided)
	// An open case past the limit is overdue already: it can no longer be decided in time.
	f.Overdue = n > c.Opts.RepairLimit
	f.OverdueInPeriod = f.Overdue && f.Unknown == "" && c.Period.Contains(overdueOn)
	f.DueSoon = f.Open && !f.Overdue && n >= c.Opts.RepairLimit-1
	f.SameDay = SameDay(r.Decided, r.Synced)
	f.SyncLate = c.syncLate(r.Decided, r.Synced)
	f.SyncDue = c.syncDue(r.Decided, r.Synced)
	if f.Approved {
		f.Compliant, f.EarliestDate, f.Reasons = c.compliance(r)
	}
	return f
}

// compliance checks an approved repair: the minimum publication period had passed, the
// penalty was fulfilled and a credit commitment is on file.
func (c *Checker) compliance(r Repair) (ok bool, earliestDate string, reasons []string) {
	if !r.PenaltyDate.IsZero() {
		earliest := addMonths(r.PenaltyDate, c.minimumMonths(r))
		earliestDate = earliest.Format(time.DateOnly)
		if r.Decided.Before(earliest) {
			reasons = append(reasons, fmt.Sprintf("最短公示期未满（%s前不得修复）", earliestDate))
		}
	}
	if !r.Fulfilled {
		reasons = append(reasons, "行政处罚未履行完毕")
	}
	if !r.Commitment {
		reasons = append(reasons, "未作出信用承诺")
	}
	return len(reasons) == 0, earliestDate, reasons
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
		Total          int `json:"total"`
		ClosedInPeriod int `json:"closed_in_period"`
		Valid          int `json:"valid_in_period"`
		// ValidRecords counts the publicity records (决定书) that received at least one valid
		// objection closed in the period: the numerator of the objection share.
		ValidRecords int            `json:"valid_records_in_period"`
		MeanWorkdays float64        `json:"mean_handling_workdays"`
		Handling     []int          `json:"-"` // workdays of each objection closed in the period
		Open         int            `json:"open"`
		OpenByAge    map[string]int `json:"open_by_age_workdays"`
		Warnings     int            `json:"early_warnings"`
		SyncLate     int            `json:"sync_late"`
		SyncDue      int            `json:"sync_pending"`
		// Unknown counts objections whose handling time needs a year the calendar lacks.
		Unknown int `json:"unknown"`
	} `json:"objections"`
	Repairs struct {
		Total           int `json:"total"`
		DecidedInPeriod int `json:"decided_in_period"`
		OnTime          int `json:"on_time"`
		// Overdue counts the cases that became overdue in the period, decided or still open:
		// each counts once, in the period of the day it became overdue.
		Overdue      int `json:"overdue"`
		NonCompliant int `json:"non_compliant"`
		DueSoon      int `json:"due_soon"`
		SyncLate     int `json:"sync_late"`
		SyncDue      int `json:"sync_pending"`
		Open         int `json:"open"`
		Unknown      int `json:"unknown"`
	} `json:"repairs"`
	Problems int `json:"cases_with_unreadable_fields"`
	// UnknownReasons say, in Chinese, why some figures cannot be worked out.
	UnknownReasons []string `json:"unknown_reasons"`
}

// Summarize assesses every case and adds up the period. Cases received after the checker's
// day did not exist yet and are left out.
func (c *Checker) Summarize(objs []Objection, reps []Repair) (Summary, []ObjectionFinding, []RepairFinding) {
	var s Summary
	s.UnknownReasons = []string{}
	s.Objections.OpenByAge = map[string]int{}
	for _, b := range AgeBuckets {
		s.Objections.OpenByAge[b] = 0
	}
	var ofs []ObjectionFinding
	var rfs []RepairFinding
	records := map[string]bool{}
	total := 0
	for _, o := range objs {
		if o.Received.After(c.day()) {
			continue
		}
		f := c.Objection(o)
		ofs = append(ofs, f)
		c.tallyObjection(&s, f, o, records, &total)
	}
	s.Objections.ValidRecords = len(records)
	if n := s.Objections.ClosedInPeriod; n > 0 {
		s.Objections.MeanWorkdays = float64(total) / float64(n)
	}
	sort.Ints(s.Objections.Handling)
	for _, r := range reps {
		if r.Applied.After(c.day()) {
			continue
		}
		f := c.Repair(r)
		rfs = append(rfs, f)
		tallyRepair(&s, f)
	}
	return s, ofs, rfs
}

func (c *Checker) tallyObjection(s *Summary, f ObjectionFinding, o Objection, records map[string]bool, total *int) {
	so := &s.Objections
	so.Total++
	if len(f.Problems) > 0 {
		s.Problems++
	}
	if f.Unknown != "" && (f.Open || f.InPeriod) {
		so.Unknown++
		s.UnknownReasons = append(s.UnknownReasons, f.Unknown)
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
		*total += f.Workdays
		if f.Valid {
			so.Valid++
			key := o.Doc
			if key == "" {
				key = "objection:" + o.ID // no record named: it cannot be told apart from others
			}
			records[key] = true
		}
		if f.SyncLate {
			so.SyncLate++
		}
		if f.SyncDue {
			so.SyncDue++
		}
	}
}

func tallyRepair(s *Summary, f RepairFinding) {
	sr := &s.Repairs
	sr.Total++
	if len(f.Problems) > 0 {
		s.Problems++
	}
	if f.Unknown != "" && (f.Open || f.InPeriod) {
		sr.Unknown++
		s.UnknownReasons = append(s.UnknownReasons, f.Unknown)
	}
	if f.OverdueInPeriod {
		sr.Overdue++
	}
	if f.Open {
		sr.Open++
		if f.DueSoon {
			sr.DueSoon++
		}
		return
	}
	if !f.InPeriod {
		return
	}
	sr.DecidedInPeriod++
	if !f.Overdue {
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

package publicity

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// DefaultDeadlineWorkdays is the reporting deadline: 7 working days after the decision.
const DefaultDeadlineWorkdays = 7

// CodeIndex remembers every subject code seen with the names it was used for, so that
// duplicated codes can be counted without holding a large file's codes in memory.
type CodeIndex interface {
	Add(code, normalisedName string, valid bool) error
	Stats() (CodeStats, error)
}

// CodeStats are the figures of the code error rate.
type CodeStats struct {
	Distinct   int `json:"distinct"`
	Invalid    int `json:"invalid"`
	Duplicated int `json:"duplicated"`
}

// ErrorRate is (invalid + duplicated) ÷ distinct, 0 when no code was seen.
func (s CodeStats) ErrorRate() float64 {
	if s.Distinct == 0 {
		return 0
	}
	return float64(s.Invalid+s.Duplicated) / float64(s.Distinct)
}

// Figures are the counts and ratios of a set of records.
type Figures struct {
	Total     int `json:"total"`
	Due       int `json:"due"`
	Reported  int `json:"reported"`
	Compliant int `json:"compliant"`
	Timely    int `json:"timely"`
	DueSoon   int `json:"due_soon"`
	// DeadlineUnknown counts records whose deadline falls in a year without holiday data:
	// whether they are due or timely cannot be decided, so the rates are unknown too.
	DeadlineUnknown  int            `json:"deadline_unknown"`
	UploadRatio      float64        `json:"upload_ratio"`
	ComplianceRatio  float64        `json:"compliance_ratio"`
	TimelinessRatio  float64        `json:"timeliness_ratio"`
	ViolationsByRule map[string]int `json:"violations_by_rule"`
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 1 // nothing was owed, so nothing is missing
	}
	return float64(n) / float64(d)
}

func (f *Figures) finish() {
	f.UploadRatio = ratio(f.Reported, f.Due)
	f.ComplianceRatio = ratio(f.Compliant, f.Reported)
	f.TimelinessRatio = ratio(f.Timely, f.Reported)
}

// FinishFigures returns f with its ratios computed from its counts.
func FinishFigures(f Figures) Figures {
	f.finish()
	return f
}

// Passes reports whether upload, compliance and timeliness are all 100%. Records with an
// unknown deadline are judged by the caller (the gate is then unknown).
func (f Figures) Passes() bool {
	return f.Reported == f.Due && f.Compliant == f.Reported && f.Timely == f.Reported
}

// Assessment is everything about one record that does not depend on the audit date:
// what the collector stores in the ledger, and what the auditor tallies.
type Assessment struct {
	Violations []Violation
	Department string
	DecidedOn  time.Time // the decision date; zero when unreadable
	Reported   bool
	ReportedOn time.Time // zero when not reported or the date is unreadable
	Timely     bool      // reported by the deadline
	Compliant  bool      // reported and without violations
	Deadline   time.Time // zero when it cannot be worked out
	// DeadlineUnknown is set when the deadline falls in a year the calendar does not know;
	// otherwise a zero Deadline means an unusable decision date, and the record is due.
	DeadlineUnknown bool
	SubjectCode     string
	SubjectName     string // normalised
	CodeValid       bool
}

// Status is what an audit as of a date concluded about one record.
type Status struct {
	Due, Reported, Compliant, Timely, DueSoon bool
	DeadlineUnknown                           bool
	Deadline                                  time.Time
}

// UnknownDepartment stands for a record without 数据来源单位.
const UnknownDepartment = "（未填写数据来源单位）"

// Assess checks a record and works out its deadline and timeliness. warn receives
// messages about the audit's own limits (a year without holiday data), not the record.
func Assess(r Record, c *Checker, cal *workday.Calendar, deadlineDays int, warn func(string)) Assessment {
	s := Schemas[r.Kind]
	a := Assessment{Violations: c.Check(r), Department: r.Get(FieldSource)}
	if a.Department == "" {
		a.Department = UnknownDepartment
	}
	reported, errRep := ParseDate(r.Get(FieldReported))
	a.Reported = r.Get(FieldReported) != ""
	if errRep == nil {
		a.ReportedOn = reported
	}
	a.Compliant = a.Reported && len(a.Violations) == 0
	if decision, err := ParseDate(r.Get(s.DecisionDate)); err == nil {
		a.DecidedOn = decision
		a.Deadline, err = cal.AddWorkdays(decision, deadlineDays)
		if errors.Is(err, workday.ErrUnknownYear) {
			a.DeadlineUnknown = true
			if warn != nil {
				warn(UnknownYearWarning(err))
			}
		}
	}
	// Without a deadline a reported record is not timely: the pessimistic reading an
	// assessor would take.
	a.Timely = a.Reported && errRep == nil && !a.Deadline.IsZero() && !reported.After(a.Deadline)
	if a.SubjectCode = r.Get(FieldUSCC); a.SubjectCode != "" {
		a.SubjectName = NormaliseName(r.Get(FieldSubjectName))
		a.CodeValid = c.Allowed[a.SubjectCode] || codes.USCC(a.SubjectCode) == nil
	}
	return a
}

// UnknownYearWarning says, in Chinese, which year's holiday data a deadline needs.
func UnknownYearWarning(err error) string {
	return fmt.Sprintf("缺少节假日数据（%v），相关记录的上报期限无法确定；请在节假日补充文件中加入该年安排", err)
}

// ReportedBy reports whether the record had reached the upstream platform by the end of
// day d: a report dated after d had not happened yet as of d.
func (a Assessment) ReportedBy(d time.Time) bool {
	return a.Reported && (a.ReportedOn.IsZero() || !a.ReportedOn.After(d))
}

// StatusAt is an assessed record's status as of day asOf (midnight Asia/Shanghai), given
// the first working day after it (zero when the calendar does not know it): due once
// reported or once its deadline has passed, due soon when unreported with its deadline
// today or on the next working day.
func (a Assessment) StatusAt(asOf, nextWorkday time.Time) Status {
	rep := a.ReportedBy(asOf)
	st := Status{Reported: rep, Compliant: rep && a.Compliant, Timely: rep && a.Timely, Deadline: a.Deadline,
		DeadlineUnknown: a.DeadlineUnknown}
	switch {
	case rep:
		st.Due = true
	case a.Deadline.IsZero():
		st.Due = !a.DeadlineUnknown // an unusable decision date: owed now, the pessimistic reading
	default:
		st.Due = asOf.After(a.Deadline)
	}
	st.DueSoon = !st.Due && !a.Deadline.IsZero() && !nextWorkday.IsZero() && !a.Deadline.After(nextWorkday)
	return st
}

// InPeriod reports whether a record counts in the figures of the period [from, asOf]: it
// was decided in it. A record whose decision date cannot be read counts (it is faulty, and
// an assessor would count it against the city); one decided before the period is checked
// and listed but not counted; one decided after asOf did not exist yet.
func (a Assessment) InPeriod(from, asOf time.Time) bool {
	return a.DecidedOn.IsZero() || (!a.DecidedOn.Before(from) && !a.DecidedOn.After(asOf))
}

// Auditor tallies records one at a time; memory does not grow with the number of records
// except through the CodeIndex it is given.
type Auditor struct {
	Kind     Kind
	From     time.Time // start of the assessment period; records decided earlier are not counted
	AsOf     time.Time // the audit date, midnight Asia/Shanghai
	Calendar *workday.Calendar
	Deadline int // working days; DefaultDeadlineWorkdays when 0
	Checker  *Checker
	Codes    CodeIndex
	overall  Figures
	depts    map[string]*Figures
	warnings map[string]bool
	codeErr  error
	next     time.Time
	nextErr  error
	outside  int
}

// NewAuditor returns an auditor of kind for the period [from, asOf].
func NewAuditor(kind Kind, from, asOf time.Time, cal *workday.Calendar, allowed map[string]bool, idx CodeIndex) *Auditor {
	return &Auditor{
		Kind: kind, From: from, AsOf: asOf, Calendar: cal, Deadline: DefaultDeadlineWorkdays,
		Checker: &Checker{AsOf: asOf, Allowed: allowed}, Codes: idx,
		depts: map[string]*Figures{}, warnings: map[string]bool{},
	}
}

// Add audits one record: it returns the record's violations and status, and tallies both
// when the record counts in the period.
func (a *Auditor) Add(r Record) ([]Violation, Status) {
	f := a.AddRecord(r)
	return f.Assessment.Violations, f.Status
}

// AddRecord audits one record as Add does, and returns all that was concluded of it.
func (a *Auditor) AddRecord(r Record) Finding {
	as := Assess(r, a.Checker, a.Calendar, a.deadline(), func(w string) { a.warnings[w] = true })
	st := as.StatusAt(a.AsOf, a.nextWorkday())
	if !as.InPeriod(a.From, a.AsOf) {
		a.outside++
		return Finding{Assessment: as, Status: st}
	}
	d := a.depts[as.Department]
	if d == nil {
		d = &Figures{ViolationsByRule: map[string]int{}}
		a.depts[as.Department] = d
	}
	for _, f := range []*Figures{&a.overall, d} {
		f.add(st, as.Violations)
	}
	if as.SubjectCode != "" && a.Codes != nil && a.codeErr == nil {
		a.codeErr = a.Codes.Add(as.SubjectCode, as.SubjectName, as.CodeValid)
	}
	return Finding{Assessment: as, Status: st, Counted: true}
}

func (f *Figures) add(st Status, vs []Violation) {
	f.Total++
	f.Due += b2i(st.Due)
	f.Reported += b2i(st.Reported)
	f.Compliant += b2i(st.Compliant)
	f.Timely += b2i(st.Timely)
	f.DueSoon += b2i(st.DueSoon)
	f.DeadlineUnknown += b2i(st.DeadlineUnknown)
	if f.ViolationsByRule == nil {
		f.ViolationsByRule = map[string]int{}
	}
	for _, v := range vs {
		f.ViolationsByRule[v.Rule]++
	}
}

// nextWorkday is the first working day after the audit date, zero when the calendar
// does not know it (then nothing can be due soon).
func (a *Auditor) nextWorkday() time.Time {
	if a.next.IsZero() && a.nextErr == nil {
		a.next, a.nextErr = a.Calendar.AddWorkdays(a.AsOf, 1)
		if a.nextErr != nil {
			a.warnings[UnknownYearWarning(a.nextErr)] = true
		}
	}
	return a.next
}

func (a *Auditor) deadline() int {
	if a.Deadline > 0 {
		return a.Deadline
	}
	return DefaultDeadlineWorkdays
}

// Result is the audit's conclusion.
type Result struct {
	Kind Kind   `json:"kind"`
	From string `json:"from"`
	AsOf string `json:"as_of"`
	// OutsidePeriod counts records checked and listed but not counted: decided before
	// the period or after the audit date.
	OutsidePeriod int                `json:"outside_period"`
	Figures                          // overall
	USCC          CodeStats          `json:"uscc"`
	USCCErrorRate float64            `json:"uscc_error_rate"`
	GatePass      bool               `json:"publicity_rates_gate_pass"`
	Departments   []DepartmentResult `json:"departments"`
	Warnings      []string           `json:"warnings"`
}

// DepartmentResult is one department's figures.
type DepartmentResult struct {
	Department string `json:"department"`
	Figures
}

// Result finishes the ratios and the code error rate.
func (a *Auditor) Result() (*Result, error) {
	if a.codeErr != nil {
		return nil, fmt.Errorf("indexing codes: %w", a.codeErr)
	}
	res := &Result{Kind: a.Kind, From: clock.Date(a.From), AsOf: clock.Date(a.AsOf), OutsidePeriod: a.outside,
		Figures: a.overall, Warnings: []string{}}
	res.Figures.finish()
	if res.ViolationsByRule == nil {
		res.ViolationsByRule = map[string]int{}
	}
	res.GatePass = res.Figures.Passes() && res.DeadlineUnknown == 0
	if a.Codes != nil {
		st, err := a.Codes.Stats()
		if err != nil {
			return nil, fmt.Errorf("counting codes: %w", err)
		}
		res.USCC, res.USCCErrorRate = st, st.ErrorRate()
	}
	for name, f := range a.depts {
		f.finish()
		res.Departments = append(res.Departments, DepartmentResult{Department: name, Figures: *f})
	}
	sort.Slice(res.Departments, func(i, j int) bool { return res.Departments[i].Department < res.Departments[j].Department })
	for w := range a.warnings {
		res.Warnings = append(res.Warnings, w)
	}
	sort.Strings(res.Warnings)
	return res, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Package cases holds the rules of objections (异议) and credit repair (信用修复) of
// docs/domain.md, "Objections and credit repair": handling time in working days, repair compliance, same-day sync with
// 信用中国, and the early warnings before a case becomes a deduction. It is pure.
package cases

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// Kinds of case.
const (
	KindObjection = "objection"
	KindRepair    = "repair"
)

// Objection columns.
const (
	FieldObjectionID   = "异议编号"
	FieldObjectionDoc  = "关联决定书文号"
	FieldReceived      = "收到日期"
	FieldClosed        = "办结日期"
	FieldValid         = "是否有效"
	FieldSynced        = "结果同步日期"
	FieldRepairID      = "修复编号"
	FieldPenaltyDoc    = "处罚决定书文号"
	FieldPenaltyDate   = "处罚决定日期"
	FieldSeverity      = "失信程度"
	FieldCategory      = "处罚类别"
	FieldApplied       = "申请日期"
	FieldOutcome       = "结果"
	FieldFulfilled     = "是否履行完毕"
	FieldCommitment    = "是否作出信用承诺"
	FieldPenaltyDomain = "处罚领域" // optional: for the 2023 rule's longer periods
)

// ObjectionColumns and RepairColumns are the columns of the office's case ledgers.
var (
	ObjectionColumns = []string{FieldObjectionID, FieldObjectionDoc, FieldReceived, FieldClosed, FieldValid, FieldSynced}
	RepairColumns    = []string{FieldRepairID, FieldPenaltyDoc, FieldPenaltyDate, FieldSeverity, FieldCategory, FieldApplied,
		FieldClosed, FieldOutcome, FieldFulfilled, FieldCommitment, FieldSynced}
)

// Objection is one objection case.
type Objection struct {
	ID       string
	Doc      string
	Received time.Time
	Closed   time.Time // zero while open
	Valid    bool      // upheld
	Synced   time.Time // when the result reached 信用中国; zero if not yet
	Problems []Problem
}

// Repair is one credit repair case.
type Repair struct {
	ID          string
	Doc         string
	PenaltyDate time.Time
	Serious     bool
	Category    string
	Domain      string
	Applied     time.Time
	Decided     time.Time // zero while open
	Approved    bool
	Fulfilled   bool
	Commitment  bool
	Synced      time.Time
	Problems    []Problem
}

// Problem is a field of a case that could not be read.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Fields reads a case's fields by name.
type Fields func(name string) string

// ParseObjection reads an objection; unreadable fields become problems.
func ParseObjection(get Fields) Objection {
	o := Objection{ID: get(FieldObjectionID), Doc: get(FieldObjectionDoc)}
	p := parser{get: get}
	o.Received = p.date(FieldReceived, true)
	o.Closed = p.date(FieldClosed, false)
	o.Valid = p.yesNo(FieldValid, false)
	o.Synced = p.timestamp(FieldSynced)
	if !o.Closed.IsZero() && !o.Received.IsZero() && o.Closed.Before(o.Received) {
		p.problem(FieldClosed, "办结日期早于收到日期")
	}
	o.Problems = p.problems
	return o
}

// ParseRepair reads a repair case; unreadable fields become problems.
func ParseRepair(get Fields) Repair {
	r := Repair{ID: get(FieldRepairID), Doc: get(FieldPenaltyDoc), Category: get(FieldCategory), Domain: get(FieldPenaltyDomain)}
	p := parser{get: get}
	r.PenaltyDate = p.date(FieldPenaltyDate, true)
	switch s := get(FieldSeverity); s {
	case "严重":
		r.Serious = true
	case "一般", "":
	default:
		p.problem(FieldSeverity, fmt.Sprintf("失信程度“%s”应为一般或严重", s))
	}
	r.Applied = p.date(FieldApplied, true)
	r.Decided = p.date(FieldClosed, false)
	switch s := get(FieldOutcome); s {
	case "同意", "准予修复", "通过":
		r.Approved = true
	case "不同意", "不予修复", "不通过", "":
	default:
		p.problem(FieldOutcome, fmt.Sprintf("结果“%s”应为同意或不同意", s))
	}
	r.Fulfilled = p.yesNo(FieldFulfilled, false)
	r.Commitment = p.yesNo(FieldCommitment, false)
	r.Synced = p.timestamp(FieldSynced)
	if !r.Decided.IsZero() && !r.Applied.IsZero() && r.Decided.Before(r.Applied) {
		p.problem(FieldClosed, "办结日期早于申请日期")
	}
	r.Problems = p.problems
	return r
}

type parser struct {
	get      Fields
	problems []Problem
}

func (p *parser) problem(field, msg string) {
	p.problems = append(p.problems, Problem{Field: field, Message: msg})
}

func (p *parser) date(field string, required bool) time.Time {
	v := p.get(field)
	if v == "" {
		if required {
			p.problem(field, "必填日期为空")
		}
		return time.Time{}
	}
	t, err := publicity.ParseDate(v)
	if err != nil {
		// Exports sometimes carry a time with the date.
		if ts, err2 := ParseTimestamp(v); err2 == nil {
			y, m, d := ts.In(clock.Shanghai).Date()
			return time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
		}
		p.problem(field, fmt.Sprintf("日期“%s”无法识别", v))
		return time.Time{}
	}
	return t
}

func (p *parser) yesNo(field string, dflt bool) bool {
	switch v := p.get(field); v {
	case "是", "Y", "y", "1", "有效":
		return true
	case "否", "N", "n", "0", "无效":
		return false
	case "":
		return dflt
	default:
		p.problem(field, fmt.Sprintf("“%s”应为是或否", v))
		return dflt
	}
}

func (p *parser) timestamp(field string) time.Time {
	v := p.get(field)
	if v == "" {
		return time.Time{}
	}
	t, err := ParseTimestamp(v)
	if err != nil {
		p.problem(field, fmt.Sprintf("时间“%s”无法识别", v))
	}
	return t
}

var localStamp = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$`)

// ParseTimestamp reads RFC 3339 times (any zone), "YYYY-MM-DD HH:MM[:SS]" in Asia/Shanghai,
// or a bare date (midnight Asia/Shanghai).
func ParseTimestamp(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if m := localStamp.FindStringSubmatch(s); m != nil {
		n := make([]int, 6)
		for i := 1; i <= 6; i++ {
			n[i-1], _ = strconv.Atoi(m[i])
		}
		t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, clock.Shanghai)
		if t.Month() == time.Month(n[1]) && t.Day() == n[2] && n[3] < 24 {
			return t, nil
		}
	}
	if d, err := publicity.ParseDate(strings.TrimSpace(s)); err == nil {
		return d, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD)", s)
}

// SameDay reports whether a result synced at synced (any zone) reached 信用中国 on the
// Asia/Shanghai calendar day of closed.
func SameDay(closed, synced time.Time) bool {
	if synced.IsZero() || closed.IsZero() {
		return false
	}
	return civil(closed) == civil(synced)
}

func civil(t time.Time) string { return t.In(clock.Shanghai).Format(time.DateOnly) }

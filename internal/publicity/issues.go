package publicity

import (
	"sort"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Issues: what keeps a record decided in the period from counting fully, one for each
// shortfall of the figures, and the warning before one.
const (
	// IssueOverdue: due and not reported (the upload ratio's shortfall, due − reported).
	IssueOverdue = "overdue"
	// IssueLate: reported after its deadline, or without a deadline that can be worked out
	// (the timeliness ratio's shortfall, reported − timely).
	IssueLate = "late"
	// IssueFaulty: reported with rule violations (the compliance ratio's shortfall,
	// reported − compliant).
	IssueFaulty = "faulty"
	// IssueDueSoon: not reported, with its deadline today or on the next working day.
	IssueDueSoon = "due_soon"
)

// IssueOrder lists the issues in the order people read them.
var IssueOrder = []string{IssueOverdue, IssueDueSoon, IssueLate, IssueFaulty}

// IssueNamesZH are the issues' names in Chinese.
var IssueNamesZH = map[string]string{
	IssueOverdue: "逾期未报", IssueLate: "迟报", IssueFaulty: "不合规", IssueDueSoon: "即将到期未报",
}

// Issues are the issues of a record's status. A record can be late and faulty at once.
func (st Status) Issues() []string {
	var out []string
	if st.Due && !st.Reported {
		out = append(out, IssueOverdue)
	}
	if st.DueSoon {
		out = append(out, IssueDueSoon)
	}
	if st.Reported && !st.Timely {
		out = append(out, IssueLate)
	}
	if st.Reported && !st.Compliant {
		out = append(out, IssueFaulty)
	}
	return out
}

// IssueRecord is one record behind an issue's count, named so that the office can find it.
type IssueRecord struct {
	Issue      string `json:"issue"`
	Kind       Kind   `json:"kind"`
	ID         string `json:"id"` // the decision's document number
	Department string `json:"department"`
	DecidedOn  string `json:"decided_on"`  // YYYY-MM-DD; "" when unreadable
	Deadline   string `json:"deadline"`    // YYYY-MM-DD; "" when it cannot be worked out
	ReportedOn string `json:"reported_on"` // YYYY-MM-DD; "" when not reported or unreadable
	// Rules are the rules a faulty record breaks, sorted; empty for the other issues,
	// whose rule is the reporting deadline.
	Rules []string `json:"rules"`
	Row   int      `json:"row,omitempty"` // the line or row in an audited file
}

// Finding is what an audit concluded of one record.
type Finding struct {
	Assessment Assessment
	Status     Status
	// Counted: the record was decided in the period and tallied in the figures.
	Counted bool
}

// IssueRecords are a counted record's issues, one entry each; nil for a record not counted.
func (f Finding) IssueRecords(r Record) []IssueRecord {
	if !f.Counted {
		return nil
	}
	var out []IssueRecord
	for _, is := range f.Status.Issues() {
		ir := IssueRecord{Issue: is, Kind: r.Kind, ID: r.ID(), Department: f.Assessment.Department, Row: r.Row,
			DecidedOn: dateOrEmpty(f.Assessment.DecidedOn), Deadline: dateOrEmpty(f.Assessment.Deadline),
			ReportedOn: dateOrEmpty(f.Assessment.ReportedOn), Rules: []string{}}
		if is == IssueFaulty {
			ir.Rules = ruleSet(f.Assessment.Violations)
		}
		out = append(out, ir)
	}
	return out
}

func ruleSet(vs []Violation) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, v := range vs {
		if !seen[v.Rule] {
			seen[v.Rule] = true
			out = append(out, v.Rule)
		}
	}
	sort.Strings(out)
	return out
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return clock.Date(t)
}

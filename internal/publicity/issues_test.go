package publicity

import (
	"reflect"
	"testing"
)

func TestStatusIssues(t *testing.T) {
	for _, c := range []struct {
		name string
		st   Status
		want []string
	}{
		{"reported on time and clean", Status{Due: true, Reported: true, Compliant: true, Timely: true}, nil},
		{"not due yet", Status{}, nil},
		{"due soon", Status{DueSoon: true}, []string{IssueDueSoon}},
		{"overdue", Status{Due: true}, []string{IssueOverdue}},
		{"late", Status{Due: true, Reported: true, Compliant: true}, []string{IssueLate}},
		{"faulty", Status{Due: true, Reported: true, Timely: true}, []string{IssueFaulty}},
		{"late and faulty", Status{Due: true, Reported: true}, []string{IssueLate, IssueFaulty}},
		{"deadline unknown", Status{DeadlineUnknown: true}, nil},
	} {
		if got := c.st.Issues(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFindingIssueRecords(t *testing.T) {
	h := NewHeader([]string{FieldPenaltyNo, FieldSource})
	r := Record{Kind: Penalty, Row: 7, Header: h, Values: []string{"罚〔2026〕1号", "环境局"}}
	a := Assessment{Department: "环境局", Violations: []Violation{{Rule: RuleMissingField}, {Rule: RuleBadAmount}, {Rule: RuleMissingField}}}
	f := Finding{Assessment: a, Status: Status{Due: true, Reported: true}, Counted: true}
	got := f.IssueRecords(r)
	if len(got) != 2 || got[0].Issue != IssueLate || got[1].Issue != IssueFaulty || got[0].ID != "罚〔2026〕1号" || got[0].Row != 7 ||
		!reflect.DeepEqual(got[1].Rules, []string{RuleBadAmount, RuleMissingField}) || len(got[0].Rules) != 0 {
		t.Errorf("issue records %+v", got)
	}
	f.Counted = false
	if got := f.IssueRecords(r); got != nil {
		t.Errorf("a record outside the period has issues %+v", got)
	}
}

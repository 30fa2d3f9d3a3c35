package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/workday"
)

func shanghaiDay(s string) time.Time {
	t, err := clock.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// randomAssessments are records of every sort: decided in the period or before it, with an
// unreadable decision date, a deadline in a year without holiday data, reported on time,
// late, without a readable report date, faulty or not.
func randomAssessments(r *rand.Rand, cal *workday.Calendar) map[string]publicity.Assessment {
	out := map[string]publicity.Assessment{}
	base := shanghaiDay("2026-09-20")
	for i := range 120 {
		a := publicity.Assessment{Department: []string{"环境局", "市监局", "<b>局</b>"}[i%3]}
		switch r.IntN(12) {
		case 0: // unreadable decision date: due, the pessimistic reading
		case 1:
			a.DecidedOn, a.DeadlineUnknown = shanghaiDay("2099-12-30"), true
		default:
			a.DecidedOn = base.AddDate(0, 0, r.IntN(60))
			a.Deadline, _ = cal.AddWorkdays(a.DecidedOn, publicity.DefaultDeadlineWorkdays)
		}
		if r.IntN(3) > 0 {
			a.Reported = true
			if r.IntN(8) > 0 && !a.DecidedOn.IsZero() {
				a.ReportedOn = a.DecidedOn.AddDate(0, 0, r.IntN(16))
			}
			a.Timely = !a.ReportedOn.IsZero() && !a.Deadline.IsZero() && !a.ReportedOn.After(a.Deadline)
			a.Compliant = r.IntN(3) > 0
			if !a.Compliant {
				a.Violations = []publicity.Violation{{Field: "处罚类别", Rule: publicity.RuleBadCategory},
					{Field: "违法事实", Rule: publicity.RuleMissingField}, {Field: "处罚内容", Rule: publicity.RuleMissingField}}
			}
		}
		out[fmt.Sprintf("罚决〔2026〕%03d号", i)] = a
	}
	return out
}

// The records listed behind each issue are exactly those publicity.Status.Issues names for
// each record counted in the period, and their numbers are the figures' shortfalls.
func TestPublicityIssuesAreTheRecordsBehindTheFigures(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "issues.db"))
	cal := workday.Default
	recs := randomAssessments(rand.New(rand.NewPCG(13, 1)), cal)
	stored := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	var batch []PublicityRecord
	for id, a := range recs {
		batch = append(batch, PublicityRecord{Kind: publicity.Penalty, ID: id, Source: "test", UpdatedAt: stored, Assessment: a,
			Fields: map[string]string{}})
	}
	if err := l.StorePublicity(ctx, batch, nil); err != nil {
		t.Fatal(err)
	}
	from := shanghaiDay("2026-10-01")
	seen := map[string]int{}
	for _, day := range []string{"2026-10-09", "2026-10-20", "2026-11-03", "2026-11-30"} {
		asOf := shanghaiDay(day)
		next, err := cal.AddWorkdays(asOf, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]publicity.IssueRecord{}
		for id, a := range recs {
			decided := a.DecidedOn
			if decided.IsZero() {
				decided = clock.Day(stored) // an unreadable decision date counts where the record arrived
			}
			if decided.Before(from) || decided.After(asOf) {
				continue
			}
			for _, is := range a.StatusAt(asOf, next).Issues() {
				ir := publicity.IssueRecord{Issue: is, Kind: publicity.Penalty, ID: id, Department: a.Department,
					DecidedOn: date(a.DecidedOn), Deadline: date(a.Deadline), ReportedOn: date(a.ReportedOn), Rules: []string{}}
				if is == publicity.IssueFaulty {
					ir.Rules = []string{publicity.RuleBadCategory, publicity.RuleMissingField}
					sort.Strings(ir.Rules)
				}
				ir.DecidedOn = clock.Date(decided)
				want[is] = append(want[is], ir)
			}
		}
		for _, list := range want {
			sort.Slice(list, func(i, j int) bool {
				a, b := list[i], list[j]
				return a.Deadline < b.Deadline || a.Deadline == b.Deadline && (a.Department < b.Department ||
					a.Department == b.Department && a.ID < b.ID)
			})
		}
		v := View{At: clock.NextDay(asOf), From: from}
		got := map[string][]publicity.IssueRecord{}
		if err := l.EachPublicityIssue(ctx, v, next, func(r publicity.IssueRecord) error {
			got[r.Issue] = append(got[r.Issue], r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		list, err := l.PublicityIssueList(ctx, v, next, 3)
		if err != nil {
			t.Fatal(err)
		}
		figs, err := l.PublicityFigures(ctx, v, next)
		if err != nil {
			t.Fatal(err)
		}
		var f publicity.Figures
		for _, d := range figs {
			f.Due, f.Reported, f.Compliant, f.Timely, f.DueSoon = f.Due+d.Due, f.Reported+d.Reported, f.Compliant+d.Compliant,
				f.Timely+d.Timely, f.DueSoon+d.DueSoon
		}
		shortfall := map[string]int{publicity.IssueOverdue: f.Due - f.Reported, publicity.IssueLate: f.Reported - f.Timely,
			publicity.IssueFaulty: f.Reported - f.Compliant, publicity.IssueDueSoon: f.DueSoon}
		for _, is := range publicity.IssueOrder {
			if !reflect.DeepEqual(got[is], want[is]) {
				t.Errorf("as of %s, %s: got %d records %+v\nwant %d %+v", day, is, len(got[is]), got[is], len(want[is]), want[is])
			}
			if list.Counts[is] != len(want[is]) || list.Counts[is] != shortfall[is] {
				t.Errorf("as of %s, %s: counted %d, listed %d, figures' shortfall %d", day, is, list.Counts[is], len(want[is]), shortfall[is])
			}
			first := append([]publicity.IssueRecord{}, want[is][:min(3, len(want[is]))]...)
			if !reflect.DeepEqual(list.Records[is], first) || list.Truncated(is) != (len(want[is]) > 3) {
				t.Errorf("as of %s, %s: the list's first records %+v, want %+v", day, is, list.Records[is], first)
			}
		}
		for is, n := range list.Counts {
			seen[is] += n
		}
	}
	for _, is := range publicity.IssueOrder {
		if seen[is] == 0 {
			t.Errorf("the sample never has a record %s", is)
		}
	}
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return clock.Date(t)
}

// A record reported after an instant is overdue as of that instant and not after: the lists
// read the version in force.
func TestPublicityIssuesAsOf(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "asof.db"))
	decided := shanghaiDay("2026-10-09")
	deadline, _ := workday.Default.AddWorkdays(decided, publicity.DefaultDeadlineWorkdays)
	a := publicity.Assessment{Department: "环境局", DecidedOn: decided, Deadline: deadline}
	first := time.Date(2026, 10, 10, 1, 0, 0, 0, time.UTC)
	reportedAt := time.Date(2026, 10, 26, 2, 0, 0, 0, time.UTC)
	store := func(at time.Time, a publicity.Assessment) {
		if err := l.StorePublicity(ctx, []PublicityRecord{{Kind: publicity.Penalty, ID: "A1", Source: "test", UpdatedAt: at,
			Assessment: a, Fields: map[string]string{}}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	store(first, a)
	b := a
	b.Reported, b.ReportedOn, b.Compliant = true, clock.Day(reportedAt), true
	store(reportedAt, b)
	from := shanghaiDay("2026-01-01")
	for _, c := range []struct {
		at   time.Time
		want map[string]int
	}{
		{shanghaiDay("2026-10-19"), map[string]int{publicity.IssueDueSoon: 1}}, // deadline 10-20, next working day
		{reportedAt, map[string]int{publicity.IssueOverdue: 1}},
		{reportedAt.Add(time.Hour), map[string]int{publicity.IssueLate: 1}},
	} {
		next, _ := workday.Default.AddWorkdays(clock.LastDay(c.at), 1)
		list, err := l.PublicityIssueList(ctx, View{At: c.at, From: from}, next, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range publicity.IssueOrder {
			if list.Counts[is] != c.want[is] || len(list.Records[is]) != c.want[is] {
				t.Errorf("as of %s: %s %d (%d listed), want %d", c.at, is, list.Counts[is], len(list.Records[is]), c.want[is])
			}
		}
	}
}

package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// The records behind the publicity figures' shortfalls, as of a view: the same conditions
// as PublicityFigures (and publicity.Status.Issues), record by record.

// issueConditions are each issue's condition on a version in force, in SQL.
var issueConditions = map[string]string{
	publicity.IssueOverdue: `NOT ` + reportedBy + ` AND ((deadline = '' AND deadline_unknown = 0) OR (deadline != '' AND deadline < :day))`,
	publicity.IssueDueSoon: `NOT ` + reportedBy + ` AND deadline != '' AND deadline >= :day AND deadline <= :next`,
	publicity.IssueLate:    reportedBy + ` AND timely = 0`,
	publicity.IssueFaulty:  reportedBy + ` AND compliant = 0`,
}

// PublicityIssues are the records behind each issue's count as of a view.
type PublicityIssues struct {
	// Counts has every issue of publicity.IssueOrder, zero or not.
	Counts map[string]int
	// Records has at most the limit asked for of each issue, earliest deadline first.
	Records map[string][]publicity.IssueRecord
}

// Truncated reports whether some of an issue's records were left out.
func (p *PublicityIssues) Truncated(issue string) bool {
	return len(p.Records[issue]) < p.Counts[issue]
}

// PublicityIssueList counts the records of each issue as of a view, given the first
// working day after the view's day (zero when the calendar does not know it), and lists at
// most limit of each (earliest deadline first), so that a page stays small however many
// there are.
func (l *Ledger) PublicityIssueList(ctx context.Context, v View, nextWorkday time.Time, limit int) (*PublicityIssues, error) {
	out := &PublicityIssues{Counts: map[string]int{}, Records: map[string][]publicity.IssueRecord{}}
	sums := make([]string, len(publicity.IssueOrder))
	counts := make([]any, len(publicity.IssueOrder))
	n := make([]int, len(publicity.IssueOrder))
	for i, is := range publicity.IssueOrder {
		sums[i] = `COALESCE(SUM(CASE WHEN ` + issueConditions[is] + ` THEN 1 ELSE 0 END), 0)`
		counts[i] = &n[i]
	}
	args := v.args(sql.Named("next", dateOrEmpty(nextWorkday)))
	if err := l.r.QueryRowContext(ctx, `SELECT `+strings.Join(sums, ", ")+` FROM (`+versionsAt(issueColumns)+`)`,
		args...).Scan(counts...); err != nil {
		return nil, fmt.Errorf("counting publicity issues: %w", err)
	}
	for i, is := range publicity.IssueOrder {
		out.Counts[is] = n[i]
		out.Records[is] = []publicity.IssueRecord{}
		if n[i] == 0 || limit <= 0 {
			continue
		}
		err := l.eachIssue(ctx, v, nextWorkday, is, limit, func(r publicity.IssueRecord) error {
			out.Records[is] = append(out.Records[is], r)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EachPublicityIssue calls each with every record of every issue as of a view, issue by
// issue (in publicity.IssueOrder), earliest deadline first: for a download of them all
// without holding them in memory.
func (l *Ledger) EachPublicityIssue(ctx context.Context, v View, nextWorkday time.Time, each func(publicity.IssueRecord) error) error {
	for _, is := range publicity.IssueOrder {
		if err := l.eachIssue(ctx, v, nextWorkday, is, -1, each); err != nil {
			return err
		}
	}
	return nil
}

const issueColumns = `rid, kind, id, department, decided_on, deadline, deadline_unknown, reported, reported_on, compliant, timely`

func (l *Ledger) eachIssue(ctx context.Context, v View, nextWorkday time.Time, issue string, limit int,
	each func(publicity.IssueRecord) error) error {
	q := `SELECT kind, id, department, decided_on, deadline, reported_on,
			CASE WHEN :faulty THEN (SELECT GROUP_CONCAT(DISTINCT rule) FROM publicity_violations WHERE rid = p.rid) ELSE '' END
		FROM (` + versionsAt(issueColumns) + `) p WHERE ` + issueConditions[issue] + `
		ORDER BY deadline, kind, department, id LIMIT :limit`
	args := v.args(sql.Named("next", dateOrEmpty(nextWorkday)), sql.Named("faulty", issue == publicity.IssueFaulty),
		sql.Named("limit", limit))
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		r := publicity.IssueRecord{Issue: issue, Rules: []string{}}
		var rules sql.NullString
		if err := rows.Scan(&r.Kind, &r.ID, &r.Department, &r.DecidedOn, &r.Deadline, &r.ReportedOn, &rules); err != nil {
			return err
		}
		if rules.String != "" {
			r.Rules = strings.Split(rules.String, ",")
			sort.Strings(r.Rules)
		}
		return each(r)
	}, q, args...)
	if err != nil {
		return fmt.Errorf("listing %s publicity records: %w", issue, err)
	}
	return nil
}

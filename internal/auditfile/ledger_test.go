package auditfile

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/recfile"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// storeFixture assesses a fixture's records and stores them as the collector would.
func storeFixture(t *testing.T, l *ledger.Ledger, path string, kind publicity.Kind, updated time.Time) {
	t.Helper()
	r, err := recfile.Open(path, recfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := publicity.NewHeader(r.Header())
	checker := &publicity.Checker{AsOf: asOf}
	var recs []ledger.PublicityRecord
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec := publicity.Record{Kind: kind, Row: row.Line, Header: h, Values: append([]string(nil), row.Values...)}
		recs = append(recs, ledger.PublicityRecord{Kind: kind, ID: rec.ID(), Source: "test", UpdatedAt: updated,
			Assessment: publicity.Assess(rec, checker, workday.Default, 7, nil), Fields: map[string]string{}})
	}
	if err := l.StorePublicity(context.Background(), recs, &ledger.Cursor{Source: "test", Stream: string(kind), Value: "c1"}); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerAgreesWithAudit(t *testing.T) {
	ctx := context.Background()
	l, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	storeFixture(t, l, "testdata/penalty.csv", publicity.Penalty, t0)
	// Storing the same records again, and an older version of them, changes nothing.
	storeFixture(t, l, "testdata/penalty.csv", publicity.Penalty, t0)
	storeFixture(t, l, "testdata/penalty.csv", publicity.Penalty, t0.Add(-time.Hour))

	next, _ := workday.Default.AddWorkdays(asOf, 1)
	view := ledger.View{At: clock.NextDay(asOf), From: clock.YearStart(asOf)}
	figs, err := l.PublicityFigures(ctx, view, next)
	if err != nil {
		t.Fatal(err)
	}
	var auditIssues []publicity.IssueRecord
	audit, err := Run(ctx, "testdata/penalty.csv", Options{Kind: publicity.Penalty, From: view.From, AsOf: asOf,
		Issue: func(r publicity.IssueRecord) error {
			r.Row = 0
			auditIssues = append(auditIssues, r)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The records behind the figures are the same whether read from the file or the ledger.
	var ledgerIssues []publicity.IssueRecord
	if err := l.EachPublicityIssue(ctx, view, next, func(r publicity.IssueRecord) error {
		ledgerIssues = append(ledgerIssues, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	byKey := func(rs []publicity.IssueRecord) map[string]publicity.IssueRecord {
		m := map[string]publicity.IssueRecord{}
		for _, r := range rs {
			m[r.Issue+" "+r.ID] = r
		}
		return m
	}
	a, b := byKey(auditIssues), byKey(ledgerIssues)
	for k, r := range a {
		if lr, ok := b[k]; ok && r.DecidedOn == "" {
			lr.DecidedOn = "" // the ledger dates an unreadable decision the day the record arrived
			b[k] = lr
		}
	}
	if len(auditIssues) == 0 || !reflect.DeepEqual(a, b) || len(a) != len(auditIssues) {
		t.Errorf("the audit's records behind the figures %+v\nthe ledger's %+v", auditIssues, ledgerIssues)
	}
	if len(figs) != len(audit.Departments) {
		t.Fatalf("ledger has %d departments, audit %d", len(figs), len(audit.Departments))
	}
	for i, d := range audit.Departments {
		got := figs[i]
		got.Figures.UploadRatio, got.Figures.ComplianceRatio, got.Figures.TimelinessRatio = d.UploadRatio, d.ComplianceRatio, d.TimelinessRatio
		if got.Department != d.Department || got.Total != d.Total || got.Due != d.Due || got.Reported != d.Reported ||
			got.Compliant != d.Compliant || got.Timely != d.Timely || got.DueSoon != d.DueSoon {
			t.Errorf("ledger %+v\n audit %+v", got, d)
		}
		for rule, n := range d.ViolationsByRule {
			if got.ViolationsByRule[rule] != n {
				t.Errorf("%s %s: ledger %d, audit %d", d.Department, rule, got.ViolationsByRule[rule], n)
			}
		}
	}
	st, err := l.PublicityCodeStats(ctx, view)
	if err != nil || st != audit.USCC {
		t.Errorf("ledger codes %+v (%v), audit %+v", st, err, audit.USCC)
	}
	if c, _ := l.Cursor(ctx, "test", "penalty"); c != "c1" {
		t.Errorf("cursor = %q", c)
	}
	if n, _ := l.CountPublicity(ctx); n != 14 {
		t.Errorf("%d records stored, want 14", n)
	}
}

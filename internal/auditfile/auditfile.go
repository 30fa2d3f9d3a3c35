// Package auditfile audits a licence or penalty export file: it streams the file's records
// through a publicity.Auditor and hands each violation to a sink as it is found.
package auditfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/recfile"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// Options of one audit.
type Options struct {
	Kind      publicity.Kind
	From      time.Time // period start: records decided earlier are checked but not counted
	AsOf      time.Time
	Calendar  *workday.Calendar
	Allowed   map[string]bool
	MaxRecord int // CSV; recfile.DefaultMaxRecord when 0
	TempDir   string
	// Progress, when set, is called now and then with how far the file has been read.
	Progress func(done, total int64, unit string)
	// Violation, when set, receives every violation as it is found, and every code warning
	// (rule publicity.RuleCodeWarning), which is listed but never counted.
	Violation func(publicity.Violation) error
	// Issue, when set, receives every record counted in the period that is overdue, due
	// soon, late or faulty, once per issue, in file order.
	Issue func(publicity.IssueRecord) error
}

// ErrUnreadable wraps every failure to read the file (as opposed to findings in it).
var ErrUnreadable = errors.New("cannot read the file")

// Run audits path.
func Run(ctx context.Context, path string, o Options) (*publicity.Result, error) {
	schema := publicity.Schemas[o.Kind]
	dates := map[string]bool{}
	for _, f := range []string{publicity.FieldPenaltyDate, publicity.FieldPenaltyValid, publicity.FieldLicenceDate,
		publicity.FieldLicenceFrom, publicity.FieldLicenceTo, publicity.FieldReported, "公示截止期"} {
		dates[f] = true
	}
	r, err := recfile.Open(path, recfile.Options{MaxRecord: o.MaxRecord, DateColumns: dates})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer r.Close()
	header := publicity.NewHeader(r.Header())
	missing, err := schema.CheckHeader(header)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreadable, path, err)
	}
	idx, err := ledger.NewCodeIndex(o.TempDir)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	cal := o.Calendar
	if cal == nil {
		cal = workday.Default
	}
	a := publicity.NewAuditor(o.Kind, o.From, o.AsOf, cal, o.Allowed, idx)
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if o.Progress != nil {
				o.Progress(r.Progress())
			}
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnreadable, path, err)
		}
		rec := publicity.Record{Kind: o.Kind, Row: row.Line, Header: header, Values: row.Values}
		f := a.AddRecord(rec)
		if o.Issue != nil {
			for _, ir := range f.IssueRecords(rec) {
				if err := o.Issue(ir); err != nil {
					return nil, err
				}
			}
		}
		if o.Violation != nil {
			for _, v := range append(f.Assessment.Violations, a.Checker.CodeWarnings(rec)...) {
				if err := o.Violation(v); err != nil {
					return nil, err
				}
			}
		}
	}
	if o.Progress != nil {
		o.Progress(r.Progress())
	}
	res, err := a.Result()
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		res.Warnings = append(res.Warnings, "表头缺少必填列："+strings.Join(missing, "、"))
	}
	return res, nil
}

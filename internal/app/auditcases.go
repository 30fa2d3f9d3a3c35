package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/zh"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/recfile"
	"github.com/creditwatch/creditwatch/internal/scoring"
)

var caseDateColumns = map[string]bool{cases.FieldReceived: true, cases.FieldClosed: true, cases.FieldPenaltyDate: true, cases.FieldApplied: true}

// auditCases audits an objection or repair ledger file.
func auditCases(ctx context.Context, o AuditOptions, from, asOf time.Time) error {
	cal, err := calendar(o.Holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	opts := cases.DefaultOptions()
	opts.Calendar = cal
	if o.RepairRule != "" {
		if o.RepairRule != cases.Rule2019 && o.RepairRule != cases.Rule2023 {
			return exitErr(2, "--repair-rule: %q is not 2019 or 2023", o.RepairRule)
		}
		opts.RepairRule = o.RepairRule
	}
	objs, reps, err := readCases(ctx, o.File, o.Kind)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	c := &cases.Checker{Opts: opts, Now: clock.NextDay(asOf).Add(-time.Second),
		Period: cases.Period{From: from, To: clock.NextDay(asOf)}}
	sum, ofs, rfs := c.Summarize(objs, reps)
	obs := card.CaseObservations(sum, o.PublicityRecords, o.Kind == cases.KindObjection, o.Kind == cases.KindRepair)
	results := knownResults(obs)
	if o.Format == "json" {
		var findings any = rfs
		if o.Kind == cases.KindObjection {
			findings = ofs
		}
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"kind": o.Kind, "as_of": asOf.Format(time.DateOnly), "period_from": from.Format(time.DateOnly),
			"summary": sum, "indicators": rows(results), "cases": findings})
	}
	writeCasesText(o.Out, o, asOf, from, sum, results, ofs, rfs)
	return nil
}

func readCases(ctx context.Context, path, kind string) ([]cases.Objection, []cases.Repair, error) {
	r, err := recfile.Open(path, recfile.Options{DateColumns: caseDateColumns})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the file: %w", err)
	}
	defer r.Close()
	h := publicity.NewHeader(r.Header())
	idField := map[string]string{cases.KindObjection: cases.FieldObjectionID, cases.KindRepair: cases.FieldRepairID}[kind]
	if !h.Has(idField) {
		return nil, nil, fmt.Errorf("cannot read the file: %s: the header has no %s: not a %s ledger (wrong --kind?)", path, idField, kind)
	}
	var objs []cases.Objection
	var reps []cases.Repair
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return objs, reps, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read the file: %s: %w", path, err)
		}
		rec := publicity.Record{Header: h, Values: row.Values}
		get := func(k string) string { return rec.Get(k) }
		if kind == cases.KindObjection {
			objs = append(objs, cases.ParseObjection(get))
		} else {
			reps = append(reps, cases.ParseRepair(get))
		}
	}
}

func writeCasesText(out io.Writer, o AuditOptions, asOf, from time.Time, s cases.Summary, card []scoring.Result,
	ofs []cases.ObjectionFinding, rfs []cases.RepairFinding) {
	period := fmt.Sprintf("%s 至 %s", from.Format("2006-01-02"), asOf.Format("2006-01-02"))
	if o.Kind == cases.KindObjection {
		so := s.Objections
		fmt.Fprintf(out, "异议处理审核 · %s · 期间 %s\n\n", o.File, period)
		fmt.Fprintf(out, "异议 %d 件：期内办结 %d 件（其中有效 %d 件），平均办理 %.2f 个工作日；未办结 %d 件，其中已满4个工作日 %d 件\n",
			so.Total, so.ClosedInPeriod, so.Valid, so.MeanWorkdays, so.Open, so.Warnings)
		fmt.Fprintf(out, "结果未于办结当日同步“信用中国” %d 件；今日办结待同步 %d 件\n", so.SyncLate, so.SyncDue)
	} else {
		sr := s.Repairs
		fmt.Fprintf(out, "信用修复审核 · %s · 期间 %s\n\n", o.File, period)
		fmt.Fprintf(out, "修复 %d 件：期内办结 %d 件，按时 %d 件，超期 %d 件（含未办结已超期），不合规同意 %d 件；未办结 %d 件，即将超期 %d 件\n",
			sr.Total, sr.DecidedInPeriod, sr.OnTime, sr.Overdue, sr.NonCompliant, sr.Open, sr.DueSoon)
		fmt.Fprintf(out, "结果未于办结当日同步“信用中国” %d 件；今日办结待同步 %d 件\n", sr.SyncLate, sr.SyncDue)
	}
	fmt.Fprintln(out, "\n评分：")
	for _, r := range card {
		fmt.Fprintf(out, "  %s：%s（%s）\n", zh.IndicatorName(r), zh.Verdict(r), zh.ExplainZH(r))
	}
	var lines []string
	for _, f := range ofs {
		switch {
		case f.SyncLate:
			lines = append(lines, fmt.Sprintf("  %s 结果未于办结当日同步", f.ID))
		case f.Warning:
			lines = append(lines, fmt.Sprintf("  %s 已受理%d个工作日仍未办结", f.ID, f.Workdays))
		case f.Unknown != "":
			lines = append(lines, "  "+f.Unknown)
		}
		for _, p := range f.Problems {
			lines = append(lines, fmt.Sprintf("  %s [%s] %s", f.ID, p.Field, p.Message))
		}
	}
	for _, f := range rfs {
		if f.OverdueInPeriod {
			lines = append(lines, fmt.Sprintf("  %s 办理%d个工作日，超过3个工作日（%s起超期）", f.ID, f.Workdays, f.OverdueOn))
		}
		if f.Unknown != "" {
			lines = append(lines, "  "+f.Unknown)
		}
		if f.Approved && !f.Compliant {
			lines = append(lines, fmt.Sprintf("  %s 不合规：%s", f.ID, strings.Join(f.Reasons, "；")))
		}
		if f.SyncLate {
			lines = append(lines, fmt.Sprintf("  %s 结果未于办结当日同步", f.ID))
		}
		for _, p := range f.Problems {
			lines = append(lines, fmt.Sprintf("  %s [%s] %s", f.ID, p.Field, p.Message))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(out, "\n问题 %d 处：\n%s\n", len(lines), strings.Join(lines, "\n"))
	}
}

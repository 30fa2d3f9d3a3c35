package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/zh"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/creditwatch/creditwatch/internal/auditfile"
	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/scoring"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// AuditOptions are the audit subcommand's flags.
type AuditOptions struct {
	Kind       string
	AsOf       string // YYYY-MM-DD; today in Asia/Shanghai when empty
	Format     string
	AllowCodes string // file of whitelisted codes, one per line
	Holidays   string // holiday override file
	File       string
	// Case audits (objection, repair).
	From             string // period start; 1 January of the as-of year when empty
	PublicityRecords int    // records published in the period, for the objection share; -1 unknown
	RepairRule       string
	Out              io.Writer
	Err              *os.File // progress goes here when it is a terminal
}

// Audit audits an export file. It fails with exit code 2 when the file cannot be read, and
// succeeds whatever the file holds.
func Audit(ctx context.Context, o AuditOptions) error {
	from, asOf, err := auditPeriod(o.From, o.AsOf)
	if err != nil {
		return err
	}
	if o.Kind == cases.KindObjection || o.Kind == cases.KindRepair {
		return auditCases(ctx, o, from, asOf)
	}
	kind, err := publicity.ParseKind(o.Kind)
	if err != nil {
		return exitErr(2, "--kind: %q is not penalty, licence, objection or repair", o.Kind)
	}
	cal, err := calendar(o.Holidays)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	allowed, err := readAllowList(o.AllowCodes)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	spill, err := os.CreateTemp("", "creditwatch-violations-*.jsonl")
	if err != nil {
		return err
	}
	defer os.Remove(spill.Name())
	defer spill.Close()
	w := bufio.NewWriter(spill)
	enc := json.NewEncoder(w)
	var nViolations, nWarnings int
	var sample []publicity.Violation
	issues, err := newIssueSpill()
	if err != nil {
		return err
	}
	defer issues.close()
	opts := auditfile.Options{Kind: kind, From: from, AsOf: asOf, Calendar: cal, Allowed: allowed, Issue: issues.add,
		Violation: func(v publicity.Violation) error {
			if v.Rule == publicity.RuleCodeWarning {
				nWarnings++
			} else {
				nViolations++
			}
			if len(sample) < 30 {
				sample = append(sample, v)
			}
			return enc.Encode(v)
		}}
	bar := progress(o.Err)
	if bar != nil {
		opts.Progress = bar
	}
	res, err := auditfile.Run(ctx, o.File, opts)
	if bar != nil {
		fmt.Fprint(o.Err, "\r\033[K")
	}
	if err != nil {
		if errors.Is(err, auditfile.ErrUnreadable) {
			return &ExitError{Code: 2, Err: err}
		}
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spilling violations: %w", err)
	}
	if err := issues.flush(); err != nil {
		return err
	}
	results := auditCard(res)
	switch o.Format {
	case "json":
		return writeAuditJSON(o.Out, res, results, spill, issues)
	default:
		return writeAuditText(o.Out, o.File, res, results, nViolations, nWarnings, sample, issues)
	}
}

// auditPeriod reads --from and --as-of: the audit date defaults to today in Asia/Shanghai,
// the period start to 1 January of the audit date's year.
func auditPeriod(fromFlag, asOfFlag string) (from, asOf time.Time, err error) {
	asOf = clock.Day(time.Now())
	if asOfFlag != "" {
		if asOf, err = publicity.ParseDate(asOfFlag); err != nil {
			return from, asOf, exitErr(2, "--as-of: %w", err)
		}
	}
	from = clock.YearStart(asOf)
	if fromFlag != "" {
		if from, err = publicity.ParseDate(fromFlag); err != nil {
			return from, asOf, exitErr(2, "--from: %w", err)
		}
		if from.After(asOf) {
			return from, asOf, exitErr(2, "--from %s is after --as-of %s: the period would be empty", clock.Date(from), clock.Date(asOf))
		}
	}
	return from, asOf, nil
}

func calendar(overrides string) (*workday.Calendar, error) {
	if overrides == "" {
		return workday.Default, nil
	}
	o, err := workday.LoadOverrides(overrides)
	if err != nil {
		return nil, err
	}
	return workday.New(o), nil
}

func readAllowList(path string) (map[string]bool, error) {
	out := map[string]bool{}
	if path == "" {
		return out, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --allow-codes: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if code, _, _ := strings.Cut(strings.TrimSpace(line), "#"); strings.TrimSpace(code) != "" {
			out[strings.TrimSpace(code)] = true
		}
	}
	return out, nil
}

// progress returns a progress callback drawing a bar on f when f is a terminal.
func progress(f *os.File) func(done, total int64, unit string) {
	if f == nil || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int64, unit string) {
		if bar == nil {
			if unit == "bytes" && total > 0 {
				bar = progressbar.DefaultBytes(total, "审核中")
			} else {
				bar = progressbar.Default(-1, "审核中（行）")
			}
		}
		bar.Set64(done)
	}
}

// auditCard scores what an audit can observe: the publicity gate and the code error rate.
func auditCard(res *publicity.Result) []scoring.Result {
	p := &card.Publicity{Watched: true, Codes: res.USCC,
		Departments: []ledger.DepartmentFigures{{Kind: res.Kind, Figures: res.Figures}}}
	if res.DeadlineUnknown > 0 {
		p.Unknown = fmt.Sprintf("%d条记录的上报期限落在缺少节假日数据的年份，请用 --holidays 补充", res.DeadlineUnknown)
	}
	return knownResults(card.PublicityObservations(p))
}

// knownResults are the catalogue's rows scored from obs, those with an observation only.
func knownResults(obs map[string]scoring.Observation) []scoring.Result {
	var out []scoring.Result
	for _, r := range scoring.Card(scoring.MustDefault(), obs, scoring.Options{}) {
		if r.Known || r.Input.Reason != "" {
			out = append(out, r)
		}
	}
	return out
}

func writeAuditJSON(out io.Writer, res *publicity.Result, card []scoring.Result, spill *os.File, issues *issueSpill) error {
	head, err := json.Marshal(struct {
		*publicity.Result
		Indicators []cardRow `json:"indicators"`
	}{res, rows(card)})
	if err != nil {
		return err
	}
	// The violations follow from the spill file, so that a file with millions of them is
	// printed without holding them in memory.
	bw := bufio.NewWriter(out)
	bw.Write(head[:len(head)-1])
	bw.WriteByte(',')
	if err := issues.writeJSON(bw); err != nil {
		return err
	}
	bw.WriteString(`,"violations":[`)
	if _, err := spill.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(spill)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for first := true; sc.Scan(); first = false {
		if !first {
			bw.WriteByte(',')
		}
		bw.Write(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return err
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func pct(v float64) string { return zh.Percent(v) }

func writeAuditText(out io.Writer, file string, res *publicity.Result, results []scoring.Result, n, nWarnings int,
	sample []publicity.Violation, issues *issueSpill) error {
	kind := publicity.KindNamesZH[res.Kind]
	fmt.Fprintf(out, "“双公示”%s数据审核 · %s · 考核期间 %s 至 %s\n\n", kind, file, res.From, res.AsOf)
	fmt.Fprintf(out, "期内决定的记录 %d 条：应报 %d，已上报 %d，合规 %d，及时 %d，即将到期未报 %d\n", res.Total, res.Due, res.Reported, res.Compliant, res.Timely, res.DueSoon)
	if res.OutsidePeriod > 0 {
		fmt.Fprintf(out, "另有 %d 条记录的决定日期不在考核期间内：已检查并列出问题，但不计入比率\n", res.OutsidePeriod)
	}
	fmt.Fprintf(out, "上报率 %s · 合规率 %s · 及时率 %s\n", pct(res.UploadRatio), pct(res.ComplianceRatio), pct(res.TimelinessRatio))
	fmt.Fprintf(out, "统一社会信用代码 %d 个：无效 %d，重码 %d，重错率 %s\n\n", res.USCC.Distinct, res.USCC.Invalid, res.USCC.Duplicated, zh.Percent(res.USCCErrorRate))
	fmt.Fprintln(out, "评分：")
	for _, r := range results {
		fmt.Fprintf(out, "  %s：%s（%s）\n", zh.IndicatorName(r), zh.Verdict(r), zh.ExplainZH(r))
	}
	fmt.Fprintln(out, "\n按数据来源单位：")
	for _, d := range res.Departments {
		fmt.Fprintf(out, "  %s：记录 %d，应报 %d，已报 %d，合规 %d，及时 %d；上报率 %s，合规率 %s，及时率 %s\n", d.Department,
			d.Total, d.Due, d.Reported, d.Compliant, d.Timely, pct(d.UploadRatio), pct(d.ComplianceRatio), pct(d.TimelinessRatio))
	}
	issues.writeText(out, publicity.DefaultDeadlineWorkdays)
	if nWarnings > 0 {
		fmt.Fprintf(out, "\n代码提示 %d 处（登记管理部门与机构类别组合或行政区划不在已知表中；代码有效，不计入重错率）\n", nWarnings)
	}
	if n+nWarnings > 0 {
		fmt.Fprintf(out, "\n问题 %d 处，按规则：\n", n)
		rules := make([]string, 0, len(res.ViolationsByRule))
		for r := range res.ViolationsByRule {
			rules = append(rules, r)
		}
		sort.Slice(rules, func(i, j int) bool {
			a, b := res.ViolationsByRule[rules[i]], res.ViolationsByRule[rules[j]]
			return a > b || a == b && rules[i] < rules[j]
		})
		for _, r := range rules {
			fmt.Fprintf(out, "  %s（%s）：%d\n", publicity.RuleNamesZH[r], r, res.ViolationsByRule[r])
		}
		fmt.Fprintf(out, "\n前 %d 处：\n", len(sample))
		for _, v := range sample {
			fmt.Fprintf(out, "  第%d行 %s [%s] %s\n", v.Row, v.RecordID, v.Field, v.Message)
		}
		if n > len(sample) {
			fmt.Fprintln(out, "  ……（--format json 列出全部）")
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "\n注意：%s\n", w)
	}
	return nil
}

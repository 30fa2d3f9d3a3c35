package creditreport

import (
	"io"
	"strings"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// Request is what the check compares a report with.
type Request struct {
	Code      string  // the 统一社会信用代码 the report was asked for
	KnownName string  // the name creditwatch holds for the code; "" when unknown (not checked)
	Edition   Edition // from EditionByName
}

// CheckReader reads a body (see Read) and checks it (see Check).
func CheckReader(r io.Reader, contentType, contentEncoding string, req Request, lim Limits) (Result, error) {
	doc, err := Read(r, contentType, contentEncoding, lim)
	if err != nil {
		return Result{}, err
	}
	return Check(doc, req)
}

// Check judges a report's text for the requested code. It returns every reason the report
// does not conform; a text that is not a credit report at all is a *ReadError of class
// not_report.
func Check(doc *Document, req Request) (Result, error) {
	ls := lines(doc.Text)
	for i := range ls {
		ls[i] = norm(ls[i])
	}
	flat := strings.Join(ls, "\n")
	res := Result{Format: doc.Format, Edition: req.Edition.Name}
	order, notePos := sectionPositions(ls, req.Edition)
	res.Found.ReportNumber = firstMatch(numberLabel, flat)
	res.Found.IssueDate = firstMatch(dateLabel, flat)
	if len(order) == 0 && notePos < 0 && res.Found.ReportNumber == "" &&
		!strings.Contains(flat, "信用报告") && !strings.Contains(flat, "信用信息报告") {
		return Result{}, readErr(ClassNotReport, "checking report for %s: no section, report number or title of a credit report", req.Code)
	}
	for _, s := range order {
		res.Found.Sections = append(res.Found.Sections, req.Edition.Sections[s.section])
	}
	res.Reasons = append(res.Reasons, sectionReasons(order, notePos, req.Edition)...)
	res.Reasons = append(res.Reasons, codeReasons(flat, ls, order, req, &res.Found)...)
	if res.Found.ReportNumber == "" {
		res.Reasons = append(res.Reasons, reason(ReasonMissingNumber, "报告缺少报告编号"))
	}
	if res.Found.IssueDate == "" {
		res.Reasons = append(res.Reasons, reason(ReasonMissingDate, "报告缺少报告日期（出具日期）"))
	}
	res.Reasons = append(res.Reasons, nameReasons(flat, req, &res.Found)...)
	res.Conforming = len(res.Reasons) == 0
	return res, nil
}

// placed is a section's first heading: which section, on which line.
type placed struct{ section, line int }

// sectionPositions finds each section's first heading, in the order of the report, and
// the line of the note (-1 when absent).
func sectionPositions(ls []string, e Edition) ([]placed, int) {
	names := make([]string, len(e.Sections))
	for i, s := range e.Sections {
		names[i] = norm(s)
	}
	note := []string{norm(e.Note)}
	seen := map[int]bool{}
	var order []placed
	notePos := -1
	for i, l := range ls {
		if s := headingOf(l, names); s >= 0 && !seen[s] {
			seen[s] = true
			order = append(order, placed{s, i})
		}
		if notePos < 0 && strings.HasPrefix(numbering.ReplaceAllString(l, ""), note[0]) {
			notePos = i
		}
	}
	return order, notePos
}

func sectionReasons(order []placed, notePos int, e Edition) []Reason {
	var out []Reason
	found := map[int]bool{}
	for _, p := range order {
		found[p.section] = true
	}
	for i, s := range e.Sections {
		if !found[i] {
			out = append(out, reason(ReasonMissingSection, "缺少「%s」部分（%s年版标准第%d部分）", s, e.Name, i+1))
		}
	}
	keep := inOrder(order)
	for k, p := range order {
		if !keep[k] {
			out = append(out, reason(ReasonSectionOrder, "「%s」的位置不符合标准顺序：标准为第%d部分，报告中排在第%d位",
				e.Sections[p.section], p.section+1, k+1))
		}
	}
	if notePos < 0 {
		out = append(out, reason(ReasonMissingNote, "缺少「%s」", e.Note))
	}
	return out
}

// inOrder marks the sections of a longest run in the standard's order (a longest
// increasing subsequence); the others are out of place. Sections are few: O(n²) is fine.
func inOrder(order []placed) []bool {
	n := len(order)
	best, prev := make([]int, n), make([]int, n)
	end := -1
	for i := range order {
		best[i], prev[i] = 1, -1
		for j := 0; j < i; j++ {
			if order[j].section < order[i].section && best[j]+1 > best[i] {
				best[i], prev[i] = best[j]+1, j
			}
		}
		if end < 0 || best[i] > best[end] {
			end = i
		}
	}
	keep := make([]bool, n)
	for i := end; i >= 0; i = prev[i] {
		keep[i] = true
	}
	return keep
}

func codeReasons(flat string, ls []string, order []placed, req Request, f *Found) []Reason {
	asked := strings.ToUpper(strings.TrimSpace(req.Code))
	// The first code labelled as the subject's, and the first in the registration section
	// when the report has one: both must be the code asked for.
	var codes []string
	if c := subjectCodes(flat, 0); len(c) > 0 {
		codes = append(codes, c[0])
	}
	for _, p := range order {
		if p.section == 0 {
			if c := subjectCodes(flat, lineOffset(ls, p.line)); len(c) > 0 {
				codes = append(codes, c[0])
			}
			break
		}
	}
	if len(codes) == 0 {
		return []Reason{reason(ReasonMissingCode, "报告中未找到统一社会信用代码")}
	}
	f.Code = codes[0]
	for _, c := range codes {
		if c != asked {
			f.Code = c
			return []Reason{reason(ReasonWrongCode, "报告的统一社会信用代码为%s，与查询的%s不一致", c, asked)}
		}
	}
	return nil
}

func lineOffset(ls []string, line int) int {
	off := 0
	for _, l := range ls[:line] {
		off += len(l) + 1
	}
	return off
}

func nameReasons(flat string, req Request, f *Found) []Reason {
	f.Name = subjectName(flat)
	if req.KnownName == "" {
		return nil
	}
	if f.Name == "" {
		return []Reason{reason(ReasonMissingName, "报告中未找到企业名称（台账记录为「%s」）", req.KnownName)}
	}
	if normName(f.Name) != normName(req.KnownName) {
		return []Reason{reason(ReasonWrongName, "报告中的企业名称「%s」与台账记录的「%s」不一致", f.Name, req.KnownName)}
	}
	return nil
}

func normName(s string) string { return norm(publicity.NormaliseName(s)) }

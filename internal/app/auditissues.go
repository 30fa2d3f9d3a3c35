package app

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// issueSampleSize is how many records of each issue the text output names; JSON names all.
const issueSampleSize = 20

// issueSpill keeps the records behind each issue of an audit: every one in a temporary file
// per issue (a file can have millions), the first few in memory for the text output.
type issueSpill struct {
	files  map[string]*os.File
	bufs   map[string]*bufio.Writer
	counts map[string]int
	sample map[string][]publicity.IssueRecord
}

func newIssueSpill() (*issueSpill, error) {
	s := &issueSpill{files: map[string]*os.File{}, bufs: map[string]*bufio.Writer{}, counts: map[string]int{},
		sample: map[string][]publicity.IssueRecord{}}
	for _, is := range publicity.IssueOrder {
		f, err := os.CreateTemp("", "creditwatch-"+is+"-*.jsonl")
		if err != nil {
			s.close()
			return nil, err
		}
		s.files[is], s.bufs[is] = f, bufio.NewWriter(f)
	}
	return s, nil
}

func (s *issueSpill) add(r publicity.IssueRecord) error {
	s.counts[r.Issue]++
	if len(s.sample[r.Issue]) < issueSampleSize {
		s.sample[r.Issue] = append(s.sample[r.Issue], r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w := s.bufs[r.Issue]
	w.Write(b)
	return w.WriteByte('\n')
}

func (s *issueSpill) flush() error {
	for _, w := range s.bufs {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("spilling records: %w", err)
		}
	}
	return nil
}

func (s *issueSpill) close() {
	for _, f := range s.files {
		f.Close()
		os.Remove(f.Name())
	}
}

// writeJSON writes "issues": {"counts": {...}, "records": {"overdue": [...], ...}}.
func (s *issueSpill) writeJSON(bw *bufio.Writer) error {
	counts, err := json.Marshal(s.countsAll())
	if err != nil {
		return err
	}
	bw.WriteString(`"issues":{"counts":`)
	bw.Write(counts)
	bw.WriteString(`,"records":{`)
	for i, is := range publicity.IssueOrder {
		if i > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, "%q:[", is)
		if err := copyLines(bw, s.files[is]); err != nil {
			return err
		}
		bw.WriteByte(']')
	}
	bw.WriteString(`}}`)
	return nil
}

func (s *issueSpill) countsAll() map[string]int {
	out := map[string]int{}
	for _, is := range publicity.IssueOrder {
		out[is] = s.counts[is]
	}
	return out
}

// copyLines writes a file's JSON lines as the elements of an array.
func copyLines(bw *bufio.Writer, f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for first := true; sc.Scan(); first = false {
		if !first {
			bw.WriteByte(',')
		}
		bw.Write(sc.Bytes())
	}
	return sc.Err()
}

// writeText names the first records of each issue.
func (s *issueSpill) writeText(out io.Writer, deadlineDays int) {
	for _, is := range publicity.IssueOrder {
		n := s.counts[is]
		if n == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s %d 条（%s）：\n", publicity.IssueNamesZH[is], n, issueRuleZH(is, deadlineDays))
		for _, r := range s.sample[is] {
			fmt.Fprintf(out, "  第%d行 %s · %s · %s\n", r.Row, r.ID, r.Department, issueDetailZH(r))
		}
		if n > len(s.sample[is]) {
			fmt.Fprintf(out, "  ……另有 %d 条（--format json 列出全部）\n", n-len(s.sample[is]))
		}
	}
}

// issueRuleZH says which rule an issue breaks.
func issueRuleZH(issue string, deadlineDays int) string {
	switch issue {
	case publicity.IssueFaulty:
		return "数据不符合“双公示”数据标准，须更正后重新上报"
	case publicity.IssueDueSoon:
		return fmt.Sprintf("决定之日起 %d 个工作日内上报，期限为今日或下一个工作日", deadlineDays)
	}
	return fmt.Sprintf("决定之日起 %d 个工作日内上报", deadlineDays)
}

// issueDetailZH is what a person needs to find and fix one record.
func issueDetailZH(r publicity.IssueRecord) string {
	dash := func(s string) string {
		if s == "" {
			return "无法确定"
		}
		return s
	}
	parts := []string{"决定日期 " + dash(r.DecidedOn), "上报期限 " + dash(r.Deadline)}
	if r.ReportedOn != "" {
		parts = append(parts, "上报日期 "+r.ReportedOn)
	}
	if len(r.Rules) > 0 {
		names := make([]string, len(r.Rules))
		for i, rule := range r.Rules {
			names[i] = publicity.RuleNamesZH[rule]
		}
		parts = append(parts, "问题："+strings.Join(names, "、"))
	}
	return strings.Join(parts, "，")
}

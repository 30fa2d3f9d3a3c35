package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The audit names the records behind its late, due-soon and faulty counts, in text and in
// JSON, and the JSON lists them all.
func TestAuditListsTheRecordsBehindTheCounts(t *testing.T) {
	run := func(format string) string {
		var out strings.Builder
		err := Audit(context.Background(), AuditOptions{Kind: "penalty", AsOf: "2026-11-27", Format: format,
			File: "../auditfile/testdata/penalty.csv", Out: &out, PublicityRecords: -1})
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	var res struct {
		Due, Reported, Compliant, Timely int
		Issues                           struct {
			Counts  map[string]int `json:"counts"`
			Records map[string][]struct {
				Issue, Kind, ID, Department string
				DecidedOn                   string   `json:"decided_on"`
				Deadline                    string   `json:"deadline"`
				Rules                       []string `json:"rules"`
				Row                         int      `json:"row"`
			} `json:"records"`
		} `json:"issues"`
		Violations []json.RawMessage `json:"violations"`
	}
	out := run("json")
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	want := map[string]int{"overdue": 1, "due_soon": 1, "late": 2, "faulty": 4}
	for is, n := range want {
		if res.Issues.Counts[is] != n || len(res.Issues.Records[is]) != n {
			t.Errorf("%s: counted %d, listed %d, want %d", is, res.Issues.Counts[is], len(res.Issues.Records[is]), n)
		}
	}
	// The lists are the figures' shortfalls.
	if res.Due-res.Reported != want["overdue"] || res.Reported-res.Timely != want["late"] || res.Reported-res.Compliant != want["faulty"] {
		t.Errorf("figures %d %d %d %d do not match the lists %v", res.Due, res.Reported, res.Compliant, res.Timely, want)
	}
	if r := res.Issues.Records["due_soon"]; len(r) == 1 && (r[0].ID != "濮应急罚〔2026〕306号" || r[0].Deadline != "2026-11-30" ||
		r[0].Department != "濮阳市应急管理局" || r[0].Row != 14) {
		t.Errorf("due soon: %+v", r[0])
	}
	if r := res.Issues.Records["faulty"]; len(r) == 4 && (r[1].ID != "濮市监罚〔2026〕202号" || len(r[1].Rules) != 1 || r[1].Rules[0] != "bad_code") {
		t.Errorf("faulty: %+v", r)
	}
	if len(res.Violations) != 7 {
		t.Errorf("%d violations after the issues, want 7", len(res.Violations))
	}
	text := run("text")
	for _, line := range []string{
		"逾期未报 1 条（决定之日起 7 个工作日内上报）：\n  第12行 濮应急罚〔2026〕304号 · 濮阳市应急管理局 · 决定日期 2026-07-01，上报期限 2026-07-10\n",
		"即将到期未报 1 条（决定之日起 7 个工作日内上报，期限为今日或下一个工作日）：\n  第14行 濮应急罚〔2026〕306号 · 濮阳市应急管理局 · 决定日期 2026-11-19，上报期限 2026-11-30\n",
		"  第4行 濮环罚〔2026〕103号 · 濮阳市生态环境局 · 决定日期 2026-09-30，上报期限 2026-10-15，上报日期 2026-10-16\n",
		"  第6行 濮市监罚〔2026〕202号 · 濮阳市市场监管局 · 决定日期 2026-05-06，上报期限 2026-05-14，上报日期 2026-05-08，问题：统一社会信用代码无效\n",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("the text output lacks\n%s\n%s", line, text)
		}
	}
}

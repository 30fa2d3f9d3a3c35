package main

import (
	"encoding/json"
	"strings"
	"testing"
)

type caseSummary struct {
	Objections map[string]any
	Repairs    map[string]any
	Problems   int `json:"cases_with_unreadable_fields"`
}

func TestAuditCasesCommand(t *testing.T) {
	type indicator struct {
		ID     string
		Points *float64
	}
	tests := map[string]struct {
		kind, file string
		points     map[string]float64
		summary    func(s caseSummary) string
		text       []string
	}{
		"objections": {kind: "objection", file: "../../internal/cases/testdata/objections.csv",
			points: map[string]float64{"objection_handling_time": 1.6, "repair_sync": 0, "publicity_objection_share": 2},
			summary: func(s caseSummary) string {
				o := s.Objections
				if o["closed_in_period"] != 3.0 || o["valid_in_period"] != 1.0 || o["early_warnings"] != 1.0 || o["sync_late"] != 1.0 {
					return "objections summary wrong"
				}
				return ""
			},
			text: []string{"期内办结 3 件（其中有效 1 件），平均办理 5.33 个工作日", "YY003 结果未于办结当日同步", "YY006 [收到日期] 日期“2026-13-01”无法识别"}},
		"repairs": {kind: "repair", file: "../../internal/cases/testdata/repairs.csv",
			points: map[string]float64{"repair_timeliness": 1, "repair_compliance": 0, "repair_sync": 1},
			summary: func(s caseSummary) string {
				r := s.Repairs
				if r["decided_in_period"] != 5.0 || r["on_time"] != 4.0 || r["overdue"] != 1.0 || r["non_compliant"] != 2.0 || r["due_soon"] != 1.0 {
					return "repairs summary wrong"
				}
				return ""
			},
			text: []string{"XF002 不合规：最短公示期未满（2026-04-15前不得修复）", "XF003 办理4个工作日，超过3个工作日", "XF006 不合规：未作出信用承诺"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := []string{"audit", "--kind", tc.kind, "--as-of", "2026-11-27", "--publicity-records", "200000"}
			out, stderr, code := runCLI(t, append(args, "--format", "json", tc.file)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res struct {
				Summary    caseSummary
				Indicators []indicator
				Cases      []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if msg := tc.summary(res.Summary); msg != "" {
				t.Errorf("%s: %v", msg, res.Summary)
			}
			got := map[string]float64{}
			for _, ind := range res.Indicators {
				if ind.Points != nil {
					got[ind.ID] = *ind.Points
				}
			}
			for id, want := range tc.points {
				if p, ok := got[id]; !ok || p != want {
					t.Errorf("%s = %v (present %t), want %v", id, p, ok, want)
				}
			}
			if len(res.Cases) != 6 {
				t.Errorf("%d case findings, want 6", len(res.Cases))
			}
			text, _, _ := runCLI(t, append(args, tc.file)...)
			for _, want := range tc.text {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
		})
	}
	if _, stderr, code := runCLI(t, "audit", "--kind", "repair", "../../internal/cases/testdata/objections.csv"); code != 2 || !strings.Contains(stderr, "the header has no 修复编号") {
		t.Errorf("wrong kind: exit %d %q", code, stderr)
	}
}

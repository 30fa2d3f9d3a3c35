package publicity

import (
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

var asOf = time.Date(2026, 11, 27, 0, 0, 0, 0, clock.Shanghai)

// goodPenalty is a compliant penalty record; each case below breaks one thing.
func goodPenalty() map[string]string {
	return map[string]string{
		FieldSubjectName: "濮阳市恒信化工有限公司", FieldSubjectType: SubjectOrg, FieldUSCC: "91410900MA44XY7K9P", FieldLegalRep: "王建国",
		FieldPenaltyNo: "濮环罚〔2026〕101号", "违法行为类型": "环境违法", "违法事实": "未按规定设置污染防治设施", "处罚依据": "《大气污染防治法》",
		FieldPenaltyCategory: "罚款；警告", "处罚内容": "罚款叁万元", FieldFine: "3", FieldPenaltyDate: "2026-09-01",
		FieldPenaltyValid: "2027-09-01", "处罚机关": "濮阳市生态环境局", FieldPenaltyOrgCode: "11410900005558011R",
		FieldSource: "濮阳市生态环境局", FieldSourceCode: "11410900005558011R",
	}
}

func record(kind Kind, fields map[string]string) Record {
	names := make([]string, 0, len(fields))
	vals := make([]string, 0, len(fields))
	for k, v := range fields {
		names = append(names, k)
		vals = append(vals, v)
	}
	return Record{Kind: kind, Row: 2, Header: NewHeader(names), Values: vals}
}

func TestCheckPenaltyRules(t *testing.T) {
	tests := map[string]struct {
		edit  func(map[string]string)
		rule  string
		field string
	}{
		"compliant":             {edit: func(map[string]string) {}},
		"missing field":         {edit: func(f map[string]string) { f["处罚依据"] = " " }, rule: RuleMissingField, field: "处罚依据"},
		"bad date":              {edit: func(f map[string]string) { f[FieldPenaltyDate] = "2026.09.01" }, rule: RuleBadDate, field: FieldPenaltyDate},
		"future date":           {edit: func(f map[string]string) { f[FieldPenaltyDate] = "2026-11-28" }, rule: RuleFutureDate, field: FieldPenaltyDate},
		"validity before":       {edit: func(f map[string]string) { f[FieldPenaltyValid] = "2026-08-31" }, rule: RuleDateOrder, field: FieldPenaltyValid},
		"amount not a number":   {edit: func(f map[string]string) { f[FieldFine] = "三万" }, rule: RuleBadAmount, field: FieldFine},
		"amount infinite":       {edit: func(f map[string]string) { f[FieldConfiscated] = "Inf" }, rule: RuleBadAmount, field: FieldConfiscated},
		"bad category":          {edit: func(f map[string]string) { f[FieldPenaltyCategory] = "罚款,拘役" }, rule: RuleBadCategory, field: FieldPenaltyCategory},
		"bad subject type":      {edit: func(f map[string]string) { f[FieldSubjectType] = "企业" }, rule: RuleBadSubjectType, field: FieldSubjectType},
		"org without code":      {edit: func(f map[string]string) { delete(f, FieldUSCC) }, rule: RuleMissingCode, field: FieldUSCC},
		"org without legal rep": {edit: func(f map[string]string) { f[FieldLegalRep] = "" }, rule: RuleMissingLegalRep, field: FieldLegalRep},
		"person without id": {edit: func(f map[string]string) {
			f[FieldSubjectType], f[FieldUSCC], f[FieldLegalRep] = SubjectPerson, "", ""
		}, rule: RuleMissingID, field: FieldIDNumber},
		"person with bad id": {edit: func(f map[string]string) {
			f[FieldSubjectType], f[FieldUSCC], f[FieldIDType], f[FieldIDNumber] = SubjectPerson, "", "居民身份证", "110105194912310021"
		}, rule: RuleBadIDNumber, field: FieldIDNumber},
		"person with passport": {edit: func(f map[string]string) {
			f[FieldSubjectType], f[FieldUSCC], f[FieldIDType], f[FieldIDNumber] = SubjectPerson, "", "护照", "E12345678"
		}},
		"bad authority code":  {edit: func(f map[string]string) { f[FieldPenaltyOrgCode] = "11410900005558011S" }, rule: RuleBadCode, field: FieldPenaltyOrgCode},
		"whitelisted code":    {edit: func(f map[string]string) { f[FieldUSCC] = "91350211M0000XUF46" }},
		"chinese date format": {edit: func(f map[string]string) { f[FieldPenaltyDate] = "2026年9月1日" }},
	}
	c := &Checker{AsOf: asOf, Allowed: map[string]bool{"91350211M0000XUF46": true}}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := goodPenalty()
			tc.edit(f)
			vs := c.Check(record(Penalty, f))
			if tc.rule == "" {
				if len(vs) != 0 {
					t.Fatalf("violations on a compliant record: %+v", vs)
				}
				return
			}
			if len(vs) != 1 || vs[0].Rule != tc.rule || vs[0].Field != tc.field || vs[0].RecordID != "濮环罚〔2026〕101号" || vs[0].Message == "" {
				t.Errorf("violations = %+v, want one %s on %s", vs, tc.rule, tc.field)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]string{"2026-09-01": "2026-09-01", "2026/9/1": "2026-09-01", "2026年9月1日": "2026-09-01",
		"2024-02-29": "2024-02-29", "2026-02-29": "", "2026-09-01 10:00": "", "2026/09-01": "", "": "", "20260901": ""} {
		got, err := ParseDate(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParseDate(%q) = %v, want an error", in, got)
			}
			continue
		}
		if err != nil || got.Format(time.DateOnly) != want || got.Location() != clock.Shanghai {
			t.Errorf("ParseDate(%q) = %v, %v; want %s in Asia/Shanghai", in, got, err, want)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	for a, b := range map[string]string{
		"濮阳县金堤物流有限公司（濮阳）": "濮阳县金堤物流有限公司(濮阳)",
		" 濮阳市ＡＢＣ商贸有限公司 ":  "濮阳市ABC商贸有限公司",
		"濮阳市【恒信】化工":       "濮阳市(恒信)化工",
	} {
		if NormaliseName(a) != NormaliseName(b) {
			t.Errorf("%q and %q normalise differently: %q vs %q", a, b, NormaliseName(a), NormaliseName(b))
		}
	}
	if NormaliseName("濮阳市龙都建材有限公司") == NormaliseName("濮阳市龙都商贸有限公司") {
		t.Error("different names normalise alike")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-09-01", "2026/9/1", "2026年9月1日", "0000-00-00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && (d.Year() < 1949 || d.Year() > 2100) {
			t.Fatalf("%q parsed to %v", s, d)
		}
	})
}

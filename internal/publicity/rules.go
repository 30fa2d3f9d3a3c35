package publicity

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/codes"
)

// Rule identifiers; a bounded set, used as metric labels.
const (
	RuleMissingField    = "missing_field"
	RuleBadDate         = "bad_date"
	RuleFutureDate      = "future_date"
	RuleDateOrder       = "date_order"
	RuleBadAmount       = "bad_amount"
	RuleBadCategory     = "bad_category"
	RuleBadSubjectType  = "bad_subject_type"
	RuleMissingCode     = "missing_code"
	RuleMissingLegalRep = "missing_legal_rep"
	RuleMissingID       = "missing_id"
	RuleBadCode         = "bad_code"
	RuleBadIDNumber     = "bad_id_number"
)

// Rules lists every rule, for exporting zeros.
var Rules = []string{RuleMissingField, RuleBadDate, RuleFutureDate, RuleDateOrder, RuleBadAmount, RuleBadCategory,
	RuleBadSubjectType, RuleMissingCode, RuleMissingLegalRep, RuleMissingID, RuleBadCode, RuleBadIDNumber}

// Violation is one broken rule of one record.
type Violation struct {
	Row      int    `json:"row"`
	RecordID string `json:"record_id"`
	Field    string `json:"field"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// Checker validates records. Allowed codes are known codes that fail the checksum (early
// pilot codes) which the office has whitelisted.
type Checker struct {
	AsOf    time.Time
	Allowed map[string]bool
}

// Check returns the record's violations of the record rules (docs/domain.md, "Double publicity").
func (c *Checker) Check(r Record) []Violation {
	s := Schemas[r.Kind]
	var out []Violation
	add := func(field, rule, format string, a ...any) {
		out = append(out, Violation{Row: r.Row, RecordID: r.ID(), Field: field, Rule: rule, Message: fmt.Sprintf(format, a...)})
	}
	for _, f := range s.Mandatory {
		if r.Get(f) == "" {
			add(f, RuleMissingField, "必填字段“%s”为空", f)
		}
	}
	c.checkSubject(r, add)
	c.checkDates(r, s, add)
	for _, f := range s.Amounts {
		if v := r.Get(f); v != "" {
			if n, err := strconv.ParseFloat(v, 64); err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				add(f, RuleBadAmount, "金额“%s”不是非负数", v)
			}
		}
	}
	c.checkCategory(r, add)
	for _, f := range s.CodeColumns {
		v := r.Get(f)
		if v == "" || c.Allowed[v] {
			continue
		}
		if err := codes.USCC(v); err != nil {
			add(f, RuleBadCode, "统一社会信用代码“%s”无效：%s", v, reasonZH(err))
		}
	}
	return out
}

// RuleCodeWarning marks a code that is valid but unusual (a registration department and
// category pair outside the official tables, or an unknown administrative division): listed
// so that the office can look, never counted in a rate.
const RuleCodeWarning = "code_warning"

// CodeWarnings lists the unusual but valid codes of a record, with rule RuleCodeWarning.
func (c *Checker) CodeWarnings(r Record) []Violation {
	var out []Violation
	for _, f := range Schemas[r.Kind].CodeColumns {
		v := r.Get(f)
		if v == "" || codes.USCC(v) != nil {
			continue
		}
		for _, w := range codes.USCCWarnings(v) {
			out = append(out, Violation{Row: r.Row, RecordID: r.ID(), Field: f, Rule: RuleCodeWarning,
				Message: fmt.Sprintf("统一社会信用代码“%s”%s（仅提示，不计入重错率）", v, reasonZH(w))})
		}
	}
	return out
}

type addFunc func(field, rule, format string, a ...any)

func (c *Checker) checkSubject(r Record, add addFunc) {
	typ := r.Get(FieldSubjectType)
	if typ != "" && !subjectTypes[typ] {
		add(FieldSubjectType, RuleBadSubjectType, "行政相对人类别“%s”不是法人及非法人组织、自然人或个体工商户", typ)
		return
	}
	switch typ {
	case SubjectOrg, SubjectSoleTrader:
		if r.Get(FieldUSCC) == "" {
			add(FieldUSCC, RuleMissingCode, "%s须填写统一社会信用代码", typ)
		}
		if typ == SubjectOrg && r.Get(FieldLegalRep) == "" {
			add(FieldLegalRep, RuleMissingLegalRep, "法人及非法人组织须填写法定代表人")
		}
	case SubjectPerson:
		idType, idNo := r.Get(FieldIDType), r.Get(FieldIDNumber)
		if idType == "" || idNo == "" {
			add(FieldIDNumber, RuleMissingID, "自然人须填写证件类型和证件号码")
		} else if strings.Contains(idType, "身份证") {
			if err := codes.ResidentID(idNo); err != nil {
				// The number itself is personal data: masked in the message.
				add(FieldIDNumber, RuleBadIDNumber, "身份证号码“%s”无效：%s", codes.MaskID(idNo), reasonZH(err))
			}
		}
	}
}

func (c *Checker) checkDates(r Record, s *Schema, add addFunc) {
	parse := func(f string) (time.Time, bool) {
		v := r.Get(f)
		if v == "" {
			return time.Time{}, false
		}
		t, err := ParseDate(v)
		if err != nil {
			add(f, RuleBadDate, "日期“%s”无法识别（应为YYYY-MM-DD、YYYY/MM/DD或YYYY年M月D日）", v)
			return time.Time{}, false
		}
		return t, true
	}
	decision, okDecision := parse(s.DecisionDate)
	if okDecision && decision.After(c.AsOf) {
		add(s.DecisionDate, RuleFutureDate, "决定日期%s晚于审核日期%s", decision.Format(time.DateOnly), c.AsOf.Format(time.DateOnly))
	}
	if s.Kind == Penalty {
		if valid, ok := parse(FieldPenaltyValid); ok && okDecision && valid.Before(decision) {
			add(FieldPenaltyValid, RuleDateOrder, "处罚有效期%s早于处罚决定日期%s", valid.Format(time.DateOnly), decision.Format(time.DateOnly))
		}
	} else {
		from, okFrom := parse(FieldLicenceFrom)
		if to, ok := parse(FieldLicenceTo); ok {
			if okFrom && to.Before(from) {
				add(FieldLicenceTo, RuleDateOrder, "有效期至%s早于有效期自%s", to.Format(time.DateOnly), from.Format(time.DateOnly))
			} else if okDecision && to.Before(decision) {
				add(FieldLicenceTo, RuleDateOrder, "有效期至%s早于许可决定日期%s", to.Format(time.DateOnly), decision.Format(time.DateOnly))
			}
		}
	}
	parse(FieldReported)
}

var categorySeparators = strings.NewReplacer("；", ";", "、", ";", ",", ";", "，", ";")

func (c *Checker) checkCategory(r Record, add addFunc) {
	if r.Kind == Licence {
		if v := r.Get(FieldLicenceCategory); v != "" && !licenceCategories[v] {
			add(FieldLicenceCategory, RuleBadCategory, "许可类别“%s”不在普通、特许、认可、核准、登记、其他之列", v)
		}
		return
	}
	v := r.Get(FieldPenaltyCategory)
	if v == "" {
		return
	}
	for _, part := range strings.Split(categorySeparators.Replace(v), ";") {
		if p := strings.TrimSpace(part); !penaltyCategories[p] {
			add(FieldPenaltyCategory, RuleBadCategory, "处罚类别“%s”不是规定的类别", p)
			return
		}
	}
}

var reasonNames = map[string]string{
	codes.ReasonLength: "长度错误", codes.ReasonAlphabet: "含非法字符", codes.ReasonDepartment: "登记管理部门与机构类别代码组合不在已知表中",
	codes.ReasonRegion: "行政区划码不是已知的省级区划", codes.ReasonOrgCode: "组织机构代码校验错误", codes.ReasonCheck: "校验码错误",
	codes.ReasonBirthDate: "出生日期错误",
}

func reasonZH(err error) string {
	var ce *codes.Error
	if !errors.As(err, &ce) {
		return err.Error()
	}
	if ce.Reason == codes.ReasonCheck && ce.Kind == "uscc" {
		return fmt.Sprintf("校验码应为%c，实为%c", ce.Expected, ce.Found)
	}
	return reasonNames[ce.Reason]
}

// RuleNamesZH are the rules' names in Chinese, for reports.
var RuleNamesZH = map[string]string{
	RuleMissingField: "必填字段为空", RuleBadDate: "日期无法识别", RuleFutureDate: "决定日期晚于审核日期",
	RuleDateOrder: "日期先后矛盾", RuleBadAmount: "金额不规范", RuleBadCategory: "类别不规范",
	RuleBadSubjectType: "相对人类别不规范", RuleMissingCode: "缺少统一社会信用代码", RuleMissingLegalRep: "缺少法定代表人",
	RuleMissingID: "缺少证件信息", RuleBadCode: "统一社会信用代码无效", RuleBadIDNumber: "身份证号码无效",
	RuleCodeWarning: "代码提示（不计入）",
}

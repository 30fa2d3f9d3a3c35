// Package publicity audits "double publicity" (双公示) records of administrative licences
// and penalties: the record rules (docs/domain.md, "Double publicity"), and the upload,
// compliance and timeliness rates per department. It is pure: records in, findings out.
package publicity

import "fmt"

// Kind is a record kind.
type Kind string

// Record kinds.
const (
	Penalty Kind = "penalty"
	Licence Kind = "licence"
)

// KindNamesZH are the kinds' names in Chinese.
var KindNamesZH = map[Kind]string{Penalty: "行政处罚", Licence: "行政许可"}

// ParseKind parses "penalty" or "licence".
func ParseKind(s string) (Kind, error) {
	switch Kind(s) {
	case Penalty, Licence:
		return Kind(s), nil
	}
	return "", fmt.Errorf("%q is not a record kind (penalty or licence)", s)
}

// Field names shared by both kinds.
const (
	FieldSubjectName     = "行政相对人名称"
	FieldSubjectType     = "行政相对人类别"
	FieldUSCC            = "统一社会信用代码"
	FieldLegalRep        = "法定代表人"
	FieldIDType          = "证件类型"
	FieldIDNumber        = "证件号码"
	FieldSource          = "数据来源单位"
	FieldSourceCode      = "数据来源单位统一社会信用代码"
	FieldReported        = "上报日期"
	FieldPenaltyNo       = "行政处罚决定书文号"
	FieldPenaltyDate     = "处罚决定日期"
	FieldPenaltyValid    = "处罚有效期"
	FieldPenaltyCategory = "处罚类别"
	FieldPenaltyOrgCode  = "处罚机关统一社会信用代码"
	FieldFine            = "罚款金额（万元）"
	FieldConfiscated     = "没收违法所得、没收非法财物的金额（万元）"
	FieldLicenceNo       = "行政许可决定文书号"
	FieldLicenceDate     = "许可决定日期"
	FieldLicenceFrom     = "有效期自"
	FieldLicenceTo       = "有效期至"
	FieldLicenceCategory = "许可类别"
	FieldLicenceOrgCode  = "许可机关统一社会信用代码"
)

// Subject types (行政相对人类别).
const (
	SubjectOrg        = "法人及非法人组织"
	SubjectPerson     = "自然人"
	SubjectSoleTrader = "个体工商户"
)

// Schema describes one kind's fields.
type Schema struct {
	Kind         Kind
	Mandatory    []string
	Optional     []string
	IDField      string // the record's document number
	DecisionDate string
	CodeColumns  []string // every filled one must pass GB 32100
	Amounts      []string
}

// Schemas of the two kinds (docs/domain.md, "Double publicity").
var Schemas = map[Kind]*Schema{
	Penalty: {
		Kind: Penalty,
		Mandatory: []string{FieldSubjectName, FieldSubjectType, FieldPenaltyNo, "违法行为类型", "违法事实", "处罚依据",
			FieldPenaltyCategory, "处罚内容", FieldPenaltyDate, FieldPenaltyValid, "处罚机关", FieldPenaltyOrgCode,
			FieldSource, FieldSourceCode},
		Optional:     []string{FieldFine, FieldConfiscated, "暂扣或吊销证照名称及编号", "公示截止期", "备注"},
		IDField:      FieldPenaltyNo,
		DecisionDate: FieldPenaltyDate,
		CodeColumns:  []string{FieldUSCC, FieldPenaltyOrgCode, FieldSourceCode},
		Amounts:      []string{FieldFine, FieldConfiscated},
	},
	Licence: {
		Kind: Licence,
		Mandatory: []string{FieldSubjectName, FieldSubjectType, "行政许可决定文书名称", FieldLicenceNo, FieldLicenceCategory,
			"许可内容", FieldLicenceDate, FieldLicenceFrom, FieldLicenceTo, "许可机关", FieldLicenceOrgCode, FieldSource, FieldSourceCode},
		Optional:     []string{"许可证书名称", "许可编号", "当前状态", "备注"},
		IDField:      FieldLicenceNo,
		DecisionDate: FieldLicenceDate,
		CodeColumns:  []string{FieldUSCC, FieldLicenceOrgCode, FieldSourceCode},
	},
}

// SubjectFields are the subject columns both kinds may carry besides the mandatory ones.
var SubjectFields = []string{FieldUSCC, FieldLegalRep, FieldIDType, FieldIDNumber}

// Columns is every column a kind's file may have, in a conventional order.
func (s *Schema) Columns() []string {
	out := append([]string{}, s.Mandatory...)
	out = append(out, SubjectFields...)
	out = append(out, s.Optional...)
	return append(out, FieldReported)
}

var licenceCategories = set("普通", "特许", "认可", "核准", "登记", "其他")

var penaltyCategories = set("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级",
	"吊销许可证件", "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "其他")

var subjectTypes = set(SubjectOrg, SubjectPerson, SubjectSoleTrader)

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, i := range items {
		m[i] = true
	}
	return m
}

package creditreport

import (
	"regexp"
	"strings"
)

// Field labels, matched in normalised text (narrow punctuation, no spaces, cells by tabs).
var (
	codeLabel   = regexp.MustCompile(`统一社会信用代码:?[\t\n]*([0-9A-Za-z]{18})`)
	numberLabel = regexp.MustCompile(`报告编号:?[\t\n]*([0-9A-Za-z][0-9A-Za-z_/-]{3,})`)
	dateLabel   = regexp.MustCompile(`(?:报告日期|出具日期|报告出具日期|生成日期|报告生成日期|报告生成时间|出具时间):?[\t\n]*` +
		`([0-9]{4}(?:-|/|\.|年)[0-9]{1,2}(?:-|/|\.|月)[0-9]{1,2}日?)`)
	nameLabel = regexp.MustCompile(`(?:(?:市场主体|企业|主体|单位|机构)名称|(?:^|[\t\n])名称):?[\t\n]*([^\t\n]+)`)
)

// otherParty are the words before a code label that make it another organisation's code
// (the authority of a penalty, the department of an honour), not the subject's.
var otherParty = []string{"机关", "部门", "单位", "机构", "法人"}

// nextLabels end a value that runs on into the next field of the same line.
var nextLabels = []string{"统一社会信用代码", "法定代表人", "负责人", "注册地址", "住所", "成立日期", "登记机关", "报告编号", "报告日期", "企业类型"}

// subjectCodes returns the codes labelled as the subject's, in order of appearance from
// offset from on.
func subjectCodes(flat string, from int) []string {
	var out []string
	for _, m := range codeLabel.FindAllStringSubmatchIndex(flat[from:], -1) {
		before := flat[max(0, from+m[0]-len("机关")) : from+m[0]]
		other := false
		for _, w := range otherParty {
			other = other || strings.HasSuffix(before, w)
		}
		if !other {
			out = append(out, strings.ToUpper(flat[from+m[2]:from+m[3]]))
		}
	}
	return out
}

func firstMatch(re *regexp.Regexp, flat string) string {
	m := re.FindStringSubmatch(flat)
	if m == nil {
		return ""
	}
	return m[1]
}

// subjectName is the first labelled name, cut where the next field's label starts.
func subjectName(flat string) string {
	v := firstMatch(nameLabel, flat)
	for _, l := range nextLabels {
		if i := strings.Index(v, l); i >= 0 {
			v = v[:i]
		}
	}
	return strings.Trim(v, ":;,。")
}

package sim

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/creditwatch/creditwatch/internal/codes"
	"github.com/creditwatch/creditwatch/internal/creditreport"
)

// Report defects the simulator can serve. Each breaks one rule of the check; gbk is a
// conforming report encoded GBK.
const (
	DefectNone           = "none"
	DefectMissingSection = "missing_section" // 信用承诺信息 left out
	DefectSwappedOrder   = "swapped_order"   // 诚实守信相关荣誉信息 and 严重失信主体名单信息 swapped
	DefectWrongCode      = "wrong_code"      // the report of another code
	DefectMissingNumber  = "missing_number"  // no 报告编号
	DefectMissingDate    = "missing_date"    // no 报告日期
	DefectWrongName      = "wrong_name"      // a registered name other than the records'
	DefectMissingNote    = "missing_note"    // no 报告说明
	DefectTruncatedPDF   = "truncated_pdf"   // the PDF cut short (always PDF)
	DefectBrokenXref     = "broken_xref"     // the PDF's cross-references point nowhere (always PDF)
	DefectNotReport      = "not_report"      // a "no such enterprise" page with HTTP 200
	DefectGBK            = "gbk"             // conforming, encoded GBK (always HTML)
)

// Defects lists the defect kinds, none first.
var Defects = []string{DefectNone, DefectMissingSection, DefectSwappedOrder, DefectWrongCode, DefectMissingNumber,
	DefectMissingDate, DefectWrongName, DefectMissingNote, DefectTruncatedPDF, DefectBrokenXref, DefectNotReport, DefectGBK}

// reportDoc is a credit report's content before it is rendered as HTML or PDF.
type reportDoc struct {
	Number, Date, Name, Code, LegalRep string
	Note                               []string
	Sections                           []reportSection
	NoteTitle                          string
}

type reportSection struct {
	Heading string
	Rows    [][]string // label and values; a single cell is a line of text
}

// buildReport writes the report of code as the portal would, with a defect.
func buildReport(code, name string, ed creditreport.Edition, defect string, asOf time.Time) reportDoc {
	h := fnv.New32a()
	h.Write([]byte(code))
	d := reportDoc{
		Number:    fmt.Sprintf("XYPY%s%06d", asOf.Format("20060102"), h.Sum32()%1_000_000),
		Date:      asOf.Format("2006年01月02日"),
		Name:      name,
		Code:      code,
		LegalRep:  "王" + companyWords[h.Sum32()%uint32(len(companyWords))],
		NoteTitle: ed.Note,
		Note: []string{"一、本报告由信用濮阳网站依据《" + ed.Title + "》出具，信息来源于濮阳市公共信用信息平台。",
			"二、本报告所载信息截至报告日期，仅供参考。如对报告内容有异议，可通过“信用濮阳”网站提出异议申诉。"},
	}
	for _, s := range ed.Sections {
		d.Sections = append(d.Sections, reportSection{Heading: s, Rows: sectionRows(s, d)})
	}
	applyDefect(&d, defect)
	return d
}

func sectionRows(heading string, d reportDoc) [][]string {
	switch heading {
	case "登记注册基础信息":
		return [][]string{{"企业名称", d.Name}, {"统一社会信用代码", d.Code}, {"法定代表人", d.LegalRep},
			{"企业类型", "有限责任公司"}, {"成立日期", "2015年06月18日"}, {"登记机关", "濮阳市市场监督管理局"}, {"住所", "河南省濮阳市华龙区开州路168号"}}
	case "行政管理信息":
		return [][]string{{"行政许可", "食品经营许可", "濮阳市市场监督管理局", "2026-03-12"},
			{"行政处罚", "暂无相关信息"}}
	case "信用状况提升建议":
		return [][]string{{"建议该主体持续依法诚信经营，按时履行信用承诺，及时关注自身信用记录。"}}
	}
	return [][]string{{"暂无相关信息"}}
}

func applyDefect(d *reportDoc, defect string) {
	switch defect {
	case DefectMissingSection:
		d.Sections = without(d.Sections, "信用承诺信息")
	case DefectSwappedOrder:
		if len(d.Sections) > 3 {
			d.Sections[2], d.Sections[3] = d.Sections[3], d.Sections[2]
		}
	case DefectWrongCode:
		d.Code = otherCode(d.Code)
		d.Sections[0].Rows[1][1] = d.Code
	case DefectMissingNumber:
		d.Number = ""
	case DefectMissingDate:
		d.Date = ""
	case DefectWrongName:
		d.Name += "（已更名）"
		d.Sections[0].Rows[0][1] = d.Name
	case DefectMissingNote:
		d.NoteTitle, d.Note = "", nil
	}
}

func without(ss []reportSection, heading string) []reportSection {
	var out []reportSection
	for _, s := range ss {
		if s.Heading != heading {
			out = append(out, s)
		}
	}
	return out
}

// otherCode is a valid code of another enterprise in the same region.
func otherCode(code string) string {
	if len(code) != 18 {
		return codes.CompleteUSCC("91410900MA45A000")
	}
	b := []byte(code[:16])
	b[15] = map[bool]byte{true: '2', false: '1'}[b[15] == '1']
	return codes.CompleteUSCC(string(b))
}

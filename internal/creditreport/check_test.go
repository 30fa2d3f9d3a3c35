package creditreport

import (
	"errors"
	"strings"
	"testing"
)

const code = "91410900MA45Y7K353"

// page builds a report page from parts, each a line of HTML.
func page(parts ...string) string {
	return "<html><head><meta charset=utf-8><title>公共信用信息报告</title></head><body>" + strings.Join(parts, "\n") + "</body></html>"
}

func headings(ed Edition, numbered func(i int) string) string {
	var b strings.Builder
	for i, s := range ed.Sections {
		b.WriteString("<h2>" + numbered(i) + s + "</h2><table><tr><td>暂无相关信息</td></tr></table>\n")
	}
	return b.String()
}

func TestCheckVariants(t *testing.T) {
	ed2022, _ := EditionByName("2022")
	ed2021, _ := EditionByName("2021")
	cover := `<table><tr><td>报告编号：</td><td>XYBG2026112700001</td><td>出具日期：</td><td>2026-11-27</td></tr>` +
		`<tr><td>企业名称</td><td>濮阳市恒信化工有限公司</td><td>统一社会信用代码</td><td>` + code + `</td></tr></table><h3>报告说明</h3>`
	chinese := []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	tests := map[string]struct {
		html    string
		edition Edition
		want    []string
	}{
		"numbered (一)": {html: page(cover, headings(ed2022, func(i int) string { return "（" + chinese[i] + "）" })), edition: ed2022},
		"numbered 1.":  {html: page(cover, headings(ed2022, func(i int) string { return string(rune('1'+i%9)) + ". " })), edition: ed2022},
		"2021 edition": {html: page(cover, headings(ed2021, func(int) string { return "" })), edition: ed2021},
		"2021 report checked as 2022": {html: page(cover, headings(ed2021, func(int) string { return "" })), edition: ed2022,
			want: []string{ReasonMissingSection}},
		"a table of contents does not stand in for a section": {
			html:    page(cover, "<div>目录</div>"+tocLines(ed2022), headings(Edition{Sections: ed2022.Sections[1:]}, func(int) string { return "" })),
			edition: ed2022, want: []string{ReasonMissingSection}},
		"heading with a count": {html: page(cover, strings.ReplaceAll(headings(ed2022, func(int) string { return "" }), "</h2>", "（共0条）</h2>")), edition: ed2022},
		"an authority's code is not the subject's": {
			html: page(cover, headings(ed2022, func(int) string { return "" }), "<p>处罚机关统一社会信用代码：11410900555800000X</p>"), edition: ed2022},
		"no code at all": {html: page(strings.ReplaceAll(cover, code, ""), headings(ed2022, func(int) string { return "" })),
			edition: ed2022, want: []string{ReasonMissingCode}},
		"every reason at once": {html: page("<p>信用报告</p>", headings(Edition{Sections: []string{ed2022.Sections[1], ed2022.Sections[0]}}, func(int) string { return "" })),
			edition: ed2022, want: []string{ReasonMissingSection, ReasonMissingSection, ReasonMissingSection, ReasonMissingSection, ReasonMissingSection,
				ReasonMissingSection, ReasonMissingSection, ReasonMissingSection, ReasonSectionOrder, ReasonMissingNote, ReasonMissingCode,
				ReasonMissingNumber, ReasonMissingDate, ReasonMissingName}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := Extract([]byte(tc.html), "text/html", Limits{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Check(doc, Request{Code: code, KnownName: "濮阳市恒信化工有限公司", Edition: tc.edition})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Reasons {
				got = append(got, r.Code)
				if r.Message == "" {
					t.Errorf("reason %s has no message", r.Code)
				}
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("reasons %v, want %v\n%+v", got, tc.want, res.Reasons)
			}
		})
	}
}

func tocLines(ed Edition) string {
	var b strings.Builder
	for i, s := range ed.Sections {
		b.WriteString("<p>" + s + "……………………" + string(rune('1'+i%9)) + "</p>")
	}
	return b.String()
}

func TestExtractErrors(t *testing.T) {
	tests := map[string]struct {
		body, contentType, class string
	}{
		"json":             {body: `{"error":"no such code"}`, contentType: "application/json", class: ClassContentType},
		"plain text":       {body: "信用报告", contentType: "text/plain", class: ClassContentType},
		"pdf type, no pdf": {body: "<html>oops</html>", contentType: "application/pdf", class: ClassPDFBroken},
		"pdf, no eof":      {body: "%PDF-1.4\n1 0 obj<<>>endobj\n", contentType: "application/pdf", class: ClassPDFTruncated},
		"pdf 2.0":          {body: "%PDF-2.0\nxref\n0 1\ntrailer<<>>\nstartxref\n9\n%%EOF\n", contentType: "application/pdf", class: ClassPDFBroken},
		"deep html":        {body: strings.Repeat("<div>", 2000), contentType: "text/html", class: ClassHTML},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Extract([]byte(tc.body), tc.contentType, Limits{})
			var re *ReadError
			if !errors.As(err, &re) || re.Class != tc.class {
				t.Fatalf("err = %v, want class %s", err, tc.class)
			}
			if !strings.Contains(re.Message(), "（") {
				t.Errorf("message %q lacks its detail", re.Message())
			}
		})
	}
}

func TestSniffOctetStream(t *testing.T) {
	if got := sniff([]byte("\n<!DOCTYPE html><html>"), "application/octet-stream"); got != FormatHTML {
		t.Errorf("sniff = %q", got)
	}
	if got := sniff([]byte("%PDF-1.7\n"), "text/html"); got != FormatPDF {
		t.Errorf("a PDF sent as text/html: sniff = %q", got)
	}
}

func TestEditions(t *testing.T) {
	if _, err := EditionByName("2019"); err == nil || !strings.Contains(err.Error(), "2021 2022") {
		t.Errorf("err = %v", err)
	}
	e, _ := EditionByName("2022")
	e.Sections[0] = "changed"
	if again, _ := EditionByName("2022"); again.Sections[0] != "登记注册基础信息" || len(again.Sections) != 10 {
		t.Errorf("editions are shared: %v", again.Sections)
	}
}

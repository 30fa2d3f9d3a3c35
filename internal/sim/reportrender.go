package sim

import (
	"bytes"
	"html/template"
	"strings"
)

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>法人和非法人组织公共信用信息报告 - 信用濮阳</title>
<style>
body{font-family:"Microsoft YaHei",sans-serif;margin:30px auto;max-width:900px;color:#222}
h1{text-align:center;font-size:24px}.meta td{padding:2px 12px}
h2{font-size:17px;border-left:4px solid #b5121b;padding-left:8px;margin-top:26px}
table.info{border-collapse:collapse;width:100%}table.info td{border:1px solid #ccc;padding:6px}
.note{font-size:13px;color:#555}
</style>
</head>
<body>
<h1>法人和非法人组织公共信用信息报告</h1>
<table class="meta">
{{if .Number}}<tr><td>报告编号：</td><td>{{.Number}}</td></tr>{{end}}
{{if .Date}}<tr><td>报告日期：</td><td>{{.Date}}</td></tr>{{end}}
<tr><td>企业名称：</td><td>{{.Name}}</td></tr>
<tr><td>统一社会信用代码：</td><td>{{.Code}}</td></tr>
</table>
{{if .NoteTitle}}<div class="note"><h3>{{.NoteTitle}}</h3>{{range .Note}}<p>{{.}}</p>{{end}}</div>{{end}}
{{range $i, $s := .Sections}}<h2>{{$s.Heading}}</h2>
<table class="info">{{range $s.Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}
<p class="note">（报告结束）</p>
</body>
</html>
`))

// reportHTML renders a report as the portal's report page.
func reportHTML(d reportDoc) []byte {
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, d); err != nil {
		panic(err) // the template and its data are the simulator's own
	}
	return b.Bytes()
}

var chineseNumerals = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"}

// reportPDF renders a report as a PDF: a cover block, the note, then the numbered sections.
func reportPDF(d reportDoc, img *pdfImage) []byte {
	var l pdfLayout
	l.line(20, "", "法人和非法人组织公共信用信息报告")
	if d.Number != "" {
		l.line(11, "报告编号：", d.Number)
	}
	if d.Date != "" {
		l.line(11, "报告日期：", d.Date)
	}
	l.line(11, "企业名称：", d.Name)
	l.line(11, "统一社会信用代码：", d.Code)
	if d.NoteTitle != "" {
		l.line(14, d.NoteTitle)
		for _, p := range d.Note {
			l.paragraph(10, p)
		}
	}
	for i, s := range d.Sections {
		l.line(14, chineseNumerals[i%len(chineseNumerals)]+"、"+s.Heading)
		for _, r := range s.Rows {
			if len(r) == 1 {
				l.paragraph(10, r[0])
				continue
			}
			l.line(10, r...)
		}
	}
	l.line(10, "（报告结束）")
	return writePDF(l.pages, img)
}

// truncate cuts a PDF short, as a dropped connection or a full disk would.
func truncate(pdf []byte) []byte { return pdf[:len(pdf)*3/5] }

// breakXref points the cross-reference table's entries at the wrong bytes.
func breakXref(pdf []byte) []byte {
	i := bytes.LastIndex(pdf, []byte("\nxref\n"))
	if i < 0 {
		return pdf
	}
	head, table := pdf[:i], string(pdf[i:])
	table = strings.ReplaceAll(table, " 00000 n ", "7 00000 n ")
	table = strings.ReplaceAll(table, "\n00", "\n0")
	return append(append([]byte{}, head...), table...)
}

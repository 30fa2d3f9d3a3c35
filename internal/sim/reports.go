package sim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// ReportScenario scripts the enterprise credit reports the portal serves at
// /report?code=CODE. Which codes are defective: a code listed under defects gets that
// defect; any other code is defective when a number drawn from the code alone (FNV-1a)
// falls under defect_ratio, with a content defect drawn from the same number, so the same
// code always gets the same report. The default ratio is 0: every report conforms unless
// the scenario says otherwise.
type ReportScenario struct {
	Format      string            `yaml:"format"`       // html (default) or pdf
	Edition     string            `yaml:"edition"`      // default 2022
	Defects     map[string]string `yaml:"defects"`      // code → defect kind
	DefectRatio float64           `yaml:"defect_ratio"` // share of other codes with a content defect
}

// contentDefects are the defects a report of either format can have, for defect_ratio.
var contentDefects = []string{DefectMissingSection, DefectSwappedOrder, DefectWrongCode, DefectMissingNumber,
	DefectMissingDate, DefectWrongName, DefectMissingNote}

func (r ReportScenario) validate() error {
	if r.Format != "" && r.Format != creditreport.FormatHTML && r.Format != creditreport.FormatPDF {
		return fmt.Errorf("reports.format: %q is neither html nor pdf", r.Format)
	}
	if r.Edition != "" {
		if _, err := creditreport.EditionByName(r.Edition); err != nil {
			return fmt.Errorf("reports.edition: %w", err)
		}
	}
	for code, d := range r.Defects {
		if !slices.Contains(Defects, d) {
			return fmt.Errorf("reports.defects[%s]: unknown defect %q (known: %s)", code, d, strings.Join(Defects, ", "))
		}
	}
	if r.DefectRatio < 0 || r.DefectRatio > 1 {
		return fmt.Errorf("reports.defect_ratio: %g is not between 0 and 1", r.DefectRatio)
	}
	return nil
}

// DefectOf is the defect the simulator serves for code.
func (r ReportScenario) DefectOf(code string) string {
	if d, ok := r.Defects[code]; ok {
		return d
	}
	h := fnv.New64a()
	h.Write([]byte(code))
	n := h.Sum64()
	if float64(n%1_000_000)/1_000_000 < r.DefectRatio {
		return contentDefects[(n/1_000_000)%uint64(len(contentDefects))]
	}
	return DefectNone
}

// formatOf chooses a report's format: the request's ?format=, then what the defect
// needs, then the scenario's, then HTML.
func (r ReportScenario) formatOf(query, defect string) string {
	switch {
	case query == creditreport.FormatHTML || query == creditreport.FormatPDF:
		return query
	case defect == DefectTruncatedPDF || defect == DefectBrokenXref:
		return creditreport.FormatPDF
	case defect == DefectGBK:
		return creditreport.FormatHTML
	case r.Format != "":
		return r.Format
	}
	return creditreport.FormatHTML
}

var notFoundPage = []byte(`<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>信用查询 - 信用濮阳</title></head>` +
	`<body><div class="result"><p>未查询到相关企业信息，请核对后重新输入。</p></div></body></html>`)

// report serves /report?code=CODE[&format=html|pdf][&defect=KIND]; defect overrides the
// scenario for one request (for tests and fixtures).
func (s *Sim) report(w http.ResponseWriter, r *http.Request) {
	code := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("code")))
	if len(code) != 18 {
		http.Error(w, "请输入18位统一社会信用代码", http.StatusBadRequest)
		return
	}
	sc := s.scenario.Reports
	defect := sc.DefectOf(code)
	if q := r.URL.Query().Get("defect"); slices.Contains(Defects, q) {
		defect = q
	}
	format := sc.formatOf(r.URL.Query().Get("format"), defect)
	s.mu.Lock()
	s.reports[defect]++
	s.mu.Unlock()
	body, contentType := s.reportBody(code, defect, format)
	w.Header().Set("Content-Type", contentType)
	w.Write(body)
}

func (s *Sim) reportBody(code, defect, format string) ([]byte, string) {
	body, contentType, err := RenderReport(code, s.platform.nameOf(code), s.edition(), defect, format, s.platform.asOf)
	if err != nil {
		panic(err) // the scenario was validated
	}
	return body, contentType
}

// RenderReport is the report of code for the registered name, as the simulated portal
// serves it on date asOf: its body and Content-Type. Tests make fixtures with it.
func RenderReport(code, name, edition, defect, format string, asOf time.Time) ([]byte, string, error) {
	if !slices.Contains(Defects, defect) {
		return nil, "", fmt.Errorf("unknown defect %q", defect)
	}
	ed, err := creditreport.EditionByName(edition)
	if err != nil {
		return nil, "", err
	}
	if defect == DefectNotReport {
		return notFoundPage, "text/html; charset=utf-8", nil
	}
	format = ReportScenario{Format: format}.formatOf("", defect)
	doc := buildReport(code, name, ed, defect, asOf.In(clock.Shanghai))
	if format == creditreport.FormatPDF {
		pdf := reportPDF(doc, nil)
		switch defect {
		case DefectTruncatedPDF:
			pdf = truncate(pdf)
		case DefectBrokenXref:
			pdf = breakXref(pdf)
		}
		return pdf, "application/pdf", nil
	}
	page := reportHTML(doc)
	if defect == DefectGBK {
		return mustGBK(page), "text/html; charset=GBK", nil
	}
	return page, "text/html; charset=utf-8", nil
}

func (s *Sim) edition() string {
	if e := s.scenario.Reports.Edition; e != "" {
		return e
	}
	return creditreport.DefaultEdition
}

// nameOf is the registered name of code: the name on the platform's records, or a name
// made from the code for codes the platform does not hold.
func (p *platform) nameOf(code string) string {
	for _, list := range p.records {
		for _, r := range list {
			if r.code == code {
				return r.fields[publicity.FieldSubjectName]
			}
		}
	}
	h := fnv.New32a()
	h.Write([]byte(code))
	n := h.Sum32()
	return fmt.Sprintf("濮阳市%s%s有限公司", companyWords[n%uint32(len(companyWords))], companyTrade[(n/16)%uint32(len(companyTrade))])
}

// RenderLargeReport is a conforming report with records rows of administrative licences,
// and in a PDF a JPEG on the first page (nil for none): for benchmarks of the check on
// reports of realistic size (a 2 MB PDF, a 200 KB page).
func RenderLargeReport(code, name, format string, asOf time.Time, records int, jpeg []byte, jpegWidth, jpegHeight int) []byte {
	ed, _ := creditreport.EditionByName(creditreport.DefaultEdition)
	doc := buildReport(code, name, ed, DefectNone, asOf.In(clock.Shanghai))
	for i := range records {
		day := asOf.AddDate(0, 0, -i%700).Format(time.DateOnly)
		doc.Sections[1].Rows = append(doc.Sections[1].Rows, []string{"行政许可", fmt.Sprintf("濮许〔2026〕%d号 食品经营许可", 20000+i), "濮阳市市场监督管理局", day})
	}
	if format == creditreport.FormatPDF {
		var img *pdfImage
		if jpeg != nil {
			img = &pdfImage{jpeg: jpeg, width: jpegWidth, height: jpegHeight}
		}
		return reportPDF(doc, img)
	}
	return reportHTML(doc)
}

package creditreport

import "fmt"

// Reason codes of a non-conforming report. Bounded: usable as a metric label.
const (
	ReasonMissingSection = "missing_section"
	ReasonSectionOrder   = "section_order"
	ReasonMissingNote    = "missing_note"
	ReasonMissingCode    = "missing_code"
	ReasonWrongCode      = "wrong_code"
	ReasonMissingNumber  = "missing_report_number"
	ReasonMissingDate    = "missing_issue_date"
	ReasonMissingName    = "missing_name"
	ReasonWrongName      = "wrong_name"
)

// ReasonCodes lists every reason code.
func ReasonCodes() []string {
	return []string{ReasonMissingSection, ReasonSectionOrder, ReasonMissingNote, ReasonMissingCode, ReasonWrongCode,
		ReasonMissingNumber, ReasonMissingDate, ReasonMissingName, ReasonWrongName}
}

// Reason is one way a report does not conform.
type Reason struct {
	Code    string `json:"code"`    // one of the Reason constants
	Message string `json:"message"` // Chinese, for the credit office, with the detail
}

// Found is what the check read from the report.
type Found struct {
	Code         string   `json:"code,omitempty"`
	Name         string   `json:"name,omitempty"`
	ReportNumber string   `json:"report_number,omitempty"`
	IssueDate    string   `json:"issue_date,omitempty"`
	Sections     []string `json:"sections"` // the edition's sections found, in the report's order
}

// Result is the judgement of one report.
type Result struct {
	Format     string   `json:"format"`
	Edition    string   `json:"edition"`
	Conforming bool     `json:"conforming"`
	Reasons    []Reason `json:"reasons,omitempty"`
	Found      Found    `json:"found"`
}

func reason(code, format string, args ...any) Reason {
	return Reason{Code: code, Message: fmt.Sprintf(format, args...)}
}

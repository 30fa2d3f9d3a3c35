package creditreport

import (
	"errors"
	"fmt"
)

// Classes of a report that could not be read: a fetch/parse error, counted apart from
// non-conformance. Bounded: usable as a metric label.
const (
	ClassTooLarge        = "too_large"            // body, pages or text over the limit
	ClassEncoding        = "content_encoding"     // unknown or corrupt Content-Encoding
	ClassContentType     = "content_type"         // neither HTML nor PDF
	ClassHTML            = "html_unreadable"      // nested deeper than 512 elements
	ClassPDFTruncated    = "pdf_truncated"        // no %%EOF or startxref at the end
	ClassPDFBroken       = "pdf_broken"           // cross-references, objects, filters, encryption
	ClassPDFDecompressed = "pdf_decompress_limit" // streams inflate past the limit
	ClassNotReport       = "not_report"           // readable, but not a credit report
)

var classMessages = map[string]string{
	ClassTooLarge:        "报告内容超过读取上限",
	ClassEncoding:        "报告的压缩编码无法识别或已损坏",
	ClassContentType:     "返回内容既不是网页也不是PDF",
	ClassHTML:            "报告网页结构异常，无法解析",
	ClassPDFTruncated:    "PDF报告不完整（文件被截断）",
	ClassPDFBroken:       "PDF报告已损坏，无法读取",
	ClassPDFDecompressed: "PDF报告解压后的数据量超过上限",
	ClassNotReport:       "返回内容不是信用报告",
}

// ErrorClasses lists every class, for metrics that want all label values present.
func ErrorClasses() []string {
	return []string{ClassTooLarge, ClassEncoding, ClassContentType, ClassHTML, ClassPDFTruncated,
		ClassPDFBroken, ClassPDFDecompressed, ClassNotReport}
}

// ReadError is a report that could not be read.
type ReadError struct {
	Class string // one of the Class constants
	Err   error
}

func (e *ReadError) Error() string { return e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// Message is the Chinese text for the credit office: what went wrong, with the detail.
func (e *ReadError) Message() string {
	return classMessages[e.Class] + "（" + e.Err.Error() + "）"
}

// ErrorClass returns the class of a ReadError in err's chain, or "" when there is none.
func ErrorClass(err error) string {
	var re *ReadError
	if errors.As(err, &re) {
		return re.Class
	}
	return ""
}

func readErr(class, format string, args ...any) *ReadError {
	return &ReadError{Class: class, Err: fmt.Errorf(format, args...)}
}

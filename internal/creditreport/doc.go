// Package creditreport checks one enterprise credit report (公共信用信息报告) as a credit
// portal serves it, HTML or PDF, against an edition of the national report standard. It is
// pure: the caller fetches, this package reads and judges.
//
// Reading and judging are two steps with two kinds of outcome:
//
//   - Read (or Extract, for a body the caller already holds) turns a body into text. A body
//     that cannot be read — larger than the limit, a gzip bomb, HTML nested deeper than 512
//     elements, a truncated PDF, broken cross-references, PDF streams that inflate past the
//     limit, neither HTML nor PDF — is a *ReadError with a bounded Class: a fetch/parse
//     error, never a non-conformance.
//   - Check judges the text for a requested code and returns a Result: conforming or not,
//     with every Reason (a bounded Code usable as a metric label and a Chinese message with
//     the detail). A page that is not a credit report at all (an error page, a login page)
//     is a *ReadError of class not_report.
//
// Memory: Read reads at most Limits.MaxBodyBytes of the body after undoing its
// Content-Encoding, so a 1 GB body or a gzip bomb costs about that much and no more. PDF
// streams are inflated once, counting, before the PDF reader sees them; a PDF whose streams
// inflate past Limits.MaxDecompressedBytes in total is refused, and the reader's own
// re-reads of streams are charged to a work budget of four times that. With the default
// limits the hostile-input tests peak under 50 MB of resident memory each.
//
// PDF text: github.com/ledongthuc/pdf parses the file (cross-references, objects, streams,
// content programs); this package decodes shown text itself, through each font's
// ToUnicode map when it has one (the reader would garble Type 3 and dict-encoded fonts,
// as Chromium prints them) and the reader's own decoding otherwise (standard Chinese
// fonts such as STSong-Light with UniGB-UCS2-H). Tests cross-check the text with poppler's
// pdftotext.
package creditreport

package collectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"syscall"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// Outcome classes of a probe.
const (
	OutcomeOK              = "ok"
	OutcomeTimeout         = "timeout"
	OutcomeConnectError    = "connect_error"
	OutcomeDNSError        = "dns_error"
	OutcomeTLSError        = "tls_error"
	OutcomeHTTPStatus      = "http_status"
	OutcomeContentMismatch = "content_mismatch"
	OutcomeChallenged      = "challenged"
)

// StatusPreconditionFailed is what Ruishu-style WAFs answer an unknown client with.
const StatusPreconditionFailed = 412

// Answer is what a probe got back, before any judgement.
type Answer struct {
	// Err is why no whole answer came; a body over BodyLimit is pagetext.ErrTooLarge.
	Err         error
	StatusCode  int
	ContentType string
	Body        []byte
	BodyLimit   int64
	Compressed  bool // the body came compressed (Content-Encoding); BodyLimit held after decompression
}

// Verdict is the judgement of an Answer.
type Verdict struct {
	Outcome string
	Error   string
}

// Expectation is what a good answer looks like.
type Expectation struct {
	Status           []int
	BodyContains     []string
	ChallengeMarkers []string
}

func expectationOf(t config.Target, markers []string) Expectation {
	return Expectation{Status: t.Expect.Status, BodyContains: t.Expect.BodyContains, ChallengeMarkers: markers}
}

// Classify judges an answer. It is pure.
func Classify(a Answer, e Expectation) Verdict {
	if a.Err != nil && !errors.Is(a.Err, pagetext.ErrTooLarge) {
		if msg := redirectProblem(a.Err); msg != "" {
			return Verdict{Outcome: OutcomeHTTPStatus, Error: fmt.Sprintf("HTTP %d: %s", a.StatusCode, msg)}
		}
		return Verdict{Outcome: classifyError(a.Err), Error: errorText(a.Err)}
	}
	if a.StatusCode == StatusPreconditionFailed {
		return Verdict{Outcome: OutcomeChallenged, Error: "HTTP 412: challenged by a web application firewall"}
	}
	if a.Err != nil && a.Compressed {
		return Verdict{Outcome: OutcomeContentMismatch, Error: fmt.Sprintf("body larger than the %d-byte limit once decompressed", a.BodyLimit)}
	}
	if a.Err != nil {
		return Verdict{Outcome: OutcomeContentMismatch, Error: fmt.Sprintf("body larger than the %d-byte limit", a.BodyLimit)}
	}
	// The page is matched as bytes: a UTF-8 page as it came, another decoded into a pooled
	// buffer, never copied into a string.
	text := pagetext.DecodeText(a.Body, a.ContentType)
	defer text.Release()
	statusOK := slices.Contains(e.Status, a.StatusCode)
	missing := ""
	for _, want := range e.BodyContains {
		if !bytes.Contains(text.B, []byte(want)) {
			missing = want
			break
		}
	}
	if statusOK && missing == "" {
		return Verdict{Outcome: OutcomeOK}
	}
	for _, m := range e.ChallengeMarkers {
		if m != "" && bytes.Contains(text.B, []byte(m)) {
			return Verdict{Outcome: OutcomeChallenged, Error: fmt.Sprintf("HTTP %d: challenge page (marker %q)", a.StatusCode, m)}
		}
	}
	if !statusOK {
		return Verdict{Outcome: OutcomeHTTPStatus, Error: fmt.Sprintf("HTTP %d, expected %v", a.StatusCode, e.Status)}
	}
	return Verdict{Outcome: OutcomeContentMismatch, Error: fmt.Sprintf("body does not contain %q", missing)}
}

// DecodeBody decodes a page to UTF-8 by its BOM, Content-Type charset or meta charset
// (UTF-8, GBK, GB18030 and the rest of the WHATWG encodings). See pagetext.Decode.
func DecodeBody(body []byte, contentType string) string {
	return pagetext.Decode(body, contentType)
}

func classifyError(err error) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var authErr x509.UnknownAuthorityError
	var invalidErr x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		return OutcomeDNSError
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return OutcomeTimeout
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr),
		errors.As(err, &invalidErr), errors.As(err, &recErr), errors.As(err, &alertErr),
		strings.Contains(err.Error(), "tls: "):
		return OutcomeTLSError
	case redirectProblem(err) != "":
		return OutcomeHTTPStatus
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return OutcomeConnectError
	}
	return OutcomeConnectError
}

// redirectProblem says what was wrong with a redirect the server answered, or is "" when
// err is about something else.
func redirectProblem(err error) string {
	var re *RedirectError
	switch msg := err.Error(); {
	case errors.As(err, &re):
		return re.Error()
	case strings.Contains(msg, "stopped after") && strings.Contains(msg, "redirects"):
		return errorText(err)
	case strings.Contains(msg, "failed to parse Location header"):
		// net/http's text quotes the header, which is the server's: not for the ledger.
		return "redirect with a malformed Location header"
	}
	return ""
}

// errorText drops the request URL that net/http puts in front of errors: URLs may carry
// query strings that do not belong in the ledger.
func errorText(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

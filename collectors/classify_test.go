package collectors

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/pagetext"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClassify(t *testing.T) {
	exp := Expectation{Status: []int{200}, BodyContains: []string{"信用"}, ChallengeMarkers: config.DefaultChallengeMarkers}
	utf8 := fixture(t, "portal-utf8.html")
	gbk := fixture(t, "portal-gbk.html")
	tests := map[string]struct {
		answer  Answer
		outcome string
		errText string
	}{
		"good page":                {answer: Answer{StatusCode: 200, Body: utf8, ContentType: "text/html"}, outcome: OutcomeOK},
		"gbk page by meta charset": {answer: Answer{StatusCode: 200, Body: gbk, ContentType: "text/html"}, outcome: OutcomeOK},
		"gbk page by header":       {answer: Answer{StatusCode: 200, Body: gbk, ContentType: "text/html; charset=GB18030"}, outcome: OutcomeOK},
		"wrong status":             {answer: Answer{StatusCode: 502, Body: []byte("Bad Gateway")}, outcome: OutcomeHTTPStatus, errText: "HTTP 502, expected [200]"},
		"412 is a challenge":       {answer: Answer{StatusCode: 412}, outcome: OutcomeChallenged},
		"js challenge page":        {answer: Answer{StatusCode: 200, Body: fixture(t, "challenge-jsl.html")}, outcome: OutcomeChallenged, errText: "__jsl_clearance"},
		"521 with challenge":       {answer: Answer{StatusCode: 521, Body: fixture(t, "challenge-jsl.html")}, outcome: OutcomeChallenged},
		"content missing":          {answer: Answer{StatusCode: 200, Body: []byte("<html>维护中</html>")}, outcome: OutcomeContentMismatch, errText: `body does not contain "信用"`},
		"body over limit":          {answer: Answer{StatusCode: 200, Err: pagetext.ErrTooLarge, BodyLimit: 1024}, outcome: OutcomeContentMismatch, errText: "1024-byte limit"},
		"gzip bomb":                {answer: Answer{StatusCode: 200, Err: pagetext.ErrTooLarge, BodyLimit: 1024, Compressed: true}, outcome: OutcomeContentMismatch, errText: "larger than the 1024-byte limit once decompressed"},
		"refused redirect": {answer: Answer{StatusCode: 302, Err: &url.Error{Op: "Get", URL: "http://x/", Err: &RedirectError{Reason: "to a file: URL refused"}}},
			outcome: OutcomeHTTPStatus, errText: "HTTP 302: redirect to a file: URL refused"},
		"refused":       {answer: Answer{Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, outcome: OutcomeConnectError, errText: "connection refused"},
		"dns":           {answer: Answer{Err: &net.DNSError{Err: "no such host", Name: "xinyong.invalid", IsNotFound: true}}, outcome: OutcomeDNSError},
		"deadline":      {answer: Answer{Err: context.DeadlineExceeded}, outcome: OutcomeTimeout},
		"unknown error": {answer: Answer{Err: errors.New("weird")}, outcome: OutcomeConnectError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := Classify(tc.answer, exp)
			if v.Outcome != tc.outcome {
				t.Errorf("outcome = %s (%s), want %s", v.Outcome, v.Error, tc.outcome)
			}
			if !strings.Contains(v.Error, tc.errText) {
				t.Errorf("error = %q, want it to contain %q", v.Error, tc.errText)
			}
			if tc.outcome == OutcomeOK && v.Error != "" {
				t.Errorf("ok verdict carries error %q", v.Error)
			}
		})
	}
}

func TestDecodeBodyGBK(t *testing.T) {
	got := DecodeBody(fixture(t, "portal-gbk.html"), "text/html")
	if !strings.Contains(got, "统一社会信用代码查询") {
		t.Errorf("GBK page not decoded: %q", got[:80])
	}
}

func FuzzClassify(f *testing.F) {
	f.Add(200, "text/html; charset=gbk", []byte("<meta charset=gb18030>信用"))
	f.Add(412, "", []byte{})
	f.Add(200, "text/html", []byte("\xef\xbb\xbf<html>__jsl_clearance</html>"))
	exp := Expectation{Status: []int{200}, BodyContains: []string{"信用"}, ChallengeMarkers: config.DefaultChallengeMarkers}
	f.Fuzz(func(t *testing.T, status int, ctype string, body []byte) {
		v := Classify(Answer{StatusCode: status, ContentType: ctype, Body: body}, exp)
		switch v.Outcome {
		case OutcomeOK:
			if status != 200 {
				t.Fatalf("status %d judged ok", status)
			}
		case OutcomeChallenged, OutcomeHTTPStatus, OutcomeContentMismatch:
		default:
			t.Fatalf("answer without transport error classified %s", v.Outcome)
		}
	})
}

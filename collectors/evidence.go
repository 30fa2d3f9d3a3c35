package collectors

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"unicode/utf8"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// maxExcerpt bounds the decoded body kept as an incident's evidence.
const maxExcerpt = 4096

// evidenceHeaders are the response headers an incident's evidence keeps: what tells who
// answered and how (a WAF, a CDN, a redirect), never cookies.
var evidenceHeaders = []string{"Server", "Content-Type", "Content-Length", "Location", "Date", "Via", "X-Cache",
	"Retry-After", "X-Powered-By", "Cache-Control"}

// evidenceOf is what a probe saw, for the ledger to keep when the probe begins or ends an
// incident. It is gathered only then: hashing every body would cost every probe.
func evidenceOf(o observation, v Verdict, url, vantage string) *ledger.Evidence {
	e := &ledger.Evidence{At: o.start, URL: url, Vantage: vantage, Outcome: v.Outcome, Error: v.Error, BodyBytes: o.bodyBytes}
	if addr := o.trace.RemoteAddr; addr != nil {
		if host, _, err := net.SplitHostPort(addr.String()); err == nil {
			e.ResolvedIP = host
		}
	}
	if r := o.raw; r != nil {
		e.StatusLine = r.Proto + " " + r.Status
		e.Headers = map[string]string{}
		for _, h := range evidenceHeaders {
			if v := r.Header.Get(h); v != "" {
				e.Headers[h] = truncate(v, 300)
			}
		}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			c := r.TLS.PeerCertificates[0]
			e.TLS = &ledger.CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotAfter: c.NotAfter.UTC()}
		}
	}
	if len(o.answer.Body) > 0 {
		sum := sha256.Sum256(o.answer.Body)
		e.BodySHA256 = hex.EncodeToString(sum[:])
		text := pagetext.DecodeText(o.answer.Body, o.answer.ContentType)
		e.BodyExcerpt = string(truncateBytes(text.B, maxExcerpt))
		text.Release()
	}
	return e
}

// truncateBytes cuts b to at most n bytes on a character boundary.
func truncateBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// truncate cuts s to at most n bytes on a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

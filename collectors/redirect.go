package collectors

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
)

// RedirectError is a redirect a probe refused to follow: the server answered, with a
// redirect to somewhere a probe must not go.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string { return "redirect " + e.Reason }

// redirectGuard follows one probe through its redirects. It decides whether a hop may go
// to a loopback, private or link-local address, checked on the address actually dialled
// so that a name resolving to one (DNS rebinding included) is caught too.
type redirectGuard struct {
	allow *bool // the target's allow_private_redirects; nil: allowed if the target is private

	mu            sync.Mutex
	originPrivate bool // the target itself is on a non-public address
	redirected    bool // a redirect is being followed
	proxied       bool // this hop goes through a proxy, which does the dialling
	status        int  // status of the last response, the redirect's when one is refused
}

type guardKey struct{}

func withGuard(ctx context.Context, g *redirectGuard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

func guardOf(ctx context.Context) *redirectGuard {
	g, _ := ctx.Value(guardKey{}).(*redirectGuard)
	return g
}

// newGuard starts the guard of one probe of target.
func newGuard(target string, allow *bool) *redirectGuard {
	g := &redirectGuard{allow: allow}
	if u, err := url.Parse(target); err == nil {
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil && addressKind(ip) != "" {
			g.originPrivate = true
		}
	}
	return g
}

func (g *redirectGuard) privateAllowed() bool {
	if g.allow != nil {
		return *g.allow
	}
	return g.originPrivate
}

// lastStatus is the status of the last response the probe got.
func (g *redirectGuard) lastStatus() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

// checkRedirect is the probe's redirect policy: at most max hops, HTTP(S) only, and no IP
// literal of a non-public address unless allowed (the dial check cannot see through a proxy).
func checkRedirect(max int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= max+1 {
			return fmt.Errorf("stopped after %d redirects", max)
		}
		if s := req.URL.Scheme; s != "http" && s != "https" {
			return &RedirectError{Reason: fmt.Sprintf("to a %s: URL refused", s)}
		}
		g := guardOf(req.Context())
		if g == nil {
			return nil
		}
		ip, err := netip.ParseAddr(req.URL.Hostname())
		if kind := addressKind(ip); err == nil && kind != "" && !g.privateAllowed() {
			return refused(ip, kind)
		}
		g.mu.Lock()
		g.redirected = true
		g.mu.Unlock()
		return nil
	}
}

func refused(ip netip.Addr, kind string) error {
	return &RedirectError{Reason: fmt.Sprintf("to %s refused: a %s address (allow_private_redirects is off)", ip.Unmap(), kind)}
}

// control runs before every connection a probe opens, with the address resolved.
func (g *redirectGuard) control(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil
	}
	kind := addressKind(ap.Addr())
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.proxied:
	case !g.redirected:
		g.originPrivate = g.originPrivate || kind != ""
	case kind != "" && !g.privateAllowed():
		return refused(ap.Addr(), kind)
	}
	return nil
}

func guardedControl(ctx context.Context, _, address string, _ syscall.RawConn) error {
	if g := guardOf(ctx); g != nil {
		return g.control(address)
	}
	return nil
}

// guardedProxy is http.ProxyFromEnvironment, noting whether a hop goes through a proxy.
func guardedProxy(req *http.Request) (*url.URL, error) {
	u, err := http.ProxyFromEnvironment(req)
	if g := guardOf(req.Context()); g != nil {
		g.mu.Lock()
		g.proxied = u != nil
		g.mu.Unlock()
	}
	return u, err
}

// statusRecorder notes the status of every response of a probe, the redirects' included,
// so that a refused or malformed redirect is recorded with the status the server answered.
type statusRecorder struct{ next http.RoundTripper }

func (s statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	if g := guardOf(req.Context()); g != nil && resp != nil {
		g.mu.Lock()
		g.status = resp.StatusCode
		g.mu.Unlock()
	}
	return resp, err
}

var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")
var thisNetwork = netip.MustParsePrefix("0.0.0.0/8")

// addressKind names what makes ip non-public, or is "" for a public address.
func addressKind(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return ""
	case ip.IsLoopback():
		return "loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsPrivate():
		return "private"
	case ip.IsUnspecified(), thisNetwork.Contains(ip):
		return "unspecified"
	case sharedAddressSpace.Contains(ip):
		return "shared (carrier-grade NAT)"
	case ip.IsMulticast():
		return "multicast"
	}
	return ""
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// tokenRedirects is the platform client's redirect policy: at most max hops, and the
// bearer token only to the scheme, host and port it was configured for.
func tokenRedirects(max int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= max {
			return fmt.Errorf("stopped after %d redirects", max)
		}
		if !sameOrigin(req.URL, via[0].URL) {
			req.Header.Del("Authorization")
		}
		return nil
	}
}

package collectors

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/creditwatch/creditwatch/internal/config"
)

// TestPortalRedirects runs probes of a loopback target whose redirects go elsewhere.
func TestPortalRedirects(t *testing.T) {
	page := fixture(t, "portal-utf8.html")
	var hits atomic.Int64
	other := serve(t, func(w http.ResponseWriter, _ *http.Request) { hits.Add(1); w.Write(page) })
	// "localhost", not 127.0.0.1: only the check at dial time sees where the name leads.
	otherByName := strings.Replace(other, "127.0.0.1", "localhost", 1)
	no, yes := false, true
	tests := map[string]struct {
		location string
		allow    *bool
		outcome  string
		errText  string
		hits     int64
	}{
		"private target, private redirect":   {location: otherByName, outcome: OutcomeOK, hits: 1},
		"explicitly allowed":                 {location: otherByName, allow: &yes, outcome: OutcomeOK, hits: 1},
		"refused at dial time":               {location: otherByName, allow: &no, outcome: OutcomeHTTPStatus, errText: "refused: a loopback address (allow_private_redirects is off)"},
		"metadata address refused":           {location: "http://169.254.169.254/latest/meta-data/", allow: &no, outcome: OutcomeHTTPStatus, errText: "HTTP 302: redirect to 169.254.169.254 refused: a link-local address"},
		"mapped IPv6 literal refused":        {location: "http://[::ffff:10.0.0.1]/", allow: &no, outcome: OutcomeHTTPStatus, errText: "redirect to 10.0.0.1 refused: a private address"},
		"file URL":                           {location: "file:///etc/passwd", outcome: OutcomeHTTPStatus, errText: "HTTP 302: redirect to a file: URL refused"},
		"malformed Location":                 {location: "http://[::1", outcome: OutcomeHTTPStatus, errText: "HTTP 302: redirect with a malformed Location header"},
		"non-HTTP scheme with private allow": {location: "gopher://127.0.0.1/", allow: &yes, outcome: OutcomeHTTPStatus, errText: "redirect to a gopher: URL refused"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			hits.Store(0)
			d := testDeps(t)
			target := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", tc.location)
				w.WriteHeader(http.StatusFound)
			})
			p := testPortal(t, target, d, func(tg *config.Target) { tg.AllowPrivateRedirects = tc.allow })
			if err := p.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			snap, _ := d.Store.Portal("credit-portal")
			if snap.Outcome != tc.outcome || !strings.Contains(snap.LastError, tc.errText) {
				t.Errorf("outcome %s (%q), want %s with %q", snap.Outcome, snap.LastError, tc.outcome, tc.errText)
			}
			if tc.outcome != OutcomeOK && snap.StatusCode != http.StatusFound {
				t.Errorf("status %d recorded, want the 302 the server answered", snap.StatusCode)
			}
			if hits.Load() != tc.hits {
				t.Errorf("the redirect's server got %d requests, want %d", hits.Load(), tc.hits)
			}
		})
	}
}

// TestGuardOfPublicTarget follows the checks of a probe of a public target, addresses
// being what the dialler resolved.
func TestGuardOfPublicTarget(t *testing.T) {
	g := newGuard("https://www.creditchina.gov.cn/", nil)
	steps := []struct {
		do   func() error
		want string
	}{
		{do: func() error { return g.control("203.0.113.5:443") }},
		{do: func() error { return redirectTo(g, "http://mirror.example/") }},
		{do: func() error { return g.control("198.51.100.7:80") }},
		{do: func() error { return g.control("10.1.2.3:80") }, want: "redirect to 10.1.2.3 refused: a private address"},
		{do: func() error { return g.control("[::ffff:127.0.0.1]:80") }, want: "redirect to 127.0.0.1 refused: a loopback address"},
		{do: func() error { return g.control("[fe80::1%eth0]:80") }, want: "redirect to fe80::1%eth0 refused: a link-local address"},
		{do: func() error { return g.control("100.64.0.1:80") }, want: "redirect to 100.64.0.1 refused: a shared (carrier-grade NAT) address"},
		{do: func() error { return redirectTo(g, "http://169.254.169.254/") }, want: "redirect to 169.254.169.254 refused: a link-local address"},
	}
	for i, s := range steps {
		err := s.do()
		if (err == nil) != (s.want == "") || err != nil && !strings.HasPrefix(err.Error(), s.want) {
			t.Errorf("step %d: error %v, want %q", i, err, s.want)
		}
	}
	// Through a proxy the proxy dials: only IP literals can be checked, by the redirect policy.
	g.proxied = true
	if err := g.control("10.1.2.3:3128"); err != nil {
		t.Errorf("the proxy's own address refused: %v", err)
	}
}

func redirectTo(g *redirectGuard, to string) error {
	req, _ := http.NewRequestWithContext(withGuard(context.Background(), g), "GET", to, nil)
	return checkRedirect(5)(req, []*http.Request{req})
}

func TestAddressKind(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8": "", "2400:3200::1": "", "127.0.0.2": "loopback", "::1": "loopback", "10.0.0.1": "private",
		"172.31.255.255": "private", "192.168.1.1": "private", "fd00::1": "private", "169.254.169.254": "link-local",
		"fe80::1": "link-local", "0.0.0.0": "unspecified", "0.1.2.3": "unspecified", "::": "unspecified",
		"100.100.100.200": "shared (carrier-grade NAT)", "224.0.0.1": "link-local", "239.1.1.1": "multicast",
		"::ffff:192.168.0.1": "private",
	} {
		if got := addressKind(netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	tests := map[string]bool{
		"https://api.example/a https://api.example/b":     true,
		"https://api.example/ https://API.example:443/x":  true,
		"http://api.example/ http://api.example:80/":      true,
		"https://api.example/ http://api.example/":        false,
		"http://127.0.0.1:8080/ http://127.0.0.1:8081/":   false,
		"https://api.example/ https://api.example.evil/":  false,
		"https://api.example/ https://cdn.api.example/":   false,
		"https://api.example:8443/ https://api.example/":  false,
		"http://[::1]:8080/ http://[::1]:8080/next?x=1#y": true,
	}
	for pair, want := range tests {
		a, b, _ := strings.Cut(pair, " ")
		ua, _ := url.Parse(a)
		ub, _ := url.Parse(b)
		if got := sameOrigin(ua, ub); got != want {
			t.Errorf("sameOrigin(%s, %s) = %t", a, b, got)
		}
	}
}

// TestPlatformTokenStaysWithItsOrigin: the bearer token follows a redirect within the
// platform's origin and is dropped on one to another port of the same host.
func TestPlatformTokenStaysWithItsOrigin(t *testing.T) {
	body := page(nil, "c1", false)
	var seen atomic.Value // Authorization at the redirect's destination
	land := func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
		w.Write(body)
	}
	other := strings.TrimSuffix(serve(t, land), "/")
	tests := map[string]struct {
		to   func(r *http.Request) string
		want string
	}{
		"same origin":  {to: func(r *http.Request) string { return "/moved" + r.URL.RequestURI() }, want: "Bearer secret"},
		"another port": {to: func(r *http.Request) string { return other + r.URL.RequestURI() }, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			seen.Store("no request")
			base := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/moved/") {
					land(w, r)
					return
				}
				http.Redirect(w, r, tc.to(r), http.StatusFound)
			})
			d := testDeps(t)
			if err := newTestPlatform(t, base, d, nil).Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := seen.Load(); got != tc.want {
				t.Errorf("the redirect's destination got Authorization %q, want %q", got, tc.want)
			}
		})
	}
}

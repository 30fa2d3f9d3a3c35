package collectors

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

func testDeps(t testing.TB) Deps {
	t.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return Deps{Ledger: l, Store: metrics.NewStore(), Logger: zap.NewNop()}
}

func testPortal(t testing.TB, url string, d Deps, edit func(*config.Target)) *Portal {
	t.Helper()
	doc := "portal:\n  targets:\n    - name: credit-portal\n      url: " + url + "\n      interval: 2s\n      timeout: 500ms\n      expect: {body_contains: [信用]}\n"
	cfg, err := config.Parse([]byte(doc), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg.Portal.Targets[0])
	}
	p, err := NewPortal(cfg.Portal.Targets[0], cfg.Portal, d)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL + "/"
}

func TestPortalProbeAgainstRealServers(t *testing.T) {
	page := fixture(t, "portal-utf8.html")
	gbk := fixture(t, "portal-gbk.html")
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/"
	}
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(page) }))
	t.Cleanup(tlsSrv.Close)
	tests := map[string]struct {
		url     func(t *testing.T) string
		edit    func(*config.Target)
		outcome string
		status  int
		errText string
	}{
		"ok": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(page) })
		}, outcome: OutcomeOK, status: 200},
		"gbk page": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=GBK")
				w.Write(gbk)
			})
		}, outcome: OutcomeOK, status: 200},
		"server error": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })
		}, outcome: OutcomeHTTPStatus, status: 503},
		"hang past timeout": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		}, outcome: OutcomeTimeout},
		"waf 412": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(412) })
		}, outcome: OutcomeChallenged, status: 412},
		"connection refused":    {url: func(*testing.T) string { return closed() }, outcome: OutcomeConnectError},
		"untrusted certificate": {url: func(*testing.T) string { return tlsSrv.URL + "/" }, outcome: OutcomeTLSError},
		"trusted with skip verify": {url: func(*testing.T) string { return tlsSrv.URL + "/" },
			edit: func(tg *config.Target) { tg.TLS.InsecureSkipVerify = true }, outcome: OutcomeOK, status: 200},
		"redirect loop": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
		}, outcome: OutcomeHTTPStatus, status: 302},
		"huge body": {url: func(t *testing.T) string {
			return serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Write(page)
				w.Write([]byte(strings.Repeat("信用", 1<<20)))
			})
		}, edit: func(tg *config.Target) { tg.MaxBodyBytes = 64 << 10 }, outcome: OutcomeContentMismatch, status: 200},
		// 1 GiB of zeros as 64 gzip members: the limit holds on the decompressed body.
		"gzip bomb": {url: func(t *testing.T) string {
			member := gzipZeros(t, 16<<20)
			return serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				for range 64 {
					if _, err := w.Write(member); err != nil {
						return
					}
				}
			})
		}, edit: func(tg *config.Target) { tg.MaxBodyBytes = 64 << 10 }, outcome: OutcomeContentMismatch, status: 200,
			errText: "body larger than the 65536-byte limit once decompressed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := testDeps(t)
			p := testPortal(t, tc.url(t), d, tc.edit)
			start := time.Now()
			if err := p.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Fatalf("probe took %v; the 500ms timeout did not hold", el)
			}
			snap, ok := d.Store.Portal("credit-portal")
			if !ok {
				t.Fatal("no snapshot published")
			}
			if snap.Outcome != tc.outcome || snap.StatusCode != tc.status {
				t.Errorf("outcome = %s (HTTP %d, %q), want %s (HTTP %d)", snap.Outcome, snap.StatusCode, snap.LastError, tc.outcome, tc.status)
			}
			if !strings.Contains(snap.LastError, tc.errText) {
				t.Errorf("error %q, want it to contain %q", snap.LastError, tc.errText)
			}
			if snap.Success != (tc.outcome == OutcomeOK) {
				t.Errorf("success = %t", snap.Success)
			}
			if n, _ := d.Ledger.CountProbes(context.Background(), "credit-portal"); n != 1 {
				t.Errorf("ledger has %d probes, want 1", n)
			}
			if tc.outcome == OutcomeOK && strings.HasPrefix(tc.url(t), "https") && snap.CertExpiry.IsZero() {
				t.Error("no certificate expiry recorded for a TLS probe")
			}
		})
	}
}

func TestDNSFailure(t *testing.T) {
	d := testDeps(t)
	p := testPortal(t, "http://portal.creditwatch-test.invalid/", d, nil)
	if err := p.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, _ := d.Store.Portal("credit-portal")
	if snap.Outcome != OutcomeDNSError && snap.Outcome != OutcomeTimeout {
		t.Errorf("outcome = %s (%s), want dns_error", snap.Outcome, snap.LastError)
	}
}

func TestChallengeNotAFailureWhenConfigured(t *testing.T) {
	d := testDeps(t)
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(412) })
	doc := "portal:\n  targets:\n    - {name: p, url: '" + url + "', interval: 1s}\n  incident: {open_after: 1, challenge_is_failure: false}\n"
	cfg, err := config.Parse([]byte(doc), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPortal(cfg.Portal.Targets[0], cfg.Portal, d)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := p.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	snap, _ := d.Store.Portal("p")
	if !snap.Success || snap.IncidentsTotal != 0 || snap.OutcomeTotals[OutcomeChallenged] != 3 {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestPhasesAddUpToTotal(t *testing.T) {
	d := testDeps(t)
	page := fixture(t, "portal-utf8.html")
	p := testPortal(t, serve(t, func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
		w.Write(page)
	}), d, nil)
	if err := p.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, _ := d.Store.Portal("credit-portal")
	var sum float64
	for _, v := range snap.PhaseSeconds {
		sum += v
	}
	if snap.PhaseSeconds["first_byte"] < 0.03 {
		t.Errorf("first_byte = %v, want ≥ 30ms of server time", snap.PhaseSeconds["first_byte"])
	}
	if sum < 0.03 || sum > 1 {
		t.Errorf("phases sum to %v s", sum)
	}
}

// gzipZeros is one gzip member of n zero bytes.
func gzipZeros(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if _, err := zw.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return b.Bytes()
}

// TestIncidentOutcomeAndTargetInfo: the open incident's outcome class is exported while it
// is open, continued from the ledger after a restart and gone once it closes; the target's
// URL is exported without its query string.
func TestIncidentOutcomeAndTargetInfo(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("<html><body>信用</body></html>"))
	})
	doc := "portal:\n  incident: {open_after: 2, close_after: 1}\n  targets:\n    - {name: credit-portal, url: '" +
		url + "?token=abc', interval: 2s, timeout: 500ms, expect: {body_contains: [信用]}}\n" +
		"    - {name: backup-portal, url: 'https://backup.example.gov.cn/', site: backup, scored: false}\n"
	cfg, err := config.Parse([]byte(doc), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	d := testDeps(t)
	ctx := context.Background()
	build := func(d Deps) *Portal {
		cs, err := portalCollectors(cfg, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := Seed(ctx, cs, d); err != nil {
			t.Fatal(err)
		}
		return cs[0].(*Portal)
	}
	p := build(d)
	outcome := `creditwatch_portal_incident_outcome{outcome="http_status",target="credit-portal"}`
	for i := range 2 {
		if _, ok := series(d.Store)[outcome]; ok {
			t.Fatalf("outcome exported after %d failed probes, before the incident opened", i)
		}
		if err := p.Collect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := series(d.Store)[outcome]; got != 1 {
		t.Errorf("%s = %v, want 1 once the incident is open", outcome, got)
	}
	for key, want := range map[string]float64{
		`creditwatch_target_info{scored="true",site="portal",target="credit-portal",url="` + url + `"}`:                     1,
		`creditwatch_target_info{scored="false",site="backup",target="backup-portal",url="https://backup.example.gov.cn/"}`: 1,
	} {
		if got, ok := series(d.Store)[key]; !ok || got != want {
			t.Errorf("%s = %v (present %t), want %v; have %v", key, got, ok, want, series(d.Store))
		}
	}
	// A restart reads the open incident's outcome back from the ledger.
	restarted := d
	restarted.Store = metrics.NewStore()
	p = build(restarted)
	if got := series(restarted.Store)[outcome]; got != 1 {
		t.Errorf("after a restart %s = %v, want 1", outcome, got)
	}
	down.Store(false)
	if err := p.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	for key := range series(restarted.Store) {
		if strings.HasPrefix(key, "creditwatch_portal_incident_outcome") {
			t.Errorf("%s still exported after the incident closed", key)
		}
	}
}

// TestKeepAlive: a probe opens a fresh connection by default, as a visitor would; with
// keep_alive the target's probes share one.
func TestKeepAlive(t *testing.T) {
	page := fixture(t, "portal-utf8.html")
	for _, keep := range []bool{false, true} {
		var conns atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(page) }))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		d := testDeps(t)
		p := testPortal(t, srv.URL+"/", d, func(tg *config.Target) { tg.KeepAlive = keep })
		for range 3 {
			if err := p.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			if snap, _ := d.Store.Portal("credit-portal"); !snap.Success {
				t.Fatalf("keep_alive %t: probe failed: %s", keep, snap.LastError)
			}
		}
		want := int32(3)
		if keep {
			want = 1
		}
		if got := conns.Load(); got != want {
			t.Errorf("keep_alive %t: 3 probes opened %d connections, want %d", keep, got, want)
		}
	}
}

// A probe is acknowledged only once its row is on disk: while another connection holds the
// ledger's write lock, the probe's result waits, and neither its metrics nor its row can be
// seen; once the lock goes, both are.
func TestMetricsOnlyAfterTheRowIsCommitted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := ledger.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	d := Deps{Ledger: l, Store: metrics.NewStore(), Logger: zap.NewNop()}
	page := fixture(t, "portal-utf8.html")
	p := testPortal(t, serve(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(page) }), d, nil)

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Collect(ctx) }()
	for l.PendingProbes() == 0 {
		time.Sleep(time.Millisecond)
	}
	if _, ok := d.Store.Portal("credit-portal"); ok {
		t.Error("the probe's metrics are published before its row is written")
	}
	if n, _ := l.CountProbes(ctx, "credit-portal"); n != 0 {
		t.Errorf("%d probe rows before the commit", n)
	}
	select {
	case err := <-done:
		t.Fatalf("Collect returned (%v) before its row was written", err)
	default:
	}
	if _, err := conn.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if snap, ok := d.Store.Portal("credit-portal"); !ok || !snap.Success {
		t.Errorf("no metrics after the commit: %+v", snap)
	}
	if n, _ := l.CountProbes(ctx, "credit-portal"); n != 1 {
		t.Errorf("%d probe rows after the commit, want 1", n)
	}
}

// The default User-Agent carries the vantage, so that the portal's logs tell the vantages
// apart; a configured one is sent as it is.
func TestUserAgentNamesTheVantage(t *testing.T) {
	var got atomic.Value
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.UserAgent())
		w.Write([]byte("<html><body>信用</body></html>"))
	})
	for _, tc := range []struct{ ua, want string }{
		{"", "creditwatch (credit portal availability monitor; vantage unicom)"},
		{"user_agent: 'Mozilla/5.0 (city)', ", "Mozilla/5.0 (city)"},
	} {
		doc := "portal:\n  targets:\n    - {name: home, " + tc.ua + "url: '" + url + "'}\n"
		cfg, err := config.Parse([]byte(doc), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		d := testDeps(t)
		d.Vantage = "unicom"
		p, err := NewPortal(cfg.Portal.Targets[0], cfg.Portal, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Collect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ua, _ := got.Load().(string); ua != tc.want {
			t.Errorf("User-Agent %q, want %q", ua, tc.want)
		}
	}
}

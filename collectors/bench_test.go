package collectors

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// page50KB is the fixture portal page padded to 50 KB with more news items.
func page50KB(t testing.TB) []byte {
	page := fixture(t, "portal-utf8.html")
	item := []byte("<li>濮阳市发展和改革委员会关于开展信用修复专项培训的通知 2026-11-20</li>\n")
	var b bytes.Buffer
	b.Write(page[:bytes.Index(page, []byte("</body>"))])
	for b.Len() < 50<<10-100 {
		b.Write(item)
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPortalProbe50KB measures one whole probe of a 50 KB page on loopback: a new TCP
// connection, the GET, charset decoding, classification, the ledger transaction
// (synchronous=FULL) and the metrics snapshot. cpu-ns/op is the process's CPU time per
// probe, and includes the loopback server's share.
func BenchmarkPortalProbe50KB(b *testing.B) {
	page := page50KB(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer srv.Close()
	d := testDeps(b)
	p := testPortal(b, srv.URL+"/", d, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if err := p.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	if snap, _ := d.Store.Portal("credit-portal"); !snap.Success {
		b.Fatalf("probe failed: %s", snap.LastError)
	}
}

// BenchmarkClassify50KB is the pure part alone: decode and judge a 50 KB page.
func BenchmarkClassify50KB(b *testing.B) {
	a := Answer{StatusCode: 200, ContentType: "text/html; charset=utf-8", Body: page50KB(b)}
	exp := Expectation{Status: []int{200}, BodyContains: []string{"信用", "双公示"}}
	b.ReportAllocs()
	b.SetBytes(int64(len(a.Body)))
	for b.Loop() {
		if v := Classify(a, exp); v.Outcome != OutcomeOK {
			b.Fatal(v)
		}
	}
}

// BenchmarkPortalProbe50KBChanging is BenchmarkPortalProbe50KB with a page that differs at
// every request (a nonce in it, as some portals print): its SHA-256 never repeats, so the
// defacement check parses and judges it every time, the worst case of the content check.
func BenchmarkPortalProbe50KBChanging(b *testing.B) {
	page := page50KB(b)
	cut := bytes.Index(page, []byte("</body>"))
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n++
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page[:cut])
		fmt.Fprintf(w, `<input type="hidden" name="csrf" value="%d">`, n)
		w.Write(page[cut:])
	}))
	defer srv.Close()
	d := testDeps(b)
	p := testPortal(b, srv.URL+"/", d, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if err := p.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
	if c, _ := d.Store.Content("credit-portal"); c == nil {
		b.Fatal("the page's content was not checked")
	}
}

package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/service"
)

func startService(t *testing.T, portalURL, bodyContains string) *service.Service {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	doc := "portal:\n  targets:\n    - name: credit-portal\n      url: '" + portalURL + "'\n      interval: 100ms\n      timeout: 90ms\n      jitter: 0s\n" +
		"      expect: {body_contains: ['" + bodyContains + "']}\n  incident: {open_after: 1}\nstorage: {path: " + filepath.Join(dir, "l.db") + "}\n"
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	svc, err := service.Start(context.Background(), service.Options{ConfigFile: cfg, Logger: zap.NewNop(), Vantage: "test", Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(context.Background()) })
	return svc
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestStatusPageEscapesOutsideText(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("<html>维护中</html>"))
	}))
	defer portal.Close()
	hostile := `<img src=x onerror=alert(1)>`
	svc := startService(t, portal.URL+"/?q=<script>x</script>", hostile)
	h := Handler(svc, zap.NewNop())
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p, ok := svc.Store().Portal("credit-portal"); ok && p.IncidentOpen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no incident opened")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := get(t, h, "/")
	if code != 200 {
		t.Fatalf("GET / = %d", code)
	}
	for _, raw := range []string{hostile, "<script>x</script>"} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;x&lt;/script&gt;",
		`data-state="down">不可访问</span><span class="muted">事件进行中</span>`, "页面内容不符", "进行中", "五(四)1", "项台账条目需佐证材料"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestLifecycleEndpoints(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("信用")) }))
	defer portal.Close()
	svc := startService(t, portal.URL+"/", "信用")
	h := Handler(svc, zap.NewNop())
	for path, want := range map[string]int{"/-/healthy": 200, "/-/ready": 200, "/metrics": 200, "/nope": 404} {
		if code, _ := get(t, h, path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
	for method, want := range map[string]int{"POST": 200, "PUT": 200} {
		req := httptest.NewRequest(method, "/-/reload", nil)
		req.Header.Set(RequestHeader, "1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s /-/reload = %d: %s", method, rec.Code, rec.Body)
		}
		// What a page on another site can make a browser send.
		req = httptest.NewRequest(method, "/-/reload", strings.NewReader("x"))
		req.Header.Set("Content-Type", "text/plain")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s /-/reload as a simple cross-site request = %d, want 403", method, rec.Code)
		}
	}
}

func TestStatusPageShowsPublicityEscaped(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("信用")) }))
	defer portal.Close()
	svc := startService(t, portal.URL+"/", "信用")
	hostile := `<script>alert("局")</script>`
	rec := ledger.PublicityRecord{Kind: publicity.Penalty, ID: "濮罚〔2026〕1号", Source: "test", UpdatedAt: time.Now(),
		Assessment: publicity.Assessment{Department: hostile, Reported: true, Compliant: true, Timely: true}, Fields: map[string]string{}}
	if err := svc.Ledger().StorePublicity(context.Background(), []ledger.PublicityRecord{rec}, nil); err != nil {
		t.Fatal(err)
	}
	if err := svc.Rescore(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, Handler(svc, zap.NewNop()), "/")
	if strings.Contains(body, hostile) {
		t.Error("department name rendered unescaped")
	}
	for _, want := range []string{"“双公示”数据", "&lt;script&gt;alert(&#34;局&#34;)&lt;/script&gt;", "行政处罚", "100.00 %"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

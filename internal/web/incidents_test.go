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
	"golang.org/x/crypto/bcrypt"
)

// An incident's page shows its evidence; annotations come only from a user the web config's
// basic auth let through, under that user's name, as JSON.
func TestIncidentPageAndAnnotations(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer portal.Close()
	svc := startService(t, portal.URL+"/", "信用")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if open, _ := svc.Ledger().Incidents(context.Background(), time.Time{}, time.Time{}, true); len(open) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no incident opened")
		}
	}
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	webCfg := filepath.Join(dir, "web.yml")
	os.WriteFile(webCfg, []byte("basic_auth_users:\n  wang: "+string(hash)+"\n"), 0o600)
	withAuth := serveForTest(t, Handler(svc, zap.NewNop()), webCfg)
	without := httptest.NewServer(Handler(svc, zap.NewNop()))
	defer without.Close()

	post := func(base, user, contentType, body string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/api/v1/incidents/1/annotations", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if user != "" {
			req.SetBasicAuth(user, "s3cret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	body := `{"cause":"monitor_error","note":"body_contains 写错了"}`
	steps := []struct {
		base, user, contentType, body string
		want                          int
	}{
		{without.URL, "wang", "application/json", body, 403},      // no web config: nobody is authenticated
		{"http://" + withAuth, "", "application/json", body, 401}, // the toolkit asks for credentials
		{"http://" + withAuth, "wang", "text/plain", body, 403},   // a simple cross-site request
		{"http://" + withAuth, "wang", "application/json", `{"cause":"nonsense","note":"x"}`, 400},
		{"http://" + withAuth, "wang", "application/json", body, 200},
	}
	for i, s := range steps {
		if got, text := post(s.base, s.user, s.contentType, s.body); got != s.want {
			t.Errorf("step %d: HTTP %d (%s), want %d", i, got, text, s.want)
		}
	}
	inc, _ := svc.Ledger().Incident(context.Background(), 1)
	if inc == nil || len(inc.Annotations) != 1 || inc.Annotations[0].By != "wang" || !inc.Voided() {
		t.Fatalf("incident = %+v, want one annotation by the authenticated user wang", inc)
	}
	_, page := get(t, Handler(svc, zap.NewNop()), "/incidents/1")
	for _, want := range []string{"事件 1", "监测程序自身错误（不计分）：body_contains 写错了（wang", "HTTP/1.1 503 Service Unavailable", "开始时的探测"} {
		if !strings.Contains(page, want) {
			t.Errorf("incident page lacks %q", want)
		}
	}
	if code, _ := get(t, Handler(svc, zap.NewNop()), "/incidents/99"); code != 404 {
		t.Errorf("a missing incident: HTTP %d", code)
	}
}

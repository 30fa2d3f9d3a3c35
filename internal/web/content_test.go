package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/sim"
)

func post(t *testing.T, h http.Handler, path, user, contentType, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, "secret")
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

// TestContentEndpoints: accepting a baseline and recording a security incident need a
// logged-in user and JSON; the user is who is recorded.
func TestContentEndpoints(t *testing.T) {
	page, _ := sim.PortalPage(sim.FaultOK)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer portal.Close()
	svc := startService(t, portal.URL+"/", "信用")
	open := Handler(svc, zap.NewNop())
	// Past the web config's basic auth (the toolkit checks the password; see
	// TestIncidentPageAndAnnotations for the whole server).
	authed := Handler(svc, zap.NewNop())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authed.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey{}, true)))
	})
	const baseline = "/api/v1/targets/credit-portal/baseline"
	const security = "/api/v1/security-incidents"
	record := `{"date": "` + time.Now().Format(time.DateOnly) + `", "ref": "豫网信通〔2026〕5号", "kind": "notified", "note": "共享平台弱口令"}`
	refused := map[string]struct {
		h                       http.Handler
		path, user, ctype, body string
		code                    int
	}{
		"without basic auth configured": {open, baseline, "李四", "application/json", "{}", http.StatusForbidden},
		"without a user":                {h, security, "", "application/json", record, http.StatusForbidden},
		"not JSON":                      {h, security, "李四", "application/x-www-form-urlencoded", "ref=x", http.StatusForbidden},
		"an unknown target":             {h, "/api/v1/targets/nope/baseline", "李四", "application/json", "{}", http.StatusNotFound},
		"an unknown kind":               {h, security, "李四", "application/json", strings.Replace(record, "notified", "hacked", 1), http.StatusBadRequest},
		"no reference":                  {h, security, "李四", "application/json", strings.Replace(record, "豫网信通〔2026〕5号", " ", 1), http.StatusBadRequest},
	}
	for name, tc := range refused {
		if code, body := post(t, tc.h, tc.path, tc.user, tc.ctype, tc.body); code != tc.code {
			t.Errorf("%s: %d %s, want %d", name, code, body, tc.code)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, _ := svc.Ledger().LoadContentState(context.Background(), "credit-portal"); st.Page != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the probe did not see the page")
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body := post(t, h, baseline, "李四", "application/json", "{}")
	var got map[string]any
	json.Unmarshal([]byte(body), &got)
	if code != 200 || got["by"] != "李四" || got["baseline"] == nil {
		t.Fatalf("accepting a baseline: %d %s", code, body)
	}
	code, body = post(t, h, security, "张三", "application/json", record)
	if code != 200 {
		t.Fatalf("recording an incident: %d %s", code, body)
	}
	json.Unmarshal([]byte(body), &got)
	s, _ := svc.Ledger().SecurityIncident(context.Background(), int64(got["security_incident"].(float64)))
	if s == nil || s.By != "张三" || s.Kind != ledger.SecurityNotified {
		t.Errorf("recorded: %+v", s)
	}
	if r, _ := svc.Store().Card().Result("security_incidents"); !r.Known || r.Points != 0 {
		t.Errorf("security_incidents after the record: %+v", r)
	}
}

// TestStatusPageShowsContentEscaped: reports, security incidents and list pages are on the
// status page, everything from outside escaped.
func TestStatusPageShowsContentEscaped(t *testing.T) {
	page, _ := sim.PortalPage(sim.FaultOK)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(page) }))
	defer portal.Close()
	svc := startService(t, portal.URL+"/", "信用")
	ctx := context.Background()
	now := time.Now()
	hostile := `<script>alert("篡改")</script>`
	l := svc.Ledger()
	if _, err := l.RecordReportCheck(ctx, ledger.ReportCheck{Code: "91410900MA45A0011B", Name: "濮阳" + hostile, URL: "https://x/report?code=1",
		CheckedAt: now.Add(-time.Minute), Result: ledger.ReportNonconforming, Reasons: []ledger.Reason{{Code: "wrong_name",
			Message: "报告中的企业名称「" + hostile + "」与台账记录不一致"}}}, now.AddDate(-1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordReportCheck(ctx, ledger.ReportCheck{Code: "91410900MA45A002X3", CheckedAt: now.Add(-time.Minute),
		Result: ledger.ReportFetchError, ErrorClass: "pdf_truncated"}, now.AddDate(-1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordContent(ctx, ledger.ContentObservation{Target: "credit-portal", Site: "portal", Scored: true, URL: portal.URL,
		At: now.Add(-time.Minute), FirstSeen: now.Add(-2 * time.Minute), PageSHA256: "9f86d0", StillConfirmed: []string{"foreign_script"},
		Confirmed: []ledger.Sign{{Rule: "foreign_script", Evidence: `<script src="https://evil.example/x.js">`}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: now, Kind: ledger.SecurityIntrusion, Ref: "R-" + hostile,
		Note: "共享平台", By: "张三", At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Rescore(ctx); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, Handler(svc, zap.NewNop()), "/")
	for _, raw := range []string{hostile, `<script src="https://evil.example/x.js">`} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, want := range []string{"信息安全事件", "外部来源脚本", "&lt;script src=&#34;https://evil.example/x.js&#34;&gt;", "页面 SHA-256 9f86d0",
		"信用办记录", "被成功入侵", "R-&lt;script&gt;", "计入本周期", "企业信用报告检查", "91410900MA45A0011B",
		"与台账记录不一致", "PDF不完整 1 次", "不符合《公共信用信息报告标准》的 <b class=\"lost\">1 家</b>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

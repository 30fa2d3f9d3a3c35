package app

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAlertmanager answers POST /api/v2/alerts with status and body, and lists what it was
// given, routed to receiver, on GET.
func fakeAlertmanager(t *testing.T, status int, body, receiver string) (*httptest.Server, func() []postableAlert) {
	t.Helper()
	var mu sync.Mutex
	var got []postableAlert
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v2/alerts":
			var as []postableAlert
			if err := json.NewDecoder(r.Body).Decode(&as); err != nil || r.Header.Get("Content-Type") != "application/json" {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			if status/100 == 2 {
				got = append(got, as...)
			}
			w.WriteHeader(status)
			w.Write([]byte(body))
		case r.Method == http.MethodGet && r.URL.Path == "/api/v2/alerts":
			if f := r.URL.Query()["filter"]; len(f) != 2 || f[0] != `alertname="CreditwatchNotifyTest"` || !strings.HasPrefix(f[1], `test_id="`) {
				http.Error(w, "unexpected filter", http.StatusBadRequest)
				return
			}
			var out []map[string]any
			for range got {
				out = append(out, map[string]any{"receivers": []map[string]string{{"name": receiver}}})
			}
			json.NewEncoder(w).Encode(out)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []postableAlert {
		mu.Lock()
		defer mu.Unlock()
		return append([]postableAlert(nil), got...)
	}
}

func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

var notifyNow = func() time.Time { return time.Date(2026, 10, 8, 2, 0, 0, 0, time.UTC) }

func TestNotifyTestAccepted(t *testing.T) {
	am, got := fakeAlertmanager(t, http.StatusOK, "", "oncall")
	var out strings.Builder
	err := NotifyTest(context.Background(), NotifyOptions{URLs: []string{am.URL + "/"}, Labels: map[string]string{"audience": "office"},
		Out: &out, Now: notifyNow})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "Sending the test alert CreditwatchNotifyTest (severity=\"critical\") to 1 Alertmanager(s); it resolves by itself at 2026-10-08 10:05:00 (Beijing time).\n" +
		am.URL + "/: accepted; routed to oncall\n" +
		"The receivers should show \"通知测试：creditwatch 告警通路 / Notification test from creditwatch\" after the route's group_wait; if one does not, see its Alertmanager's log (notify errors name the receiver).\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	alerts := got()
	if len(alerts) != 1 {
		t.Fatalf("Alertmanager got %d alerts", len(alerts))
	}
	a := alerts[0]
	for k, v := range map[string]string{"alertname": "CreditwatchNotifyTest", "severity": "critical", "audience": "office", "test_id": "1791424800"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if !a.StartsAt.Equal(notifyNow()) || !a.EndsAt.Equal(notifyNow().Add(5*time.Minute)) {
		t.Errorf("starts %v, ends %v", a.StartsAt, a.EndsAt)
	}
	if d := a.Annotations["description"]; !strings.Contains(d, "于 2026-10-08 10:00:00（北京时间）用 creditwatch notify test 发出的测试告警") ||
		!strings.Contains(d, "\nA test alert sent with creditwatch notify test") {
		t.Errorf("description %q", d)
	}
}

func TestNotifyTestFailures(t *testing.T) {
	rejecting, _ := fakeAlertmanager(t, http.StatusBadRequest, `{"code":400,"message":"start time must be before end time"}`, "")
	failing, _ := fakeAlertmanager(t, http.StatusInternalServerError, strings.Repeat("内部错误 ", 100), "")
	accepting, _ := fakeAlertmanager(t, http.StatusOK, "", "team-channel")
	notAM := httptest.NewServer(http.NotFoundHandler())
	defer notAM.Close()
	closed := closedURL(t)
	tests := []struct {
		name     string
		opts     NotifyOptions
		code     int
		err      string
		contains []string
	}{
		{"unreachable", NotifyOptions{URLs: []string{closed}}, 3, "1 of 1 Alertmanagers did not accept the test alert",
			[]string{closed + ": NOT accepted: cannot reach Alertmanager (dial tcp ", "connection refused); check that it runs there (curl " + closed + "/-/healthy)"}},
		{"rejected with its message", NotifyOptions{URLs: []string{rejecting.URL}}, 3, "1 of 1 Alertmanagers did not accept the test alert",
			[]string{rejecting.URL + `: NOT accepted: Alertmanager answered HTTP 400 Bad Request: "{\"code\":400,\"message\":\"start time must be before end time\"}"; Alertmanager refused the alert itself: see its message`}},
		{"a long answer cut short", NotifyOptions{URLs: []string{failing.URL}}, 3, "1 of 1 Alertmanagers did not accept the test alert",
			[]string{failing.URL + `: NOT accepted: Alertmanager answered HTTP 500 Internal Server Error: "内部错误 内部错误`, `…"; Alertmanager failed: see its log`}},
		{"not an Alertmanager", NotifyOptions{URLs: []string{notAM.URL}}, 3, "1 of 1 Alertmanagers did not accept the test alert",
			[]string{notAM.URL + `: NOT accepted: Alertmanager answered HTTP 404 Not Found: "404 page not found"; no Alertmanager API v2 there`}},
		{"one of a cluster down", NotifyOptions{URLs: []string{accepting.URL, closed}, Severity: "warning"}, 3, "1 of 2 Alertmanagers did not accept the test alert",
			[]string{`(severity="warning") to 2 Alertmanager(s)`, accepting.URL + ": accepted; routed to team-channel", closed + ": NOT accepted"}},
		{"a password stays out of the output", NotifyOptions{URLs: []string{strings.Replace(closed, "http://", "http://am:s3cret@", 1)}}, 3,
			"1 of 1 Alertmanagers did not accept the test alert", []string{"http://am:xxxxx@"}},
		{"no URL", NotifyOptions{}, 2, "no --alertmanager.url: give the Alertmanager's address, e.g. --alertmanager.url=http://alertmanager:9093", nil},
		{"not a URL", NotifyOptions{URLs: []string{"alertmanager:9093"}}, 2,
			`--alertmanager.url "alertmanager:9093" is not an http or https URL; give the Alertmanager's base URL, e.g. http://alertmanager:9093`, nil},
		{"the API's path", NotifyOptions{URLs: []string{"http://am:9093/api/v2/alerts"}}, 2,
			"--alertmanager.url http://am:9093/api/v2/alerts must be the Alertmanager's base URL, without /api/… or a query, e.g. http://alertmanager:9093", nil},
		{"a bad label", NotifyOptions{URLs: []string{accepting.URL}, Labels: map[string]string{"1x": "y"}}, 2,
			`--label 1x=y: "1x" is not a label name (letters, digits and _, not starting with a digit or __)`, nil},
		{"another alert name", NotifyOptions{URLs: []string{accepting.URL}, Labels: map[string]string{"alertname": "CreditPortalUnreachable"}}, 2,
			"--label alertname=CreditPortalUnreachable: the test alert is always CreditwatchNotifyTest, so that it is never taken for a real one", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			tc.opts.Out, tc.opts.Now, tc.opts.Timeout = &out, notifyNow, 5*time.Second
			err := NotifyTest(context.Background(), tc.opts)
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != tc.code || err.Error() != tc.err {
				t.Fatalf("err = %v (%T), want exit %d: %s", err, err, tc.code, tc.err)
			}
			for _, want := range tc.contains {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), "s3cret") {
				t.Errorf("the password is in the output:\n%s", out.String())
			}
		})
	}
}

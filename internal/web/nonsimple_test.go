package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequireNonSimple: what a cross-site page can make a browser send is refused.
func TestRequireNonSimple(t *testing.T) {
	h := RequireNonSimple(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("done")) }))
	tests := map[string]struct {
		header map[string]string
		want   int
	}{
		"html form":             {header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 403},
		"text/plain fetch":      {header: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, want: 403},
		"multipart form":        {header: map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, want: 403},
		"no content type":       {want: 403},
		"empty custom header":   {header: map[string]string{RequestHeader: ""}, want: 403},
		"json-like media type":  {header: map[string]string{"Content-Type": "application/json-patch+json"}, want: 403},
		"custom header":         {header: map[string]string{RequestHeader: "1"}, want: 200},
		"json":                  {header: map[string]string{"Content-Type": "application/json"}, want: 200},
		"json with a parameter": {header: map[string]string{"Content-Type": "Application/JSON; charset=utf-8"}, want: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/-/reload", strings.NewReader(""))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("HTTP %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if tc.want == 403 && !strings.Contains(rec.Body.String(), "X-Creditwatch-Request: 1") {
				t.Errorf("the refusal does not say what to send: %s", rec.Body)
			}
		})
	}
}

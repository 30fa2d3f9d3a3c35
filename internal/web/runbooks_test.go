package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/alerts"
)

// TestRunbooksPage serves docs/runbooks.md at /runbooks/ and finds there every anchor the
// alerts link to, in a page that loads nothing from anywhere.
func TestRunbooksPage(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("信用")) }))
	defer portal.Close()
	h := Handler(startService(t, portal.URL+"/", "信用"), zap.NewNop())

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runbooks/", nil))
	page := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /runbooks/ = %d: %s", rec.Code, page)
	}
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	for _, want := range []string{`<html lang="zh-CN">`, "<title>creditwatch 处置手册</title>", `<h2 id="toc">目录</h2>`,
		`<a href="#creditportalunreachable">信用门户网站不可访问</a> <span class="muted">CreditPortalUnreachable</span>`,
		"<h3", "前三项检查", "&lt;门户网站运维值班电话&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", " src=", "<link", "@import", "url(", "<iframe", "raw HTML omitted"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q: it must load nothing and show all of the runbooks", bad)
		}
	}

	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(alerts.Rules, &rf); err != nil {
		t.Fatal(err)
	}
	anchorOf := regexp.MustCompile(`}}#([a-z0-9-]+){{ end }}`)
	n := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			m := anchorOf.FindStringSubmatch(r.Annotations["runbook_url"])
			if m == nil {
				t.Errorf("%s: no anchor in runbook_url %q", r.Alert, r.Annotations["runbook_url"])
				continue
			}
			if m[1] != strings.ToLower(r.Alert) {
				t.Errorf("%s: runbook_url anchor #%s, want #%s", r.Alert, m[1], strings.ToLower(r.Alert))
			}
			if !strings.Contains(page, `<h2 id="`+m[1]+`">`+r.Alert+`</h2>`) {
				t.Errorf("%s: the page has no section with id %q", r.Alert, m[1])
			}
		}
	}
	if n < 15 {
		t.Errorf("only %d alerts found in the rules", n)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/runbooks", nil))
	if rec.Code/100 != 3 || rec.Header().Get("Location") != "/runbooks/" {
		t.Errorf("GET /runbooks = %d to %q, want a redirect to /runbooks/", rec.Code, rec.Header().Get("Location"))
	}
	if code, _ := get(t, h, "/runbooks/other"); code != http.StatusNotFound {
		t.Errorf("GET /runbooks/other = %d, want 404", code)
	}
}

// TestRenderRunbooksEscapes: whatever the markdown holds, the page shows it as text.
func TestRenderRunbooksEscapes(t *testing.T) {
	for _, tc := range []struct {
		name, md     string
		want, absent []string
	}{
		{"raw HTML block",
			"# 手册\n\n## CreditwatchX\n\n<script>alert(1)</script>\n\n正文\n",
			[]string{`<h2 id="creditwatchx">CreditwatchX</h2>`, "<p>正文</p>"}, []string{"<script>alert"}},
		{"inline HTML",
			"# 手册\n\n## A\n\n一段 <img src=x onerror=alert(1)> 文字\n",
			[]string{"一段"}, []string{"<img", "onerror=alert"}},
		{"a javascript link",
			"# 手册\n\n## A\n\n[点我](javascript:alert(1))\n",
			[]string{">点我</a>"}, []string{"javascript:"}},
		{"markup in code",
			"# 手册\n\n## A\n\n`<b>x</b>` 与 `a & b`\n",
			[]string{"<code>&lt;b&gt;x&lt;/b&gt;</code>", "<code>a &amp; b</code>"}, []string{"<b>x</b>"}},
		{"anchors as GitHub makes them, Chinese included, the page's own toc kept",
			"# 手册\n\n## 联系人（由本市填写）\n\n## TOC\n\n## Two Words\n\n## Two Words\n",
			[]string{`<h2 id="联系人由本市填写">`, `<h2 id="toc-1">`, `<h2 id="two-words">`, `<h2 id="two-words-1">`}, nil},
		{"a heading's bold title in the contents, escaped",
			"# 手册 <i>\n\n## CreditPortalX\n\n**门户 <无法> 访问** · 紧急\n",
			[]string{`<title>手册</title>`, `<a href="#creditportalx">门户 &lt;无法&gt; 访问</a> <span class="muted">CreditPortalX</span>`},
			[]string{"<无法>", "<i>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := renderRunbooks([]byte(tc.md))
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(page), w) {
					t.Errorf("the page lacks %q:\n%s", w, page)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(page), a) {
					t.Errorf("the page contains %q:\n%s", a, page)
				}
			}
		})
	}
}

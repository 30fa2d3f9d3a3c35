package deface

import (
	"errors"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/pagetext"
)

const origin = "https://credit.puyang.example.gov.cn/"

func parse(t *testing.T, html string) *Page {
	t.Helper()
	p, err := Parse([]byte(html), "text/html; charset=utf-8", origin)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleList(signs []Sign) string {
	var out []string
	for _, s := range signs {
		out = append(out, s.Rule)
	}
	return strings.Join(out, " ")
}

func TestHiddenLinks(t *testing.T) {
	link := `<a href="http://spam.example/">x</a>`
	tests := map[string]struct {
		html, want string
	}{
		"display none":                  {html: `<div style="display:none">` + link + `</div>`, want: "foreign_link hidden_link"},
		"visibility hidden":             {html: `<span style="visibility: hidden">` + link + `</span>`, want: "foreign_link hidden_link"},
		"off screen left":               {html: `<div style="position:absolute; left:-9999px">` + link + `</div>`, want: "foreign_link hidden_link"},
		"off screen top, fixed":         {html: `<div style="position:fixed;top:-3000px">` + link + `</div>`, want: "foreign_link hidden_link"},
		"text indent":                   {html: `<p style="text-indent:-9999px">` + link + `</p>`, want: "foreign_link hidden_link"},
		"zero height overflow":          {html: `<div style="height:0;overflow:hidden">` + link + `</div>`, want: "foreign_link hidden_link"},
		"zero size":                     {html: `<div style="width:0px;height:0px">` + link + `</div>`, want: "foreign_link hidden_link"},
		"font size zero":                {html: `<div style="font-size:0">` + link + `</div>`, want: "foreign_link hidden_link"},
		"hidden attribute":              {html: `<div hidden>` + link + `</div>`, want: "foreign_link hidden_link"},
		"class rule":                    {html: `<style>/* seo */ .yc{display:none !important}</style><div class="box yc">` + link + `</div>`, want: "foreign_link hidden_link"},
		"id rule":                       {html: `<style>#f1{position:absolute;left:-20000px}</style><div id="f1">` + link + `</div>`, want: "foreign_link hidden_link"},
		"tag.class rule in a list":      {html: `<style>h1, div.k {visibility:hidden}</style><div class="k">` + link + `</div>`, want: "foreign_link hidden_link"},
		"hidden link itself":            {html: `<a style="display:none" href="http://spam.example/">x</a>`, want: "foreign_link hidden_link"},
		"visible foreign link":          {html: link, want: "foreign_link"},
		"zero height, overflow visible": {html: `<div style="height:0">` + link + `</div>`, want: "foreign_link"},
		"small negative margin":         {html: `<div style="position:absolute;left:-20px">` + link + `</div>`, want: "foreign_link"},
		"descendant rule is not simple": {html: `<style>.nav a{display:none}</style><div class="nav">` + link + `</div>`, want: "foreign_link"},
		"hidden own link (a menu)":      {html: `<ul style="display:none"><li><a href="/xydt/">信用动态</a></li></ul>`, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ruleList(Detect(parse(t, "<html><body>"+tc.html+"</body></html>"), Policy{}, nil)); got != tc.want {
				t.Errorf("rules %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	page := `<script src="https://dcs.conac.cn/js/33/000/0000/60.js"></script><script src="/static/app.js"></script>` +
		`<script src="https://credit.puyang.example.gov.cn:443/x.js"></script><iframe src="https://www.creditchina.gov.cn/widget"></iframe>` +
		`<a href="http://other.example.gov.cn/">x</a><a href="javascript:void(0)">y</a><a href="mailto:a@b.cn">m</a><a href="#top">t</a>` +
		`<meta http-equiv="refresh" content="5; URL='https://www.puyang.gov.cn/'">`
	tests := map[string]struct {
		allow AllowList
		want  string
	}{
		"nothing allowed":  {want: "foreign_script foreign_frame foreign_link foreign_resource"},
		"hosts":            {allow: AllowList{"dcs.conac.cn", "www.creditchina.gov.cn"}, want: "foreign_link foreign_resource"},
		"wildcard":         {allow: AllowList{"*.conac.cn", "*.gov.cn"}, want: ""},
		"origin, not host": {allow: AllowList{"http://dcs.conac.cn", "*.gov.cn"}, want: "foreign_script"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := ruleList(Detect(parse(t, page), Policy{Allow: tc.allow}, nil))
			if got != tc.want {
				t.Errorf("rules %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeywords(t *testing.T) {
	tests := map[string]struct {
		html   string
		policy Policy
		want   string
	}{
		"meta keywords":                {html: `<meta name="keywords" content="信用,百家乐">`, want: "keyword"},
		"spaced out":                   {html: `<p>百 家　乐</p>`, want: "keyword"},
		"latin case":                   {html: `<p>AV女优</p>`, want: "keyword"},
		"written by a script":          {html: `<script>document.write("<a href=/x>六合彩</a>")</script>`, want: "keyword"},
		"in an image's alt":            {html: `<img src="/a.png" alt="老虎机">`, want: "keyword"},
		"not in styles":                {html: `<style>.百家乐{}</style>`, want: ""},
		"credit words are fine":        {html: `<p>信用修复 征信 贷款 彩票诈骗警示</p>`, want: ""},
		"target's own list":            {html: `<p>内部测试页面</p>`, policy: Policy{MustNotContain: []string{"内部测试"}}, want: "must_not_contain"},
		"an empty list checks nothing": {html: `<p>百家乐</p>`, policy: Policy{Keywords: []string{}}, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ruleList(Detect(parse(t, tc.html), tc.policy, nil)); got != tc.want {
				t.Errorf("rules %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEvidenceIsBounded(t *testing.T) {
	long := strings.Repeat("很长的链接文字", 200)
	signs := Detect(parse(t, `<a href="http://spam.example/`+strings.Repeat("a", 2000)+`">`+long+`</a>`), Policy{}, nil)
	if len(signs) != 1 || len(signs[0].Evidence) > MaxEvidenceBytes+len("…") || !strings.HasSuffix(signs[0].Evidence, "…") {
		t.Fatalf("%+v", signs)
	}
	many := strings.Repeat(`<script src="https://x.example/a.js"></script>`, 100)
	if n := len(Detect(parse(t, many), Policy{}, nil)); n != maxSignsPerRule {
		t.Errorf("%d signs for 100 foreign scripts, want %d", n, maxSignsPerRule)
	}
}

func TestBaselineJSON(t *testing.T) {
	b := NewBaseline(parse(t, `<html><head><title>信用濮阳</title></head><body><div class="a1"><p>x</p></div></body></html>`))
	data, err := MarshalBaseline(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalBaseline(data)
	if err != nil || got.Title != "信用濮阳" || got.Profile["html>body>div.a>p"] != 1 {
		t.Fatalf("round trip: %+v %v (%s)", got, err, data)
	}
	if _, err := UnmarshalBaseline([]byte(`{"version":9}`)); err == nil {
		t.Error("an unknown version was accepted")
	}
}

func TestPageSHA256(t *testing.T) {
	if got := PageSHA256([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("PageSHA256 = %s", got)
	}
}

func TestParseTooDeep(t *testing.T) {
	_, err := Parse([]byte(strings.Repeat("<div>", 100_000)), "text/html", origin)
	if !errors.Is(err, pagetext.ErrTooDeep) {
		t.Fatalf("err = %v, want pagetext.ErrTooDeep", err)
	}
}

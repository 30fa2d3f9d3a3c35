package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"go.uber.org/zap"
)

// runbooks serves docs/runbooks.md as one Chinese HTML page at /runbooks/, so that the
// alerts' runbook links work from the city's own network. Each section's anchor is its
// heading in lower case: the section of an alert is /runbooks/#alertname-in-lower-case.
type runbooks struct {
	md  []byte
	log *zap.Logger

	once sync.Once
	page []byte
	err  error
}

func newRunbooks(md []byte, log *zap.Logger) *runbooks { return &runbooks{md: md, log: log} }

func (rb *runbooks) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	rb.once.Do(func() { rb.page, rb.err = renderRunbooks(rb.md) })
	if rb.err != nil {
		rb.log.Error("rendering the runbooks", zap.Error(rb.err))
		http.Error(w, "处置手册无法显示（the runbooks could not be rendered）", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// Nothing is loaded from anywhere: the page must work where only creditwatch is reachable.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
	w.Write(rb.page)
}

// runbookSection is an entry of the page's table of contents.
type runbookSection struct {
	ID, Heading, Title string
}

var runbookMarkdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	// Raw HTML in the markdown is left out (goldmark's default without html.WithUnsafe):
	// the page shows text, escaped, and nothing else.
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// renderRunbooks renders the markdown into the page, with a table of contents of its
// second-level sections, each with the bold title that opens it (the alert's Chinese name).
func renderRunbooks(md []byte) ([]byte, error) {
	ids := &headingIDs{seen: map[string]bool{"toc": true}} // toc: the page's own contents
	doc := runbookMarkdown.Parser().Parse(text.NewReader(md), parser.WithContext(parser.NewContext(parser.WithIDs(ids))))
	var title string
	var toc []runbookSection
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok {
			continue
		}
		switch h.Level {
		case 1:
			if title == "" {
				title = plainText(h, md)
			}
		case 2:
			id, _ := h.AttributeString("id")
			ids, _ := id.([]byte)
			s := runbookSection{ID: string(ids), Heading: plainText(h, md)}
			if p, ok := h.NextSibling().(*ast.Paragraph); ok {
				if e, ok := p.FirstChild().(*ast.Emphasis); ok && e.Level == 2 {
					s.Title = plainText(e, md)
				}
			}
			toc = append(toc, s)
		}
	}
	var body bytes.Buffer
	if err := runbookMarkdown.Renderer().Render(&body, md, doc); err != nil {
		return nil, fmt.Errorf("rendering docs/runbooks.md: %w", err)
	}
	var page bytes.Buffer
	err := runbookTmpl.Execute(&page, struct {
		Title string
		TOC   []runbookSection
		Body  template.HTML
	}{title, toc, template.HTML(body.String())}) //nolint:gosec // goldmark escapes text and omits raw HTML
	if err != nil {
		return nil, fmt.Errorf("rendering docs/runbooks.md: %w", err)
	}
	return page.Bytes(), nil
}

// headingIDs names headings as GitHub does, so that an anchor works on both: the heading's
// letters and digits (Chinese included) in lower case, spaces as '-', other punctuation
// dropped, and -1, -2… after a repeated name. An alert's section is its name in lower case.
type headingIDs struct{ seen map[string]bool }

func (h *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	var b strings.Builder
	for _, r := range strings.TrimSpace(string(value)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(unicode.ToLower(r))
		case r == ' ':
			b.WriteByte('-')
		}
	}
	base := b.String()
	if base == "" {
		base = "section"
	}
	id := base
	for i := 1; h.seen[id]; i++ {
		id = fmt.Sprintf("%s-%d", base, i)
	}
	h.seen[id] = true
	return []byte(id)
}

func (h *headingIDs) Put(value []byte) { h.seen[string(value)] = true }

// plainText is the text of a node's inline children, without markup.
func plainText(n ast.Node, src []byte) string {
	var b bytes.Buffer
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.CodeSpan:
			for cc := t.FirstChild(); cc != nil; cc = cc.NextSibling() {
				if tt, ok := cc.(*ast.Text); ok {
					b.Write(tt.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

var runbookTmpl = template.Must(template.New("runbooks").Parse(`<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; margin: 2rem auto; max-width: 60rem; color: #1f2328; padding: 0 1rem; line-height: 1.6; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.4rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
h3 { font-size: 1rem; margin-top: 1.2rem; }
h2:target { background: #fff8c5; }
code { background: #f6f8fa; padding: .1rem .3rem; border-radius: 3px; font-size: .85em; word-break: break-all; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .6rem; overflow: auto; font-size: .85rem; }
pre code { background: none; padding: 0; word-break: normal; }
table { border-collapse: collapse; font-size: .9rem; } th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
nav ol { columns: 2; font-size: .9rem; } nav li { break-inside: avoid; }
.muted { color: #57606a; }
</style>
</head>
<body>
<p><a href="../">返回状态页</a></p>
<nav>
<h2 id="toc">目录</h2>
<ol>
{{range .TOC}}<li><a href="#{{.ID}}">{{if .Title}}{{.Title}}{{else}}{{.Heading}}{{end}}</a>{{if .Title}} <span class="muted">{{.Heading}}</span>{{end}}</li>
{{end}}</ol>
</nav>
{{.Body}}
</body>
</html>
`))

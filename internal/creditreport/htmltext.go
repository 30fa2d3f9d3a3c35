package creditreport

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// htmlText renders a report page as lines of text: a line per block element or table row,
// cells separated by tabs; scripts, styles and the head left out (the title kept).
func htmlText(page string) (string, error) {
	doc, err := pagetext.ParseHTML(page)
	if err != nil {
		return "", &ReadError{Class: ClassHTML, Err: err}
	}
	var b strings.Builder
	renderText(&b, doc)
	return b.String(), nil
}

var blockAtoms = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Li: true, atom.Tr: true, atom.Table: true, atom.Section: true, atom.Article: true,
	atom.Header: true, atom.Footer: true, atom.Dt: true, atom.Dd: true, atom.Dl: true, atom.Ul: true,
	atom.Ol: true, atom.Caption: true, atom.Title: true, atom.Br: true, atom.Hr: true, atom.Pre: true,
	atom.Blockquote: true, atom.Form: true, atom.Fieldset: true, atom.Legend: true, atom.Main: true, atom.Nav: true,
}

var skipAtoms = map[atom.Atom]bool{atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Meta: true, atom.Link: true, atom.Iframe: true, atom.Object: true, atom.Svg: true}

func renderText(b *strings.Builder, n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(strings.Join(strings.Fields(n.Data), " "))
		return
	case html.ElementNode:
		if skipAtoms[n.DataAtom] {
			return
		}
	}
	block := n.Type == html.ElementNode && blockAtoms[n.DataAtom]
	if block {
		b.WriteByte('\n')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		renderText(b, c)
		if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
			b.WriteByte('\t')
		}
	}
	if block {
		b.WriteByte('\n')
	}
}

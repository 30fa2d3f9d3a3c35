package pagetext

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/html"
)

// ErrTooDeep: the HTML nests elements deeper than the parser's limit of 512 open elements
// (golang.org/x/net/html stops there; a browser would build the page, but no real page
// nests that deep, so creditwatch treats it as unreadable).
var ErrTooDeep = errors.New("html nested too deep")

// ParseHTML parses decoded HTML into a tree.
func ParseHTML(text string) (*html.Node, error) {
	doc, err := html.Parse(strings.NewReader(text))
	if err != nil {
		if strings.Contains(err.Error(), "open stack of elements") {
			return nil, fmt.Errorf("parsing html: %w", ErrTooDeep)
		}
		return nil, fmt.Errorf("parsing html: %w", err)
	}
	return doc, nil
}

package creditreport

import (
	"math"
	"slices"
	"strings"

	"github.com/ledongthuc/pdf"
)

// fontDecoders decode text shown in each font of a document, each font read once.
type fontDecoders map[string]func(string) string

// decoder returns the decoder of a page's font resource: its ToUnicode map when it has
// one, else the reader's decoding by /Encoding.
func (fd fontDecoders) decoder(p pdf.Page, name string) func(string) string {
	f := p.Font(name)
	tu := f.V.Key("ToUnicode")
	key := name + "\x00" + f.BaseFont() + "\x00" + tu.String()
	if d, ok := fd[key]; ok {
		return d
	}
	var d func(string) string
	if tu.Kind() == pdf.Stream {
		d = readToUnicode(tu, p.Font(name).V).decode
	} else {
		d = f.Encoder().Decode
	}
	fd[key] = d
	return d
}

// pageText is a page's text in content-stream order, a line break at each new text
// object and wherever the text moves to another line.
func pageText(p pdf.Page, fonts fontDecoders) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = readErr(ClassPDFBroken, "reading pdf page content: %v", r)
		}
	}()
	contents := p.V.Key("Contents")
	if contents.Kind() == pdf.Null {
		return "", nil
	}
	var b strings.Builder
	decode := func(s string) string { return s }
	lastY := math.NaN()
	atLineStart := true
	newline := func() {
		if !atLineStart {
			b.WriteByte('\n')
			atLineStart = true
		}
	}
	write := func(s string) {
		if s != "" {
			b.WriteString(s)
			atLineStart = false
		}
	}
	var args []pdf.Value
	onPage := map[string]func(string) string{} // resolving a font costs a read: once a page
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		args = args[:0]
		for stk.Len() > 0 {
			args = append(args, stk.Pop())
		}
		slices.Reverse(args)
		switch op {
		case "BT", "T*":
			newline()
		case "Td", "TD":
			if len(args) == 2 && args[1].Float64() != 0 {
				newline()
			}
		case "Tm":
			if len(args) == 6 {
				if y := args[5].Float64(); !math.IsNaN(lastY) && math.Abs(y-lastY) > 0.5 {
					newline()
				}
				lastY = args[5].Float64()
			}
		case "Tf":
			if len(args) == 2 {
				name := args[0].Name()
				d, ok := onPage[name]
				if !ok {
					d = fonts.decoder(p, name)
					onPage[name] = d
				}
				decode = d
			}
		case "'", "\"":
			newline()
			if len(args) > 0 {
				write(decode(args[len(args)-1].RawString()))
			}
		case "Tj":
			if len(args) == 1 {
				write(decode(args[0].RawString()))
			}
		case "TJ":
			if len(args) == 1 {
				for i := 0; i < args[0].Len(); i++ {
					if x := args[0].Index(i); x.Kind() == pdf.String {
						write(decode(x.RawString()))
					}
				}
			}
		}
	})
	return b.String(), nil
}

package sim

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"unicode/utf16"
)

// A minimal PDF writer for the simulator's credit reports. Text is set in STSong-Light, one
// of the standard Chinese fonts every PDF viewer provides (Adobe-GB1), encoded UniGB-UCS2-H
// and not embedded, as iText-based report systems on government portals write it. So the
// PDFs need no font in the binary, any code and name can be printed, and the bytes depend
// only on the content: reproducible. A ToUnicode map makes the text extractable by any
// reader (poppler needs it without its CMap data package).

// pdfLine is one run of text on a page: position in points from the bottom left, size.
type pdfLine struct {
	x, y, size float64
	text       string
}

// pdfPage is one A4 page of text lines.
type pdfPage []pdfLine

// pdfImage is a JPEG drawn at the top right of the first page (a seal or a QR code).
type pdfImage struct {
	jpeg          []byte
	width, height int
}

const (
	pageWidth  = 595.0
	pageHeight = 842.0
)

// writePDF renders pages into a PDF file. Object numbers: 1 catalog, 2 page tree, 3 font,
// 4 CID font, 5 font descriptor, 6 ToUnicode, then a page and its content per page.
func writePDF(pages []pdfPage, img *pdfImage) []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			fmt.Fprintf(&b, "\nstream\n%s\nendstream", stream)
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", 7+2*i)
	}
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)), nil)
	obj("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>", nil)
	obj("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "+
		"/FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>", nil)
	obj("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 "+
		"/Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>", nil)
	cmap := deflate(identityToUnicode())
	obj(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>", len(cmap)), cmap)
	imageObj := 7 + 2*len(pages)
	for i, p := range pages {
		res, content := "<< /Font << /F1 3 0 R >> >>", pageContent(p)
		if i == 0 && img != nil {
			res = fmt.Sprintf("<< /Font << /F1 3 0 R >> /XObject << /Im1 %d 0 R >> >>", imageObj)
			content = append([]byte(fmt.Sprintf("q 120 0 0 120 %g %g cm /Im1 Do Q\n", pageWidth-180, pageHeight-200)), content...)
		}
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Resources %s /Contents %d 0 R >>",
			pageWidth, pageHeight, res, 8+2*i), nil)
		content = deflate(content)
		obj(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>", len(content)), content)
	}
	if img != nil {
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 "+
			"/Filter /DCTDecode /Length %d >>", img.width, img.height, len(img.jpeg)), img.jpeg)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}

// pageContent draws each line in its own text object, as report generators do.
func pageContent(p pdfPage) []byte {
	var b bytes.Buffer
	for _, l := range p {
		fmt.Fprintf(&b, "BT /F1 %g Tf 1 0 0 1 %g %g Tm <%s> Tj ET\n", l.size, l.x, l.y, ucs2Hex(l.text))
	}
	return b.Bytes()
}

func ucs2Hex(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// identityToUnicode maps every UCS-2 code to itself, in ranges that keep the high byte.
func identityToUnicode() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for hi := 0; hi < 256; hi += 100 {
		n := min(100, 256-hi)
		fmt.Fprintf(&b, "%d beginbfrange\n", n)
		for h := hi; h < hi+n; h++ {
			fmt.Fprintf(&b, "<%02X00> <%02XFF> <%02X00>\n", h, h, h)
		}
		b.WriteString("endbfrange\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// pdfLayout flows text lines onto A4 pages top to bottom.
type pdfLayout struct {
	pages []pdfPage
	y     float64
}

const (
	marginLeft   = 56.0
	marginTop    = 60.0
	marginBottom = 60.0
)

// line adds a line of cells: the first at the left margin, the others at tab stops.
func (l *pdfLayout) line(size float64, cells ...string) {
	if len(l.pages) == 0 || l.y-size < marginBottom {
		l.pages = append(l.pages, nil)
		l.y = pageHeight - marginTop
	}
	l.y -= size * 1.6
	x := marginLeft
	for i, c := range cells {
		if c != "" {
			l.pages[len(l.pages)-1] = append(l.pages[len(l.pages)-1], pdfLine{x: x, y: l.y, size: size, text: c})
		}
		x = marginLeft + 130 + float64(i)*140
	}
}

// paragraph wraps text at the page width.
func (l *pdfLayout) paragraph(size float64, text string) {
	per := int((pageWidth - 2*marginLeft) / size)
	r := []rune(text)
	for len(r) > 0 {
		n := min(per, len(r))
		l.line(size, string(r[:n]))
		r = r[n:]
	}
}

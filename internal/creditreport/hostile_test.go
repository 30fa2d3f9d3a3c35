package creditreport_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/ascii85"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/sim"
)

// Hostile inputs run in a child process each (this test binary, -test.run of
// TestHostileChild), so that the parent can read the child's peak memory from the
// kernel (ru_maxrss): each must end in a classified error, without a crash, within
// hostileRSSBound, though the input is 1 GB or inflates to 1 GB.
// Measured: 11–49 MiB a case without -race, up to 205 MiB with it (the race detector's
// shadow memory); unguarded, the 1 GB cases would need more than 1 GB.
const hostileRSSBound = 400 << 20

const gib = 1 << 30

var hostileCases = map[string]struct {
	class string
	run   func() error
}{
	"1 GB body": {creditreport.ClassTooLarge, func() error {
		_, err := creditreport.Read(io.LimitReader(repeatReader("<p>信用报告</p>"), gib), "text/html", "", creditreport.Limits{})
		return err
	}},
	"html nested 100,000 deep": {creditreport.ClassHTML, func() error {
		_, err := creditreport.Read(strings.NewReader(strings.Repeat("<div>", 100_000)+"信用报告"), "text/html", "", creditreport.Limits{})
		return err
	}},
	"gzip bomb": {creditreport.ClassTooLarge, func() error {
		_, err := creditreport.Read(gzipBomb(gib), "text/html", "gzip", creditreport.Limits{})
		return err
	}},
	"pdf with broken cross-references": {creditreport.ClassPDFBroken, func() error {
		body, ct, _ := sim.RenderReport(fixtureCode, fixtureName, "2022", sim.DefectBrokenXref, "pdf", fixtureDate)
		_, err := creditreport.Read(bytes.NewReader(body), ct, "", creditreport.Limits{})
		return err
	}},
	"pdf with xref past the end": {creditreport.ClassPDFBroken, func() error {
		_, err := creditreport.Read(bytes.NewReader(pdfWith("BT ET", "", "9999999")), "application/pdf", "", creditreport.Limits{})
		return err
	}},
	"pdf stream inflating to 1 GB": {creditreport.ClassPDFDecompressed, func() error {
		_, err := creditreport.Read(bytes.NewReader(pdfWith(string(zlibBomb(gib)), "/FlateDecode", "")), "application/pdf", "", creditreport.Limits{})
		return err
	}},
	"pdf stream inflating to 1 GB behind ascii85": {creditreport.ClassPDFDecompressed, func() error {
		var a bytes.Buffer
		w := ascii85.NewEncoder(&a)
		w.Write(zlibBomb(gib))
		w.Close()
		a.WriteString("~>")
		_, err := creditreport.Read(bytes.NewReader(pdfWith(a.String(), "[/ASCII85Decode /FlateDecode]", "")), "application/pdf", "", creditreport.Limits{})
		return err
	}},
}

// TestHostileInputs: a 1 GB body, HTML nested 100,000 deep, a gzip bomb, PDFs with
// broken cross-references and a PDF whose stream inflates to 1 GB each give their class of
// error, in bounded memory, without a crash.
func TestHostileInputs(t *testing.T) {
	if os.Getenv("CREDITREPORT_HOSTILE") != "" {
		t.Skip("in the child")
	}
	for name, tc := range hostileCases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "CREDITREPORT_HOSTILE="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			want := "class=" + tc.class + "\n"
			if !strings.Contains(string(out), want) {
				t.Errorf("child said %q, want %q", out, want)
			}
			rss := int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) << 10 // KiB on Linux
			t.Logf("peak RSS %d MiB", rss>>20)
			if rss > hostileRSSBound {
				t.Errorf("peak RSS %d MiB, bound %d MiB", rss>>20, hostileRSSBound>>20)
			}
		})
	}
}

// TestHostileChild runs one hostile case, named by CREDITREPORT_HOSTILE, and prints its
// error class.
func TestHostileChild(t *testing.T) {
	name := os.Getenv("CREDITREPORT_HOSTILE")
	if name == "" {
		t.Skip("run by TestHostileInputs")
	}
	err := hostileCases[name].run()
	fmt.Printf("class=%s\nerror=%v\n", creditreport.ErrorClass(err), err)
}

// repeatReader yields s over and over without end.
type repeatReader string

func (r repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r)
	}
	return n, nil
}

// gzipBomb is n bytes of zeros as a multi-member gzip stream: one member of 1 MiB of
// zeros (about 1 KB compressed) repeated, so it costs nothing to make.
func gzipBomb(n int64) io.Reader {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	var rs []io.Reader
	for range n >> 20 {
		rs = append(rs, bytes.NewReader(b.Bytes()))
	}
	return io.MultiReader(rs...)
}

// zlibBomb is a zlib stream that inflates to at least n bytes of zeros. Deflate output
// after a sync flush depends only on the window, so once the window is all zeros every
// further 1 MiB of zeros compresses to the same bytes: they are repeated instead of
// compressed. The checksum at the end is left out; no reader gets that far.
func zlibBomb(n int64) []byte {
	var b bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	chunk := make([]byte, 1<<20)
	var marks []int
	for range 3 {
		zw.Write(chunk)
		zw.Flush()
		marks = append(marks, b.Len())
	}
	steady := b.Bytes()[marks[1]:marks[2]]
	if !bytes.Equal(steady, b.Bytes()[marks[0]:marks[1]]) {
		panic("deflate output after a flush is not steady")
	}
	out := bytes.Clone(b.Bytes())
	for range n>>20 - 3 {
		out = append(out, steady...)
	}
	return out
}

// pdfWith is a one-page PDF whose content stream is content with the given /Filter;
// xrefAt, when set, replaces the page object's offset in the cross-reference table.
func pdfWith(content, filter, xrefAt string) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(s string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), s)
	}
	b.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>")
	f := ""
	if filter != "" {
		f = " /Filter " + filter
	}
	obj(fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(content), f, content))
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for i, o := range offs {
		if i == 2 && xrefAt != "" {
			fmt.Fprintf(&b, "%010s 00000 n \n", xrefAt)
			continue
		}
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, x)
	return b.Bytes()
}

// TestPDFAmplification: pages that all draw the same stream make the reader inflate it
// again for each page; the work budget stops that. A page tree whose kids loop is refused.
func TestPDFAmplification(t *testing.T) {
	var content bytes.Buffer
	zw := zlib.NewWriter(&content)
	zw.Write(bytes.Repeat([]byte("BT (x) Tj ET\n"), 40_000)) // 520 KB inflated
	zw.Close()
	one := pdfWith(content.String(), "/FlateDecode", "")
	many := bytes.Replace(one, []byte("/Kids [3 0 R] /Count 1"), []byte("/Kids ["+strings.Repeat("3 0 R ", 40)+"] /Count 40"), 1)
	many = fixXref(many)
	lim := creditreport.Limits{MaxDecompressedBytes: 1 << 20}
	if _, err := creditreport.Extract(one, "application/pdf", lim); creditreport.ErrorClass(err) != creditreport.ClassNotReport && err != nil {
		t.Fatalf("one page: %v", err)
	}
	if _, err := creditreport.Extract(many, "application/pdf", lim); creditreport.ErrorClass(err) != creditreport.ClassPDFDecompressed {
		t.Errorf("40 pages of one stream: %v, want %s", err, creditreport.ClassPDFDecompressed)
	}
	loop := fixXref(bytes.Replace(one, []byte("/Kids [3 0 R]"), []byte("/Kids [2 0 R 3 0 R]"), 1))
	if _, err := creditreport.Extract(loop, "application/pdf", creditreport.Limits{}); creditreport.ErrorClass(err) != creditreport.ClassPDFBroken {
		t.Errorf("a looping page tree: %v, want %s", err, creditreport.ClassPDFBroken)
	}
}

// fixXref rewrites the cross-reference table of a pdfWith file whose objects moved.
func fixXref(pdf []byte) []byte {
	head := pdf[:bytes.Index(pdf, []byte("xref\n"))]
	var offs []int
	for i := 1; ; i++ {
		at := bytes.Index(head, []byte(fmt.Sprintf("\n%d 0 obj", i)))
		if at < 0 {
			break
		}
		offs = append(offs, at+1)
	}
	var b bytes.Buffer
	b.Write(head)
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, len(head))
	return b.Bytes()
}

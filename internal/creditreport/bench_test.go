package creditreport_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/sim"
)

// noiseJPEG is a photo-like JPEG of about size bytes (a scanned seal, say): noise does
// not compress, so it stays large, as real scans do.
func noiseJPEG(b *testing.B, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchCheck(b *testing.B, body []byte, contentType string) {
	ed, _ := creditreport.EditionByName(creditreport.DefaultEdition)
	req := creditreport.Request{Code: fixtureCode, KnownName: fixtureName, Edition: ed}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := creditreport.CheckReader(bytes.NewReader(body), contentType, "", req, creditreport.Limits{})
		if err != nil || !res.Conforming {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkCheckPDF2MB checks a 2 MB PDF report: 1,200 licence rows over some 40 pages and
// a 1.6 MB scanned image on the first page.
func BenchmarkCheckPDF2MB(b *testing.B) {
	body := sim.RenderLargeReport(fixtureCode, fixtureName, "pdf", fixtureDate, 1200, noiseJPEG(b, 1500, 1500), 1500, 1500)
	b.Logf("PDF of %d bytes", len(body))
	benchCheck(b, body, "application/pdf")
}

// BenchmarkCheckHTML200KB checks a 200 KB HTML report page.
func BenchmarkCheckHTML200KB(b *testing.B) {
	body := sim.RenderLargeReport(fixtureCode, fixtureName, "html", fixtureDate, 1420, nil, 0, 0)
	b.Logf("page of %d bytes", len(body))
	benchCheck(b, body, "text/html; charset=utf-8")
}

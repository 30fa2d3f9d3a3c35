package testutil

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

// Part is one file of an XLSX workbook's ZIP.
type Part struct {
	Name string
	Data []byte
	// Repeat, when set, follows Data with Repeat.Times copies of Repeat.Chunk and then Tail,
	// compressed without running the compressor over every copy (a ZIP bomb in a second).
	Repeat *Repeat
	Tail   []byte
	// DeclaredSize, when set, is the decompressed size the headers claim instead of the truth.
	DeclaredSize uint64
}

// Repeat is a run of identical chunks.
type Repeat struct {
	Chunk []byte
	Times int
}

// WorkbookParts returns the parts of a minimal workbook whose first sheet holds rows as
// inline strings.
func WorkbookParts(rows [][]string) []Part {
	var sheet strings.Builder
	sheet.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, row := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
		for _, v := range row {
			sheet.WriteString(`<c t="inlineStr"><is><t>`)
			xmlEscape(&sheet, v)
			sheet.WriteString(`</t></is></c>`)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	return []Part{
		{Name: "[Content_Types].xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)},
		{Name: "_rels/.rels", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{Name: "xl/workbook.xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{Name: "xl/_rels/workbook.xml.rels", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)},
		{Name: "xl/worksheets/sheet1.xml", Data: []byte(sheet.String())},
	}
}

// SharedStringBomb is a shared-strings part of one string of n bytes ('A' repeated), and a
// first sheet whose header row refers to it: excelize decodes that string whole.
func SharedStringBomb(n int) []Part {
	const chunk = 1 << 20
	parts := WorkbookParts(nil)
	parts[len(parts)-1].Data = []byte(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`)
	return append(parts, Part{
		Name:   "xl/sharedStrings.xml",
		Data:   []byte(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>`),
		Repeat: &Repeat{Chunk: bytes.Repeat([]byte("A"), chunk), Times: max(n/chunk, 4)},
		Tail:   []byte(`</t></si></sst>`),
	})
}

// WriteWorkbook writes parts as a ZIP.
func WriteWorkbook(w io.Writer, parts []Part) error {
	zw := zip.NewWriter(w)
	for _, p := range parts {
		if p.Repeat == nil && p.DeclaredSize == 0 {
			method := zip.Deflate
			if len(p.Data) == 0 {
				method = zip.Store // thousands of empty parts stay quick to write
			}
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: p.Name, Method: method})
			if err == nil {
				_, err = fw.Write(p.Data)
			}
			if err != nil {
				return err
			}
			continue
		}
		raw, crc, size, err := deflate(p)
		if err != nil {
			return err
		}
		if p.DeclaredSize != 0 {
			size = p.DeclaredSize
		}
		fw, err := zw.CreateRaw(&zip.FileHeader{Name: p.Name, Method: zip.Deflate, CRC32: crc,
			CompressedSize64: uint64(len(raw)), UncompressedSize64: size})
		if err != nil {
			return err
		}
		if _, err := fw.Write(raw); err != nil {
			return err
		}
	}
	return zw.Close()
}

// deflate compresses a part. A repeated chunk is compressed three times; from then on the
// compressor's output for one more chunk is the same bytes, so they are copied.
func deflate(p Part) (raw []byte, crc uint32, size uint64, err error) {
	var out, buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	emit := func(b []byte) []byte {
		fw.Write(b)
		fw.Flush()
		crc = crc32.Update(crc, crc32.IEEETable, b)
		size += uint64(len(b))
		got := append([]byte(nil), buf.Bytes()...)
		out.Write(got)
		buf.Reset()
		return got
	}
	emit(p.Data)
	if r := p.Repeat; r != nil {
		var prev []byte
		for i := 0; i < r.Times; i++ {
			if i >= 3 {
				out.Write(prev)
				crc = crc32.Update(crc, crc32.IEEETable, r.Chunk)
				size += uint64(len(r.Chunk))
				continue
			}
			cur := emit(r.Chunk)
			if i == 2 && !bytes.Equal(cur, prev) {
				return nil, 0, 0, fmt.Errorf("deflate output of a repeated chunk is not stable")
			}
			prev = cur
		}
	}
	emit(p.Tail)
	fw.Close()
	out.Write(buf.Bytes())
	return out.Bytes(), crc, size, nil
}

func xmlEscape(b *strings.Builder, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	b.WriteString(r.Replace(s))
}

package recfile

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzXLSX: any file opened as a workbook, within small limits, reads or fails without
// panic, its rows numbered upwards.
func FuzzXLSX(f *testing.F) {
	o := Options{MaxPartBytes: 256 << 10, MaxTotalBytes: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.xlsx")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, o)
		if err != nil {
			return
		}
		defer r.Close()
		last := 0
		for range 1000 {
			row, err := r.Next()
			if err != nil {
				return
			}
			if row.Line <= last {
				t.Fatalf("row %d after row %d", row.Line, last)
			}
			last = row.Line
		}
	})
}

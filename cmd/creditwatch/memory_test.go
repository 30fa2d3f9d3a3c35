package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

// peakRSSBound is the most a creditwatch process may take on any hostile input below:
// it starts at about 20 MiB, and every limit it applies holds far less than the input.
const peakRSSBound = 64 << 20

// TestPeakMemoryOnHostileInput runs the built binary on inputs that used to take it to
// gigabytes and asserts the child process's peak RSS (not this test's heap), read from its
// rusage by the small peakrss helper that starts it (see there why not from here).
func TestPeakMemoryOnHostileInput(t *testing.T) {
	tests := map[string]struct {
		args func(t *testing.T, dir string) []string
		exit int
		want string
	}{
		// 313 KB on disk, one 300 MiB shared string: 1,949 MiB before the limits.
		"xlsx shared-string bomb": {args: func(t *testing.T, dir string) []string {
			return []string{"audit", "--kind", "penalty", xlsxBomb(t, dir, 300<<20)}
		}, exit: 2, want: "part xl/sharedStrings.xml declares 314572957 bytes decompressed, over the 16777216-byte limit on the shared strings"},
		// A quoted field of 100 MiB over 15 million lines: 847 MiB and exit 0 before the field cap.
		"csv field over lines": {args: func(t *testing.T, dir string) []string {
			return []string{"audit", "--kind", "penalty", multiLineCSV(t, dir, 100<<20)}
		}, exit: 2, want: "line 2: a field longer than 262144 bytes, still open at line 37449 inside quotes"},
		"1 GiB portal body": {args: func(t *testing.T, dir string) []string {
			return probeArgs(t, dir, hugeBody(t, 1<<30))
		}, exit: 3, want: "credit-portal: content_mismatch, HTTP 200, 0 bytes: body larger than the 5242880-byte limit"},
		"gzip bomb, 4 GiB decompressed": {args: func(t *testing.T, dir string) []string {
			return probeArgs(t, dir, gzipBomb(t, 256))
		}, exit: 3, want: "credit-portal: content_mismatch, HTTP 200, 0 bytes: body larger than the 5242880-byte limit once decompressed"},
	}
	peakrss := testutil.BuildPeakRSS(t, t.TempDir())
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rss := filepath.Join(dir, "peak-rss-kib")
			out, err := exec.Command(peakrss, append([]string{rss, binary}, tc.args(t, dir)...)...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exit || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.exit, tc.want, out)
			}
			kib, err := os.ReadFile(rss)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.ParseInt(string(kib), 10, 64)
			peak := n << 10
			report(t, fmt.Sprintf("peak RSS on %s: %.1f MiB (bound %d MiB)", name, float64(peak)/(1<<20), peakRSSBound>>20))
			if peak > peakRSSBound {
				t.Errorf("peak RSS %d bytes, over the %d-byte bound", peak, peakRSSBound)
			}
		})
	}
}

func xlsxBomb(t *testing.T, dir string, n int) string {
	var b bytes.Buffer
	if err := testutil.WriteWorkbook(&b, testutil.SharedStringBomb(n)); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Join(dir, "bomb.xlsx"), b.String())
}

// multiLineCSV is a penalty export whose second record opens a quoted field of n bytes of
// short lines: a missing closing quote.
func multiLineCSV(t *testing.T, dir string, n int) string {
	path := filepath.Join(dir, "penalties.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("行政处罚决定书文号,处罚决定日期\n\"濮环罚")
	line := []byte("信用\n")
	for written := 0; written < n; written += len(line) {
		w.Write(line)
	}
	w.WriteString("\",2026-01-01\n")
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// hugeBody serves n bytes of page that never stop looking like the portal.
func hugeBody(t *testing.T, n int64) *httptest.Server {
	chunk := bytes.Repeat([]byte("<p>信用中国</p>\n"), 4096)
	return serveFor(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		for sent := int64(0); sent < n; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(int64(len(chunk)), n-sent)]); err != nil {
				return
			}
		}
	})
}

// gzipBomb serves members gzip members of 16 MiB of zeros each, 64 KiB on the wire apiece.
func gzipBomb(t *testing.T, members int) *httptest.Server {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(make([]byte, 16<<20))
	zw.Close()
	member := b.Bytes()
	return serveFor(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Encoding", "gzip")
		for range members {
			if _, err := w.Write(member); err != nil {
				return
			}
		}
	})
}

func serveFor(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func probeArgs(t *testing.T, dir string, srv *httptest.Server) []string {
	cfg := writeFile(t, filepath.Join(dir, "creditwatch.yml"), fmt.Sprintf(`
portal:
  targets:
    - name: credit-portal
      url: %s/
      timeout: 20s
storage:
  path: %s
`, srv.URL, filepath.Join(dir, "ledger.db")))
	return []string{"probe", "--config.file", cfg}
}

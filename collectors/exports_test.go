package collectors

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/testutil"
)

func dropFile(t *testing.T, dir, name string, data []byte, age time.Duration) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-age)
	os.Chtimes(p, old, old)
}

func TestExportsImportEachFileOnceAndAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	d := testDeps(t)
	cfg, err := config.Parse([]byte("publicity:\n  exports:\n    - {name: env-bureau, kind: penalty, dir: '"+dir+"', interval: 10s}\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := exportCollectors(cfg, d)
	x := cs[0]
	good, _ := os.ReadFile("../internal/auditfile/testdata/penalty.csv")
	xlsx, _ := os.ReadFile("../internal/auditfile/testdata/penalty.xlsx")
	ctx := context.Background()
	count := func() int { n, _ := d.Ledger.CountPublicity(ctx); return n }

	dropFile(t, dir, "2026-11.csv", good, time.Minute)
	dropFile(t, dir, "still-copying.csv", good[:len(good)/2], -time.Hour) // still being written: left for later
	if err := x.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if count() != 14 {
		t.Fatalf("ledger has %d records after the good file, want 14", count())
	}
	// A truncated workbook and a cut CSV: nothing of them is kept, each counted once.
	dropFile(t, dir, "broken.xlsx", xlsx[:len(xlsx)/2], time.Minute)
	dropFile(t, dir, "cut.csv", append(append([]byte{}, good[:len(good)-40]...), []byte("\"unterminated")...), time.Minute)
	dropFile(t, dir, "copy-of-2026-11.csv", good, time.Minute)                        // same content: not imported twice
	long := append(append([]byte{}, good...), []byte(strings.Repeat("信", 35<<20))...) // a 105 MB line
	dropFile(t, dir, "long-line.csv", long, time.Minute)
	for range 2 {
		if err := x.Collect(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if count() != 14 {
		t.Errorf("ledger has %d records, want the 14 already recorded", count())
	}
	if got := sourceErrors(d.Store, "unreadable_file"); got != 3 {
		t.Errorf("unreadable_file = %v, want 3 (each bad file once)", got)
	}
	// The rejected files stay rejected while they are there, scan after scan.
	rejected := func() float64 { return series(d.Store)[`creditwatch_source_files_rejected{source="env-bureau"}`] }
	if got := rejected(); got != 3 {
		t.Errorf("files rejected = %v, want 3 (broken.xlsx, cut.csv, long-line.csv)", got)
	}
	// The fresh file, once settled, is cut too and is reported rather than half-imported.
	os.Chtimes(filepath.Join(dir, "still-copying.csv"), time.Now().Add(-time.Minute), time.Now().Add(-time.Minute))
	x.Collect(ctx)
	if count() != 14 || sourceErrors(d.Store, "unreadable_file") != 4 || rejected() != 4 {
		t.Errorf("after the settled half file: %d records, %v errors, %v rejected", count(), sourceErrors(d.Store, "unreadable_file"), rejected())
	}
	// Once the office takes them away, nothing is pending.
	for _, f := range []string{"broken.xlsx", "cut.csv", "long-line.csv", "still-copying.csv"} {
		os.Remove(filepath.Join(dir, f))
	}
	x.Collect(ctx)
	if got := rejected(); got != 0 {
		t.Errorf("files rejected after their removal = %v, want 0", got)
	}
	// A directory that cannot be read (here: gone) is a fault of its own, not a rejected file.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	x.Collect(ctx)
	if got := sourceErrors(d.Store, "unreadable_dir"); got != 1 {
		t.Errorf("unreadable_dir = %v after a scan of a missing directory, want 1", got)
	}
	// A directory no longer configured is forgotten.
	seedExports(ctx, nil, d)
	if _, ok := series(d.Store)[`creditwatch_source_files_rejected{source="env-bureau"}`]; ok {
		t.Error("the rejected-file gauge of a removed export directory is still exported")
	}
}

func TestExportsImportCaseLedgers(t *testing.T) {
	dir := t.TempDir()
	d := testDeps(t)
	cfg, err := config.Parse([]byte("publicity:\n  exports:\n    - {name: office-objections, kind: objection, dir: '"+dir+"'}\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := exportCollectors(cfg, d)
	data, _ := os.ReadFile("../internal/cases/testdata/objections.csv")
	dropFile(t, dir, "objections.csv", data, time.Minute)
	dropFile(t, dir, "penalties.csv", []byte("行政处罚决定书文号,处罚决定日期\n濮罚1,2026-01-01\n"), time.Minute)
	if err := cs[0].Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := d.Ledger.Cases(context.Background(), "objection", time.Time{})
	if err != nil || len(got) != 6 || got[1].ID != "YY002" || got[1].Fields["是否有效"] != "是" {
		t.Fatalf("cases = %+v, %v", got, err)
	}
	if sourceErrors(d.Store, "unreadable_file") != 1 {
		t.Error("a penalty file in an objection directory was not reported")
	}
}

// TestExportsRejectBombsKeepingRecords: an XLSX bomb and a CSV field spanning a million
// lines are refused within publicity.max_decompressed_bytes and the CSV caps, counted, and
// named in the log; what was recorded before stays.
func TestExportsRejectBombsKeepingRecords(t *testing.T) {
	dir := t.TempDir()
	d := testDeps(t)
	core, logs := observer.New(zap.WarnLevel)
	d.Logger = zap.New(core)
	doc := "publicity:\n  max_decompressed_bytes: 1048576\n  exports:\n    - {name: env-bureau, kind: penalty, dir: '" + dir + "'}\n"
	cfg, err := config.Parse([]byte(doc), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cs, _ := exportCollectors(cfg, d)
	good, _ := os.ReadFile("../internal/auditfile/testdata/penalty.csv")
	dropFile(t, dir, "2026-11.csv", good, time.Minute)
	var bomb bytes.Buffer
	if err := testutil.WriteWorkbook(&bomb, testutil.SharedStringBomb(64<<20)); err != nil {
		t.Fatal(err)
	}
	dropFile(t, dir, "bomb.xlsx", bomb.Bytes(), time.Minute)
	field := append(append([]byte{}, good...), []byte("\"濮罚"+strings.Repeat("信用\n", 1<<20)+"\",2026-01-01\n")...)
	dropFile(t, dir, "quoted.csv", field, time.Minute)
	ctx := context.Background()
	if err := cs[0].Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := d.Ledger.CountPublicity(ctx); n != 14 {
		t.Errorf("ledger has %d records, want the 14 of the good file", n)
	}
	if got := sourceErrors(d.Store, "unreadable_file"); got != 2 {
		t.Errorf("unreadable_file = %v, want 2", got)
	}
	for file, want := range map[string]string{
		"bomb.xlsx":  "bytes decompressed, over the 262144-byte limit on the shared strings",
		"quoted.csv": "a field longer than 262144 bytes, still open at line",
	} {
		entries := logs.FilterField(zap.String("file", file)).All()
		if len(entries) != 1 || !strings.Contains(entries[0].ContextMap()["error"].(string), want) {
			t.Errorf("%s: log %+v, want one warning containing %q", file, entries, want)
		}
	}
}

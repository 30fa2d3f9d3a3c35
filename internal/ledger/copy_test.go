package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// A SQLite ledger with probes rolled up and partly retired, incidents, an annotation,
// publicity records and a frozen report is copied to PostgreSQL: interrupted after a few
// batches, then resumed; every table has its rows, the chain verifies, the figures are
// the same, and the copy goes on taking probes with new ids.
func TestCopyLedgerToPostgres(t *testing.T) {
	if testPostgres == "" {
		t.Skip("PostgreSQL only: the copy's target")
	}
	ctx := context.Background()
	src, err := Open(ctx, filepath.Join(t.TempDir(), "source.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	writeHistory(t, src)
	if _, err := src.RunRetention(ctx, histTo.Add(time.Hour), Retention{RawProbes: 30 * time.Hour, Lag: time.Hour}); err != nil {
		t.Fatal(err)
	}
	feed(t, src, "portal", "..x..xxx..x.xx", 0)
	if _, err := src.Annotate(ctx, Annotation{IncidentID: 1, Cause: CauseMaintenance, Note: "机房割接", By: "值班员", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"month":"2026-02"}`)
	sum := sha256.Sum256(data)
	if _, err := src.FreezeReport(ctx, FrozenReport{Month: "2026-02", Data: data, Digest: hex.EncodeToString(sum[:]), Meta: "{}",
		FrozenAt: t0, Reason: "frozen"}); err != nil {
		t.Fatal(err)
	}
	if err := src.StorePublicity(ctx, []PublicityRecord{{Kind: publicity.Penalty, ID: "濮罚〔2026〕1号", Source: "test", UpdatedAt: t0,
		Fields: map[string]string{"行政相对人名称": "某公司"}, Assessment: publicity.Assessment{Department: "濮阳市商务局", Reported: true}}}, nil); err != nil {
		t.Fatal(err)
	}
	want := figures(t, src, true)

	dst := openTemp(t, filepath.Join(t.TempDir(), "target.db"))
	stop := errors.New("stopped by the test")
	batches := 0
	_, err = CopyLedger(ctx, src, dst, CopyOptions{Batch: 500, afterBatch: func() error {
		if batches++; batches == 7 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("interrupted copy: %v", err)
	}
	res, err := CopyLedger(ctx, src, dst, CopyOptions{Batch: 500})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || !res.Resumed {
		t.Errorf("copy: %+v, chain %+v", res.Counts, res.Chain)
	}
	nonEmpty := map[string]bool{}
	for _, c := range res.Counts {
		nonEmpty[c.Table] = c.Source > 0
	}
	for _, table := range []string{"probes", "probe_hours", "probe_days", "incidents", "chain", "annotations", "report_versions",
		"publicity_records", "watch_spans", "target_state", "rollup_state", "runs"} {
		if !nonEmpty[table] && table != "runs" {
			t.Errorf("%s: nothing copied: the test ledger should hold some", table)
		}
	}
	t.Logf("copied: %+v; chain of %d events", res.Counts, res.Chain.Events)
	if res.Chain.Events == 0 {
		t.Error("an empty chain copied")
	}
	sameFigures(t, "after the copy", figures(t, dst, true), want)
	// A rerun finds everything done and changes nothing.
	again, err := CopyLedger(ctx, src, dst, CopyOptions{})
	if err != nil || !again.OK() {
		t.Fatalf("copy again: %+v, %v", again, err)
	}
	// The copy takes new probes and incidents, with ids after the copied ones.
	before, _ := dst.Incidents(ctx, time.Time{}, time.Time{}, false)
	feed(t, dst, "new-target", "xxx", 100)
	after, err := dst.Incidents(ctx, time.Time{}, time.Time{}, false)
	if err != nil || len(after) != len(before)+1 {
		t.Fatalf("incidents after a new one on the copy: %d, want %d (%v)", len(after), len(before)+1, err)
	}
}

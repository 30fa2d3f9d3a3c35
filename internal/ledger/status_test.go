package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestResponseTimes(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "rt.db"))
	ctx := context.Background()
	// '.' good, 'x' failed, one probe each 30 s from t0: buckets of 2 minutes hold 4.
	feed(t, l, "portal", "..x.....", 0)
	feed(t, l, "backup", "xxxx", 0)
	// feed records no duration; give the good probes of the first bucket 0.2 and 0.4 s.
	if _, err := l.w.ExecContext(ctx, `UPDATE probes SET duration_seconds = CASE started_at WHEN ? THEN 0.2 WHEN ? THEN 0.4 ELSE 9 END
		WHERE target = 'portal' AND failed = 0 AND started_at < ?`, ms(t0), ms(t0.Add(30*time.Second)), ms(t0.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	got, err := l.ResponseTimes(ctx, t0, t0.Add(4*time.Minute), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []ResponseBucket{
		{Target: "backup", Start: t0, Probes: 4, Failed: 4},
		{Target: "portal", Start: t0, Probes: 4, Failed: 1, MeanSeconds: (0.2 + 0.4 + 9) / 3, MaxSeconds: 9},
		{Target: "portal", Start: t0.Add(2 * time.Minute), Probes: 4},
	}
	if len(got) != len(want) {
		t.Fatalf("buckets %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Target != w.Target || !g.Start.Equal(w.Start) || g.Probes != w.Probes || g.Failed != w.Failed ||
			abs(g.MeanSeconds-w.MeanSeconds) > 1e-9 || g.MaxSeconds != w.MaxSeconds {
			t.Errorf("bucket %d = %+v, want %+v", i, g, w)
		}
	}
	if _, err := l.ResponseTimes(ctx, t0, t0.Add(time.Hour), 0); err == nil {
		t.Error("a zero bucket was accepted")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// The summary of each source counts its files by state and the records waiting while a file
// is under way; rejected files are listed latest first with their error.
func TestSourceSummariesAndRejectedFiles(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "src.db"))
	l.importBatch = testBatch
	ctx := context.Background()
	if _, err := l.ImportFile(ctx, "inbox", "good.csv", "sha-good", 10, putRecords); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"bad-1.csv", "bad-2.csv"} {
		_, err := l.ImportFile(ctx, "inbox", name, name, 10, func(w *FileWriter) error {
			if err := putRecords(w); err != nil {
				return err
			}
			return errors.New("row 7: 处罚决定日期 is not a date")
		})
		if err == nil {
			t.Fatalf("import %d did not fail", i)
		}
		time.Sleep(2 * time.Millisecond) // distinct import times
	}
	if err := l.StorePublicity(ctx, nil, &Cursor{Source: "platform", Stream: "publicity/penalty", Value: "c9"}); err != nil {
		t.Fatal(err)
	}
	// While the next file is staged, its records wait.
	var during []SourceSummary
	l.afterImportBatch = func() {
		if during == nil {
			during, _ = l.SourceSummaries(ctx)
		}
	}
	if _, err := l.ImportFile(ctx, "inbox", "next.csv", "sha-next", 10, putRecords); err != nil {
		t.Fatal(err)
	}
	if len(during) != 2 || during[0].Source != "inbox" || during[0].Waiting != testBatch || during[0].InProgress != 1 {
		t.Errorf("summaries during an import: %+v", during)
	}
	after, err := l.SourceSummaries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	in, pl := after[0], after[1]
	if in.Source != "inbox" || in.Files != 4 || in.Done != 2 || in.Failed != 2 || in.InProgress != 0 || in.Waiting != 0 || in.LastImport.IsZero() {
		t.Errorf("inbox after the imports: %+v", in)
	}
	if pl.Source != "platform" || pl.Files != 0 || pl.Streams["publicity/penalty"].IsZero() {
		t.Errorf("platform: %+v", pl)
	}
	files, total, err := l.RejectedFiles(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(files) != 1 || files[0].Name != "bad-2.csv" || files[0].Error != "row 7: 处罚决定日期 is not a date" {
		t.Errorf("rejected files: %d %+v", total, files)
	}
}

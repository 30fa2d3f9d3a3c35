package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// The tests import in batches of testBatch.
const (
	testBatch     = 40
	importRecords = 5*testBatch + 17
)

// putRecords is an export file's reading: importRecords licences.
func putRecords(w *FileWriter) error {
	day := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	for i := 0; i < importRecords; i++ {
		err := w.PutPublicity(PublicityRecord{Kind: publicity.Licence, ID: fmt.Sprintf("L-%05d", i), Source: "inbox", UpdatedAt: day,
			Assessment: publicity.Assessment{Department: "市场监管局", DecidedOn: day, Reported: true, Compliant: true, Timely: true},
			Fields:     map[string]string{"行政许可决定文书号": fmt.Sprintf("L-%05d", i)}})
		if err != nil {
			return err
		}
	}
	return nil
}

// A probe recorded while an import is under way is written between two of its batches:
// it never waits for the whole file. The hook runs with the import stopped between two
// batches; if the import held the writer across batches the probe could not be written
// until the hook returned, and the wait would never end.
func TestProbesInterleaveWithAnImport(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	l.importBatch, l.publishTime = testBatch, time.Hour // batches by count, whatever the machine
	ctx := context.Background()
	var batches, probesDuringImport atomic.Int32
	l.afterImportBatch = func() {
		i := batches.Add(1)
		if i%2 != 0 {
			return
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := l.RecordProbe(ctx, Probe{Target: "portal", StartedAt: t0.Add(time.Duration(i) * 30 * time.Second),
				Outcome: "ok", StatusCode: 200}, pol, Scoring{Site: "portal", Scored: true})
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
			probesDuringImport.Add(1)
		case <-time.After(20 * time.Second):
			t.Fatal("a probe waited for the whole import")
		}
	}
	n, err := l.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, putRecords)
	if err != nil || n != importRecords {
		t.Fatalf("ImportFile = %d, %v", n, err)
	}
	// Staged in 6 batches, published in 6: the writer was free 12 times.
	if b := batches.Load(); b != 12 {
		t.Errorf("batches = %d, want 12", b)
	}
	if p := probesDuringImport.Load(); p != 6 {
		t.Errorf("probes written during the import = %d, want 6", p)
	}
	if c, _ := l.CountPublicity(ctx); c != importRecords {
		t.Errorf("records = %d, want %d", c, importRecords)
	}
	var staged int
	if err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM staged_records`).Scan(&staged); err != nil || staged != 0 {
		t.Errorf("staged rows left: %d (%v)", staged, err)
	}
}

// Figures see an import whole or not at all: while it is staged nothing of it is counted;
// a card begun while it is published waits for the last batch.
func TestImportSeenWholeOrNotAtAll(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	l.importBatch, l.publishTime = testBatch, time.Hour // batches by count, whatever the machine
	ctx := context.Background()
	var batches atomic.Int32
	held := make(chan int, 1)
	l.afterImportBatch = func() {
		switch batches.Add(1) {
		case 3: // staging
			if c, _ := l.CountPublicity(ctx); c != 0 {
				t.Errorf("while staged, %d records counted", c)
			}
		case 8: // publishing, two batches in
			go func() {
				_, release, err := l.HoldPublications(ctx, time.Minute)
				if err != nil {
					t.Error(err)
					held <- -1
					return
				}
				defer release()
				c, _ := l.CountPublicity(ctx)
				held <- c
			}()
		}
	}
	if _, err := l.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, putRecords); err != nil {
		t.Fatal(err)
	}
	// Begun two batches into the publish, the reader got in only after the last.
	if c := <-held; c != importRecords {
		t.Errorf("the reader saw %d records, want all %d", c, importRecords)
	}
}

// A crash is a copy of the ledger as committed at that moment. Interrupted while staged, a
// file leaves nothing and is read again; interrupted while published, it is finished at the
// next start.
func TestImportInterruptedAndRecovered(t *testing.T) {
	// On PostgreSQL an interrupted transaction is rolled back by the server; the commits
	// between batches are the same code on both engines.
	sqliteOnly(t, "a crash is simulated by a copy of the ledger file between two batches (VACUUM INTO)")
	for _, tc := range []struct {
		name        string
		crashAfter  int32 // batch
		wantRecords int
		published   bool
	}{
		{"staging", 3, 0, false},
		{"publishing", 9, importRecords, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTemp(t, filepath.Join(dir, "l.db"))
			l.importBatch, l.publishTime = testBatch, time.Hour // batches by count, whatever the machine
			ctx := context.Background()
			crash := filepath.Join(dir, "crashed.db")
			var batches atomic.Int32
			l.afterImportBatch = func() {
				if batches.Add(1) == tc.crashAfter {
					if err := l.Backup(ctx, crash); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := l.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, putRecords); err != nil {
				t.Fatal(err)
			}
			r := openTemp(t, crash)
			r.importBatch, r.publishTime = testBatch, time.Hour
			if tc.published {
				// Before recovery a command reading the ledger is told, not given half a file.
				_, _, err := r.HoldPublications(ctx, 0)
				if !errors.Is(err, ErrPublishing) {
					t.Errorf("reading a half-published ledger: %v, want ErrPublishing", err)
				}
			}
			published, dropped, err := r.RecoverImports(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.published != (len(published) == 1) || tc.published == (len(dropped) == 1) {
				t.Errorf("published %v, dropped %v", published, dropped)
			}
			if c, _ := r.CountPublicity(ctx); c != tc.wantRecords {
				t.Errorf("records after recovery = %d, want %d", c, tc.wantRecords)
			}
			if done, _ := r.FileImported(ctx, "inbox", "sha-1"); done != tc.published {
				t.Errorf("FileImported = %v, want %v", done, tc.published)
			}
			if !tc.published {
				// Read again, whole.
				if n, err := r.ImportFile(ctx, "inbox", "licences.csv", "sha-1", 1, putRecords); err != nil || n != importRecords {
					t.Fatalf("reading again: %d, %v", n, err)
				}
				if c, _ := r.CountPublicity(ctx); c != importRecords {
					t.Errorf("records after reading again = %d", c)
				}
			}
			if _, release, err := r.HoldPublications(ctx, 0); err != nil {
				t.Errorf("after recovery: %v", err)
			} else {
				release()
			}
		})
	}
}

// A file that fails half way leaves nothing of itself, and is noted as failed.
func TestImportFailureLeavesNothing(t *testing.T) {
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	l.importBatch, l.publishTime = testBatch, time.Hour // batches by count, whatever the machine
	ctx := context.Background()
	boom := errors.New("row 1203: unreadable")
	_, err := l.ImportFile(ctx, "inbox", "bad.csv", "sha-2", 1, func(w *FileWriter) error {
		if err := putRecords(w); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var staged int
	l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM staged_records`).Scan(&staged)
	if c, _ := l.CountPublicity(ctx); c != 0 || staged != 0 {
		t.Errorf("after a failed file: %d records, %d staged", c, staged)
	}
	if done, _ := l.FileImported(ctx, "inbox", "sha-2"); !done {
		t.Error("a failed file must be noted, so that it is not read again until replaced")
	}
	for _, tc := range []struct{ source, sha, want string }{
		{"inbox", "sha-2", FileFailed},
		{"inbox", "sha-unseen", ""},
		{"other-inbox", "sha-2", ""},
	} {
		if got, err := l.FileState(ctx, tc.source, tc.sha); err != nil || got != tc.want {
			t.Errorf("FileState(%s, %s) = %q, %v; want %q", tc.source, tc.sha, got, err, tc.want)
		}
	}
	if _, err := l.ImportFile(ctx, "inbox", "good.csv", "sha-3", 1, putRecords); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.FileState(ctx, "inbox", "sha-3"); got != "done" {
		t.Errorf("FileState of an imported file = %q, want done", got)
	}
}

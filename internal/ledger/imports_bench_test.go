package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// BenchmarkProbeWaitDuringImport imports a 100,000-row export while a probe is recorded
// every 10 ms, and reports the longest and the 99th-percentile time a probe took to reach
// the disk. "batched" is how creditwatch imports; "one_transaction" holds the writer for
// the whole file, as a single transaction would.
//
//	go test ./internal/ledger -run '^$' -bench ProbeWaitDuringImport -benchtime 1x
func BenchmarkProbeWaitDuringImport(b *testing.B) {
	const rows = 100_000
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batched", ImportBatch}, {"one_transaction", rows + 1}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				l, err := Open(context.Background(), ledgerAt(b, filepath.Join(b.TempDir(), "l.db")))
				if err != nil {
					b.Fatal(err)
				}
				l.importBatch = bc.batch
				ctx := context.Background()
				stop := make(chan struct{})
				waits := make(chan []time.Duration)
				go func() {
					var w []time.Duration
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for n := 0; ; n++ {
						select {
						case <-stop:
							waits <- w
							return
						case <-tick.C:
						}
						start := time.Now()
						if _, _, err := l.RecordProbe(ctx, Probe{Target: "portal", StartedAt: start, Outcome: "ok", StatusCode: 200},
							pol, Scoring{Site: "portal", Scored: true}); err != nil {
							b.Error(err)
						}
						w = append(w, time.Since(start))
					}
				}()
				day := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
				began := time.Now()
				_, err = l.ImportFile(ctx, "inbox", "big.csv", fmt.Sprint(i), 1, func(w *FileWriter) error {
					for r := 0; r < rows; r++ {
						id := fmt.Sprintf("L-%06d", r)
						err := w.PutPublicity(PublicityRecord{Kind: publicity.Licence, ID: id, Source: "inbox", UpdatedAt: day,
							Assessment: publicity.Assessment{Department: fmt.Sprintf("部门%02d", r%40), DecidedOn: day, Reported: true, Compliant: true, Timely: true},
							Fields:     map[string]string{"行政许可决定文书号": id, "行政相对人名称": "某某有限公司", "许可内容": "食品经营许可"}})
						if err != nil {
							return err
						}
					}
					return nil
				})
				took := time.Since(began)
				close(stop)
				w := <-waits
				if err != nil {
					b.Fatal(err)
				}
				slices.Sort(w)
				b.ReportMetric(took.Seconds(), "import_s")
				b.ReportMetric(float64(w[len(w)-1].Milliseconds()), "max_probe_wait_ms")
				b.ReportMetric(float64(w[len(w)*99/100].Milliseconds()), "p99_probe_wait_ms")
				b.ReportMetric(float64(len(w)), "probes")
				l.Close()
			}
		})
	}
}

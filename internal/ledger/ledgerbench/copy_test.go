package ledgerbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/ledger/pgtest"
)

// BenchmarkCopyLedger copies a 100-target ledger (40 days, the last day probed every
// 30 s: about 380,000 raw probe rows and their rollups) from SQLite into a new PostgreSQL
// database, as creditwatch ledger migrate does, and reports rows copied per second.
//
//	source scripts/postgres.sh; go test ./internal/ledger/ledgerbench -run '^$' -bench CopyLedger -benchtime 1x; pg_stop
func BenchmarkCopyLedger(b *testing.B) {
	server := pgtest.Server(b)
	ctx := context.Background()
	spec := Spec{Targets: 100, Now: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), Days: 40, DenseHours: 24, Incidents: 5,
		RawProbes: 35 * 24 * time.Hour}
	src, err := ledger.Open(ctx, Copy(b, spec))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst, err := ledger.Open(ctx, pgtest.Database(b, server, fmt.Sprintf("%s/%d", b.Name(), i), "template0"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := ledger.CopyLedger(ctx, src, dst, ledger.CopyOptions{})
		took := time.Since(start)
		dst.Close()
		if err != nil || !res.OK() {
			b.Fatalf("copy: %v, %+v", err, res)
		}
		var rows int64
		for _, c := range res.Counts {
			rows += c.Target
		}
		b.ReportMetric(float64(rows), "rows")
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(took.Seconds(), "copy_s")
	}
}

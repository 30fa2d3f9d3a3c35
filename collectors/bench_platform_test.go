package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/sim"
	"github.com/creditwatch/creditwatch/internal/workday"
)

const millionRecords = 1_000_000

var (
	bigLedgerOnce sync.Once
	bigLedgerPath string
	bigLedgerErr  error
	bigIDs        []string
	bigFields     []map[string]string
)

// bigLedger builds, once per run, a ledger holding a million assessed penalty records.
func bigLedger(b *testing.B) string {
	bigLedgerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditwatch-bench")
		if err != nil {
			bigLedgerErr = err
			return
		}
		bigLedgerPath = filepath.Join(dir, "big.db")
		l, err := ledger.Open(context.Background(), bigLedgerPath)
		if err != nil {
			bigLedgerErr = err
			return
		}
		defer l.Close()
		checker := &publicity.Checker{AsOf: today(time.Now())}
		var batch []ledger.PublicityRecord
		t0 := time.Now().Add(-time.Hour)
		bigLedgerErr = sim.Generate(publicity.Penalty, millionRecords, sim.PlatformScenario{FaultyRatio: 0.05, LateRatio: 0.03, UnreportedRatio: 0.02},
			func(id string, fields map[string]string, reported string) error {
				if len(bigIDs)%10000 == 0 {
					bigIDs = append(bigIDs, id)
					bigFields = append(bigFields, fields)
				}
				rec := AsRecord(publicity.Penalty, APIRecord{ID: id, ReportedAt: reported, Fields: fields}, 0)
				batch = append(batch, ledger.PublicityRecord{Kind: publicity.Penalty, ID: id, Source: PlatformSource, UpdatedAt: t0,
					Assessment: publicity.Assess(rec, checker, workday.Default, 7, nil), Fields: fields})
				if len(batch) == 5000 {
					err := l.StorePublicity(context.Background(), batch, nil)
					batch = batch[:0]
					return err
				}
				return nil
			})
		if bigLedgerErr == nil {
			bigLedgerErr = l.StorePublicity(context.Background(), batch, nil)
		}
	})
	if bigLedgerErr != nil {
		b.Fatal(bigLedgerErr)
	}
	return bigLedgerPath
}

// BenchmarkIncrementalPoll100of1M is one poll of the penalty stream when 100 of the
// million stored records changed: one page fetched over loopback, parsed, assessed, and
// upserted with the new cursor in one transaction.
func BenchmarkIncrementalPoll100of1M(b *testing.B) {
	path := bigLedger(b)
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	round := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		round++
		n := round
		mu.Unlock()
		recs := make([]map[string]any, 0, 100)
		for i := 0; i < 100; i++ {
			j := (n*100 + i) % len(bigIDs)
			recs = append(recs, map[string]any{"id": bigIDs[j], "updated_at": time.Now().UTC().Format(time.RFC3339Nano),
				"reported_at": "", "fields": bigFields[j]})
		}
		json.NewEncoder(w).Encode(map[string]any{"records": recs, "next_cursor": strconv.Itoa(n), "has_more": false})
	}))
	defer srv.Close()
	d := Deps{Ledger: l, Store: metrics.NewStore(), Logger: zap.NewNop()}
	p := newTestPlatform(b, srv.URL, d, nil)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for b.Loop() {
		if err := p.Collect(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPublicityFigures1M is the recomputation of every department's figures and the
// code error rate over the million records, done after a poll that changed something.
func BenchmarkPublicityFigures1M(b *testing.B) {
	path := bigLedger(b)
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	// Every record counts: a period reaching back to 2000.
	view := ledger.View{At: time.Now(), From: time.Date(2000, 1, 1, 0, 0, 0, 0, clock.Shanghai)}
	next, _ := workday.Default.AddWorkdays(today(time.Now()), 1)
	b.ResetTimer()
	for b.Loop() {
		figs, err := l.PublicityFigures(context.Background(), view, next)
		if err != nil || len(figs) == 0 {
			b.Fatal(err)
		}
		if _, err := l.PublicityCodeStats(context.Background(), view); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	fmt.Fprintf(os.Stderr, "ledger %s\n", path)
}

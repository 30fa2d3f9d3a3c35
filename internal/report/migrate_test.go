package report

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/ledger/pgtest"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// A SQLite ledger moved to PostgreSQL (creditwatch ledger migrate) gives every month's
// report data byte for byte, and the frozen month's report as frozen: probes partly
// rolled up and retired, incidents, risk events, publicity records and a frozen report.
func TestMigratedLedgerGivesTheSameReports(t *testing.T) {
	server := pgtest.Server(t)
	l, cfg := rollupLedger(t)
	ctx := context.Background()
	recs := []ledger.PublicityRecord{
		{Kind: publicity.Penalty, ID: "濮罚〔2026〕1号", Source: "test", UpdatedAt: at("2026-10-10 09:00"), Fields: map[string]string{},
			Assessment: publicity.Assessment{Department: "濮阳市商务局", DecidedOn: at("2026-10-09 00:00"), Reported: true, Compliant: true, Timely: true}},
		{Kind: publicity.Licence, ID: "濮许〔2026〕2号", Source: "test", UpdatedAt: at("2026-10-20 09:00"), Fields: map[string]string{},
			Assessment: publicity.Assessment{Department: "濮阳市生态环境局", DecidedOn: at("2026-10-19 00:00"), Reported: true, Timely: true}},
	}
	if err := l.StorePublicity(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RunRetention(ctx, at("2026-11-07 18:00"), ledger.Retention{RawProbes: 20 * 24 * time.Hour, Lag: time.Hour}); err != nil {
		t.Fatal(err)
	}
	when := at("2026-11-07 12:00")
	frozen, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: when})
	if err != nil || !frozen.Meta.Frozen() {
		t.Fatalf("October's report: frozen %v, %v", frozen != nil && frozen.Meta.Frozen(), err)
	}
	want := monthData(t, l, cfg, when)

	target := pgtest.Database(t, server, t.Name(), "template0")
	dst, err := ledger.Open(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	res, err := ledger.CopyLedger(ctx, l, dst, ledger.CopyOptions{Batch: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Chain.Events == 0 {
		t.Fatalf("copy: %+v; chain %+v", res.Counts, res.Chain)
	}
	for month, data := range monthData(t, dst, cfg, when) {
		if !bytes.Equal(data, want[month]) {
			t.Errorf("%s from PostgreSQL differs from SQLite's:\n%s", month, firstDiff(data, want[month]))
		}
	}
	again, err := Generate(ctx, dst, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: when})
	if err != nil || again.Meta.Digest != frozen.Meta.Digest || again.Meta.Version != frozen.Meta.Version {
		t.Errorf("October's frozen report from PostgreSQL: %+v, %v; want %+v", again.Meta, err, frozen.Meta)
	}
}

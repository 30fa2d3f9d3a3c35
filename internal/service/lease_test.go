package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

// The platform is polled by the instance that holds the jobs lease only: while another
// holds it, this one probes but does not poll; once the other's lease expires (it died),
// this one takes the lease within a third of its length and polls at once, without
// waiting for its next interval; a clean stop hands the lease back.
func TestPlatformPolledByTheLeaseHolder(t *testing.T) {
	ctx := context.Background()
	var polls atomic.Int64
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"records":[],"next_cursor":""}`))
	}))
	defer platform.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	// Another instance holds the lease for 3 more seconds.
	other, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	held := time.Now()
	if ls, err := other.AcquireLease(ctx, JobsLease, "b/elsewhere/1/run-1", held, 3*time.Second); err != nil || ls.Holder != "b/elsewhere/1/run-1" {
		t.Fatalf("%+v, %v", ls, err)
	}
	other.Close()
	cfg := filepath.Join(dir, "c.yml")
	// A 30 s polling interval: the lease is 15 s long, the takeover checked every 5 s at
	// most; here the lease of the other ends in 3 s.
	writeConfig(t, cfg, "platform: {url: '"+platform.URL+"', interval: 30s, streams: [publicity]}\n"+
		"portal:\n  targets:\n    - {name: a, url: 'http://127.0.0.1:9/', interval: 1h}\nstorage: {path: "+db+"}\n")
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop(), Vantage: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	if got := leaseGauge(t, svc.Store()); got != 0 {
		t.Errorf("creditwatch_lease_held = %v while another instance holds the lease", got)
	}
	time.Sleep(time.Until(held.Add(2 * time.Second)))
	if n := polls.Load(); n != 0 {
		t.Fatalf("polled %d times while another instance held the lease", n)
	}
	for deadline := held.Add(3*time.Second + 15*time.Second/3 + 5*time.Second); polls.Load() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the lease was not taken over and the platform not polled within a third of the lease after it expired")
		}
	}
	took := time.Since(held.Add(3 * time.Second))
	t.Logf("took over %s after the other's lease expired", took.Round(time.Millisecond))
	if got := leaseGauge(t, svc.Store()); got != 1 {
		t.Errorf("creditwatch_lease_held = %v after taking the lease", got)
	}
	ls, _ := svc.Ledger().CurrentLease(ctx, JobsLease)
	if !strings.HasPrefix(ls.Holder, "a/") {
		t.Errorf("lease %+v, want held by vantage a", ls)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if ls, _ := l.CurrentLease(ctx, JobsLease); ls.Holder != "" {
		t.Errorf("after a clean stop the lease is still held: %+v", ls)
	}
}

func leaseGauge(t *testing.T, s *metrics.Store) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(metrics.NewCollector(s))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "creditwatch_lease_held" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("creditwatch_lease_held not exported")
	return 0
}

// An incident another instance writes to the shared ledger reaches this instance's cards
// within a few seconds, without waiting for the heartbeat.
func TestOthersIncidentsReachTheCard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	cfg := filepath.Join(dir, "c.yml")
	writeConfig(t, cfg, "portal:\n  targets:\n    - {name: home, url: 'http://127.0.0.1:9/', interval: 1h}\nstorage: {path: "+db+"}\n")
	svc, err := Start(ctx, Options{ConfigFile: cfg, Logger: zap.NewNop(), Vantage: "a", Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(ctx)
	other, err := ledger.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now()
	for i := range 3 {
		p := ledger.Probe{Target: "home", Vantage: "b", StartedAt: now.Add(time.Duration(i-3) * time.Second), Duration: time.Second,
			Outcome: "timeout", Failed: true, Interval: time.Second}
		if _, _, err := other.RecordProbe(ctx, p, incident.Policy{OpenAfter: 2, CloseAfter: 2}, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(3 * OthersEvery); ; time.Sleep(50 * time.Millisecond) {
		if c := svc.Store().Card(); c != nil && c.Portal != nil && len(c.Portal.Incidents) == 1 && c.Portal.Incidents[0].Vantage == "b" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the incident vantage b wrote did not reach the card within %s", 3*OthersEvery)
		}
	}
}

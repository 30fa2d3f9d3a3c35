package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/workday"
)

// fixtureNow is the fixture's now: Friday 27 November 2026, 09:00 in Shanghai.
var fixtureNow = time.Date(2026, 11, 27, 9, 0, 0, 0, clock.Shanghai)

// hostileDept and hostileFile are outside text carrying HTML.
const (
	hostileDept = `<img src=x onerror=alert(1)>市商务局`
	hostileFile = `<script>alert("文件")</script>.csv`
	formulaID   = `=HYPERLINK("http://example.com/x","点我")`
)

// fixture is a status source of known data: what a service would hand the status page.
type fixture struct {
	cfg   *config.Config
	l     *ledger.Ledger
	store *metrics.Store
	set   card.Settings
	clk   *clock.Fake
}

func (f *fixture) Config() *config.Config  { return f.cfg }
func (f *fixture) Ledger() *ledger.Ledger  { return f.l }
func (f *fixture) Store() *metrics.Store   { return f.store }
func (f *fixture) Settings() card.Settings { return f.set }
func (f *fixture) Clock() clock.Clock      { return f.clk }
func (f *fixture) handler() http.Handler {
	mux := http.NewServeMux()
	registerStatus(mux, f, zap.NewNop())
	return mux
}

// newFixture builds the city of 安阳市 on 27 November 2026:
//   - credit-portal, probed every 30 minutes for the last 10 days (and 60 to 50 days ago):
//     an incident of 2 hours 3 days ago, and one since 06:00 today whose recovery is being
//     confirmed (the last probe was good);
//   - backup-portal, always up, a certificate good for 200 days;
//   - waf-page, whose last probe met a WAF challenge; news, never probed;
//   - publicity records of a department with HTML in its name: one overdue, one due today,
//     one reported late, two faulty (one numbered like a spreadsheet formula);
//   - an objection 4 working days old, a repair 2 working days old;
//   - an export directory with one rejected file (named with HTML) and one imported.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
portal:
  targets:
    - {name: credit-portal, url: "https://credit.example.gov.cn/?q=<script>x</script>", interval: 30m, timeout: 10s}
    - {name: backup-portal, url: "https://backup.example.gov.cn/", interval: 30m, timeout: 10s, scored: false, site: backup}
    - {name: waf-page, url: "https://credit.example.gov.cn/xyfw/", interval: 30m, timeout: 10s}
    - {name: news, url: "https://credit.example.gov.cn/news/", interval: 30m, timeout: 10s}
  incident: {open_after: 2, close_after: 2}
publicity:
  exports:
    - {name: penalties, kind: penalty, dir: %s}
assessment: {period_start: 2026-01-01, city: 安阳市}
storage: {path: %s}
`, inbox, filepath.Join(dir, "ledger.db"))), fixtureNow)
	if err != nil {
		t.Fatal(err)
	}
	set, err := card.SettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cfg: cfg, store: metrics.NewStore(), set: set, clk: clock.NewFake(fixtureNow)}
	// The ledger is built once per test binary and copied.
	fixtureOnce.Do(func() { fixtureData, fixtureErr = buildFixtureLedger(f) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	if err := os.WriteFile(cfg.Storage.Path, fixtureData, 0o600); err != nil {
		t.Fatal(err)
	}
	if f.l, err = ledger.Open(ctx, cfg.Storage.Path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.l.Close() })
	f.snapshots()
	f.rescore(t)
	return f
}

var (
	fixtureOnce sync.Once
	fixtureData []byte
	fixtureErr  error
)

// failer turns a builder's t.Fatal into an error, for the ledger built once.
type failer struct {
	testing.TB
	err error
}

func (f *failer) Fatal(args ...any) {
	f.err = errors.New(fmt.Sprint(args...))
	runtime.Goexit()
}

func buildFixtureLedger(f *fixture) ([]byte, error) {
	dir, err := os.MkdirTemp("", "creditwatch-status-fixture")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "ledger.db")
	l, err := ledger.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	b := &fixture{cfg: f.cfg, l: l, store: f.store, set: f.set, clk: f.clk}
	fl := &failer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.probes(fl)
		b.publicity(fl)
		b.cases(fl)
		b.imports(fl)
	}()
	<-done
	if err := l.Close(); err != nil {
		return nil, err
	}
	if fl.err != nil {
		return nil, fl.err
	}
	return os.ReadFile(path)
}

// duration is a probe's response time: it varies with the time of day.
func duration(at time.Time) time.Duration {
	return time.Duration(80+at.In(clock.Shanghai).Hour()*10) * time.Millisecond
}

func (f *fixture) probes(t testing.TB) {
	ctx := context.Background()
	// 60 to 50 days ago: a run, every probe good (imported, as a backfill would be).
	old := fixtureNow.AddDate(0, 0, -60)
	run, err := f.l.StartRun(ctx, old, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	var backfill []ledger.Probe
	for at := old; at.Before(old.AddDate(0, 0, 10)); at = at.Add(30 * time.Minute) {
		for _, target := range []string{"credit-portal", "backup-portal"} {
			backfill = append(backfill, ledger.Probe{Target: target, Vantage: "test", StartedAt: at, Duration: duration(at),
				Outcome: "ok", StatusCode: 200, Interval: 30 * time.Minute})
		}
	}
	if err := f.l.ImportProbes(ctx, backfill); err != nil {
		t.Fatal(err)
	}
	if err := f.l.StopRun(ctx, run, old.AddDate(0, 0, 10)); err != nil {
		t.Fatal(err)
	}
	// The last 10 days: probed live.
	start := fixtureNow.AddDate(0, 0, -10)
	if run, err = f.l.StartRun(ctx, start, "test", "test"); err != nil {
		t.Fatal(err)
	}
	pol := incident.Policy{OpenAfter: 2, CloseAfter: 2}
	outage := fixtureNow.AddDate(0, 0, -3)
	for at := start; at.Before(fixtureNow); at = at.Add(30 * time.Minute) {
		for _, target := range []string{"credit-portal", "backup-portal"} {
			p := ledger.Probe{Target: target, Vantage: "test", StartedAt: at, Duration: duration(at), Outcome: "ok", StatusCode: 200,
				Interval: 30 * time.Minute}
			down := !at.Before(outage) && at.Before(outage.Add(2*time.Hour)) ||
				!at.Before(fixtureNow.Add(-3*time.Hour)) && at.Before(fixtureNow.Add(-30*time.Minute))
			if target == "credit-portal" && down {
				p.Failed, p.Outcome, p.StatusCode, p.Error = true, "http_status", 502, "HTTP 502, expected [200]"
			}
			if _, _, err := f.l.RecordProbe(ctx, p, pol, ledger.Scoring{Site: map[string]string{"credit-portal": "portal", "backup-portal": "backup"}[target],
				Scored: target == "credit-portal"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.l.Heartbeat(ctx, run, fixtureNow); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) publicity(t testing.TB) {
	cal := workday.Default
	day := func(s string) time.Time {
		d, err := clock.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	deadline := func(decided string) time.Time {
		d, err := cal.AddWorkdays(day(decided), publicity.DefaultDeadlineWorkdays)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	rec := func(id, decided, reported string, compliant bool) ledger.PublicityRecord {
		a := publicity.Assessment{Department: hostileDept, DecidedOn: day(decided), Deadline: deadline(decided), Compliant: compliant}
		if reported != "" {
			a.Reported, a.ReportedOn = true, day(reported)
			a.Timely = !a.ReportedOn.After(a.Deadline)
		}
		if !compliant {
			a.Violations = []publicity.Violation{{Field: publicity.FieldUSCC, Rule: publicity.RuleBadCode, Message: "统一社会信用代码无效"}}
			a.SubjectCode, a.SubjectName = "91410500MA44XY7K9Q", "某公司"
		}
		return ledger.PublicityRecord{Kind: publicity.Penalty, ID: "安罚〔2026〕" + id + "号", Source: "penalties",
			UpdatedAt: fixtureNow.Add(-24 * time.Hour), Assessment: a, Fields: map[string]string{}}
	}
	recs := []ledger.PublicityRecord{
		rec("1", "2026-11-02", "", true),           // deadline 11-11: overdue
		rec("2", "2026-11-18", "", true),           // deadline 11-27, today: due soon
		rec("3", "2026-10-09", "2026-10-26", true), // deadline 10-20: late
		rec("4", "2026-11-10", "2026-11-11", false),
		rec("5", "2026-11-10", "2026-11-11", true),
	}
	// A document number a spreadsheet would run as a formula.
	formula := rec("6", "2026-11-12", "2026-11-13", false)
	formula.ID = formulaID
	recs = append(recs, formula)
	if err := f.l.StorePublicity(context.Background(), recs, nil); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) cases(t testing.TB) {
	cs := []ledger.CaseRecord{
		{Kind: cases.KindObjection, ID: "YY-<b>7</b>", Source: "penalties", UpdatedAt: fixtureNow.Add(-24 * time.Hour),
			Fields: map[string]string{cases.FieldObjectionID: "YY-<b>7</b>", cases.FieldObjectionDoc: "安罚〔2026〕5号",
				cases.FieldReceived: "2026-11-23"}}, // 4 working days by Friday 27
		{Kind: cases.KindRepair, ID: "XF-2", Source: "penalties", UpdatedAt: fixtureNow.Add(-24 * time.Hour),
			Fields: map[string]string{cases.FieldRepairID: "XF-2", cases.FieldPenaltyDoc: "安罚〔2026〕3号",
				cases.FieldPenaltyDate: "2026-01-05", cases.FieldApplied: "2026-11-25"}}, // 2 working days: due Monday 30
	}
	if err := f.l.StoreCases(context.Background(), cs, nil); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) imports(t testing.TB) {
	ctx := context.Background()
	if _, err := f.l.ImportFile(ctx, "penalties", "2026-11-20.csv", "sha-good", 120, func(*ledger.FileWriter) error { return nil }); err != nil {
		t.Fatal(err)
	}
	_, err := f.l.ImportFile(ctx, "penalties", hostileFile, "sha-bad", 99, func(*ledger.FileWriter) error {
		return errors.New(`row 3: 处罚决定日期 "2026-13-01" is not a date <b>`)
	})
	if err == nil {
		t.Fatal("the bad file was imported")
	}
}

// snapshots are the collectors' latest state as they publish it.
func (f *fixture) snapshots() {
	f.store.SourcePolled("penalties", fixtureNow.Add(-5*time.Minute), map[string]int{"penalty": 0})
	f.store.AddSourceError("penalties", "unreadable_file")
	f.store.SetPortal(&metrics.Portal{Target: "credit-portal", Probed: true, Success: true, Outcome: "ok", StatusCode: 200,
		PhaseSeconds: map[string]float64{"connect": 0.02, "first_byte": 0.15}, CertExpiry: fixtureNow.AddDate(0, 0, 10),
		IncidentsTotal: 2, IncidentOpen: true, OpenSince: fixtureNow.Add(-3 * time.Hour), LastProbe: fixtureNow.Add(-30 * time.Minute)})
	f.store.SetPortal(&metrics.Portal{Target: "backup-portal", Probed: true, Success: true, Outcome: "ok", StatusCode: 200,
		PhaseSeconds: map[string]float64{"first_byte": 0.1}, CertExpiry: fixtureNow.AddDate(0, 0, 200), LastProbe: fixtureNow.Add(-30 * time.Minute)})
	f.store.SetPortal(&metrics.Portal{Target: "waf-page", Probed: true, Outcome: "challenged", StatusCode: 412,
		LastError: "HTTP 412: challenged by a web application firewall", LastProbe: fixtureNow.Add(-10 * time.Minute), RiskTotal: 1})
}

func (f *fixture) rescore(t testing.TB) {
	ctx := context.Background()
	at := card.Now(f.clk.Now())
	period, err := card.Period(ctx, f.l, f.set, at, card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	month, err := card.Month(ctx, f.l, f.set, at, card.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.store.SetCards(period, month)
}

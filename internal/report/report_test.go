package report

import (
	"path/filepath"

	"bytes"
	"context"
	"errors"
	"flag"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

var now = reporttest.At("2026-11-27 09:00")

func octoberLedger(t *testing.T) (*ledger.Ledger, *config.Config) {
	return reporttest.October(t, filepath.Join(t.TempDir(), "october.db"))
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestOctoberReport(t *testing.T) {
	l, cfg := octoberLedger(t)
	r, err := Generate(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Renderer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Data
	// Worked out by hand from the scenario: creditwatch was killed at 12:00 on 15 October
	// (its last heartbeat) and came back at 14:00; the probe of 11:40 vouches until 12:00.
	gap := 2 * time.Hour
	watched := 31*24*time.Hour - gap
	if math.Abs(d.Monitor.UnknownSeconds-gap.Seconds()) > 1e-6 || len(d.Monitor.Gaps) != 1 {
		t.Errorf("unknown = %v s in %d gaps, want %v", d.Monitor.UnknownSeconds, len(d.Monitor.Gaps), gap.Seconds())
	}
	tg := d.Targets[0]
	probes := 31*72 - 6
	wantUptime := math.Round((watched.Seconds()-2400)/watched.Seconds()*1e6) / 1e6
	if tg.Probes != probes || tg.Good != probes-3 || tg.DownSeconds != 2400 || tg.UptimeRatio == nil || *tg.UptimeRatio != wantUptime ||
		tg.WatchedSeconds != watched.Seconds() || tg.UnknownSeconds != gap.Seconds() {
		t.Errorf("target = %+v, want %d probes, %d good, %v watched, 2400 s down, uptime %v", tg, probes, probes-3, watched, wantUptime)
	}
	if len(tg.Days) != 31 || tg.Days[7].Good != 70 {
		t.Errorf("days = %d, 8 October good = %d", len(tg.Days), tg.Days[7].Good)
	}
	if len(d.Incidents) != 1 || d.Incidents[0].Start != "2026-10-08T10:00:00+08:00" || d.Incidents[0].End != "2026-10-08T10:40:00+08:00" ||
		d.Incidents[0].FailedProbes != 2 || d.Incidents[0].FirstError != reporttest.HostileError || len(d.RiskEvents) != 1 {
		t.Errorf("incidents = %+v, risk events = %d", d.Incidents, len(d.RiskEvents))
	}
	for _, ind := range d.Indicators {
		if ind.ID == "portal_accessibility" && (*ind.Month != 1.5 || *ind.Period != 1.5) {
			t.Errorf("portal_accessibility month %v period %v, want 1.5 and 1.5", *ind.Month, *ind.Period)
		}
	}
	if !r.Meta.Frozen() || r.Meta.Version != 1 || !d.Complete {
		t.Errorf("a finished month was not frozen: %+v", r.Meta)
	}
	var js, csv bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/2026-10.json", js.Bytes())
	golden(t, "testdata/2026-10.csv", csv.Bytes())
}

func TestFinishedMonthIsFrozen(t *testing.T) {
	ctx := context.Background()
	l, cfg := octoberLedger(t)
	first, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// Later data and a config change must not change a finished month's report...
	cfg.Assessment.Rounding = "exact"
	cfg.Portal.Targets[0].Name = "renamed-portal"
	if _, err := l.StartRun(ctx, reporttest.At("2026-10-20 00:00"), "late", "puyang"); err != nil {
		t.Fatal(err)
	}
	again, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if again.Meta != first.Meta || !bytes.Equal(again.Raw, first.Raw) {
		t.Error("regenerating a finished month changed it")
	}
	// ...unless a recomputation is asked for.
	fresh, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Recompute: true})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Meta.Digest == first.Meta.Digest || fresh.Meta.Version != 2 {
		t.Errorf("--recompute gave %+v", fresh.Meta)
	}
	// The earlier version is kept, never replaced.
	vs, err := l.ReportVersions(ctx, "2026-10")
	if err != nil || len(vs) != 2 || vs[1].Digest != first.Meta.Digest || vs[0].Reason != "recomputed" {
		t.Errorf("versions = %d (%v)", len(vs), err)
	}
	// The current month is never frozen.
	cur, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2026-11", Now: now})
	if err != nil || cur.Meta.Frozen() || cur.Data.Complete {
		t.Errorf("current month: %+v, complete %t, %v", cur.Meta, cur.Data.Complete, err)
	}
	if _, err := Generate(ctx, l, cfg, settingsOf(t, cfg), Options{Month: "2027-01", Now: now}); err == nil {
		t.Error("a future month was reported")
	}
}

func TestHTMLEscapesAndVerifies(t *testing.T) {
	l, cfg := octoberLedger(t)
	r, err := Generate(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Renderer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var html bytes.Buffer
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	page := html.String()
	// Outside text appears only escaped: neither the error's script nor the department's
	// img tag may reach the page as markup (the embedded data escapes < as \u003c).
	for _, raw := range []string{"<script>alert(", "<img src=x"} {
		if strings.Contains(page, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(", "&lt;img src=x onerror=alert(1)&gt;濮阳市商务局", "页面内容不符",
		"2026-10-08 10:00:00", "<svg", "counter(pages)", r.Meta.Digest, "2026年10月", "已封存（第 1 版",
		"附录：事件证据与标注", "解析地址 203.0.113.7"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	v, err := Verify(html.Bytes(), VerifyOptions{})
	if err != nil || v.Meta.Month != "2026-10" || v.Meta.Digest != r.Meta.Digest || v.Format != "html" {
		t.Errorf("Verify(html) = %+v %v", v, err)
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	if _, err := Verify(js.Bytes(), VerifyOptions{}); err != nil {
		t.Errorf("Verify(json): %v", err)
	}
	tampered := strings.Replace(page, `"failed_probes":2`, `"failed_probes":1`, 1)
	if _, err := Verify([]byte(tampered), VerifyOptions{}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("a tampered report verified: %v", err)
	}
	if _, err := Verify([]byte("<html>not a report</html>"), VerifyOptions{}); err == nil {
		t.Error("a foreign page verified")
	}
}

func settingsOf(t testing.TB, cfg *config.Config) card.Settings {
	t.Helper()
	s, err := card.SettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReportNamesTheCity: the configured city and its ledger's title head the report, the
// headline sums up the period, indicators go by their Chinese names, gates read 达标/未达标,
// percentages have two decimals and errors are in Chinese with the original beside them.
func TestReportNamesTheCity(t *testing.T) {
	l, cfg := octoberLedger(t)
	cfg.Assessment.City, cfg.Assessment.LedgerTitle = "安阳市", "安阳市社会信用体系建设示范创建任务清单"
	r, err := Generate(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Renderer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var page, csv bytes.Buffer
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<title>安阳市社会信用平台月度监测报告 · 2026年10月</title>",
		"<h1>安阳市社会信用平台月度监测报告</h1>",
		"计分依据：《安阳市社会信用体系建设示范创建任务清单》",
		"<td>考核周期评分概况</td><td><b>可监测指标 17 分，已扣 0.5 分（6 项无数据）；基础指标 1 项未达标</b></td>",
		"<b>信用门户网站可访问性</b>",
		">99.91 %<",
		">未达标<",
		"页面缺少预期内容（body does not contain",
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, want := range []string{"城市,安阳市,计分依据,安阳市社会信用体系建设示范创建任务清单", "基础指标4,“双公示”上报率、合规率、及时率,门槛,未达标,未达标"} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("the CSV lacks %q", want)
		}
	}
}

package delivery

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report"
	"github.com/creditwatch/creditwatch/internal/workday"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, clock.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueOnTheFirstWorkingDayAfterTheMonth(t *testing.T) {
	tests := map[string]string{
		"2026-09": "2026-10-08 09:00", // 1–7 October is the National Day holiday
		"2026-10": "2026-11-02 09:00", // 1 November is a Sunday
		"2026-01": "2026-02-02 09:00",
		"2026-12": "2027-01-04 09:00", // 1 January is a holiday, then a weekend
	}
	for month, want := range tests {
		got, err := DueAt(month, workday.Default, "09:00")
		if err != nil || !got.Equal(at(want)) {
			t.Errorf("DueAt(%s) = %v %v, want %s", month, got, err, want)
		}
	}
}

// webhook records what it was posted, and answers as WeCom does.
type webhook struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, b)
	h.mu.Unlock()
	w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
}

// Across September's end and the National Day holiday: nothing on 30 September, 1 October
// or at 08:59 on 8 October; at 09:00 the report is frozen, written and announced, once.
func TestDeliveryAcrossAHoliday(t *testing.T) { deliveryScenario(t, false) }

// A delivery missed while creditwatch was down happens at its next start.
func TestMissedDeliveryHappensAtTheNextStart(t *testing.T) {
	deliveryScenario(t, true)
}

func deliveryScenario(t *testing.T, missed bool) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := ledger.Open(ctx, filepath.Join(dir, "l.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run, _ := l.StartRun(ctx, at("2026-09-01 00:00"), "test", "puyang")
	for p := at("2026-09-01 00:00"); p.Before(at("2026-10-08 10:00")); p = p.Add(time.Hour) {
		rec := ledger.Probe{Target: "credit-portal", Vantage: "puyang", StartedAt: p, Outcome: "ok", StatusCode: 200, Interval: time.Hour}
		if _, _, err := l.RecordProbe(ctx, rec, incident.Policy{OpenAfter: 2, CloseAfter: 2}, ledger.Scoring{Site: "portal", Scored: true}); err != nil {
			t.Fatal(err)
		}
	}
	l.Heartbeat(ctx, run, at("2026-10-08 10:00"))
	wecom, plain := &webhook{}, &webhook{}
	wecomSrv, plainSrv := httptest.NewServer(wecom), httptest.NewServer(plain)
	defer wecomSrv.Close()
	defer plainSrv.Close()
	urlFile := filepath.Join(dir, "wecom.url")
	os.WriteFile(urlFile, []byte(wecomSrv.URL+"/cgi-bin/webhook/send?key=secret\n"), 0o600)
	reports := filepath.Join(dir, "reports")
	os.Mkdir(reports, 0o750)
	keyFile := filepath.Join(dir, "signing.key")
	pub, _ := report.GenerateKey(keyFile)
	key, _ := report.LoadSigningKey(keyFile)
	cfg, err := config.Parse([]byte(`
portal:
  targets:
    - {name: credit-portal, url: "https://credit.example.gov.cn/"}
reports:
  dir: `+reports+`
  link_base: https://creditwatch.example.gov.cn
  webhooks:
    - {name: office, url_file: `+urlFile+`, format: wecom}
    - {name: archive, url: "`+plainSrv.URL+`", format: json}
`), at("2026-10-08 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	set, _ := card.SettingsOf(cfg)
	d := &Deliverer{Ledger: l, Config: cfg, Settings: set, Key: key, Renderer: "test", Log: zap.NewNop()}
	if missed {
		// creditwatch was down when the delivery was due: it happens at the next start.
		if err := d.Run(ctx, at("2026-10-20 15:00")); err != nil {
			t.Fatal(err)
		}
		if done, _ := l.Delivered(ctx, "2026-09"); done == nil || !done.DeliveredAt.Equal(at("2026-10-20 15:00")) {
			t.Fatalf("missed delivery: %+v", done)
		}
		return
	}
	for _, now := range []string{"2026-09-30 23:59", "2026-10-01 09:00", "2026-10-07 12:00", "2026-10-08 08:59"} {
		if err := d.Run(ctx, at(now)); err != nil {
			t.Fatal(err)
		}
		if done, _ := l.Delivered(ctx, "2026-09"); done != nil || len(wecom.bodies) > 0 {
			t.Fatalf("delivered at %s, before it was due", now)
		}
	}
	for _, now := range []string{"2026-10-08 09:00", "2026-10-08 09:01", "2026-10-09 09:00"} {
		if err := d.Run(ctx, at(now)); err != nil {
			t.Fatal(err)
		}
	}
	done, err := l.Delivered(ctx, "2026-09")
	if err != nil || done == nil || !done.DeliveredAt.Equal(at("2026-10-08 09:00")) || len(done.Files) != 4 {
		t.Fatalf("delivery = %+v, %v", done, err)
	}
	if len(wecom.bodies) != 1 || len(plain.bodies) != 1 {
		t.Fatalf("notices: %d to WeCom, %d as JSON; want one each", len(wecom.bodies), len(plain.bodies))
	}
	var msg struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Content string }
	}
	json.Unmarshal(wecom.bodies[0], &msg)
	for _, want := range []string{"2026年9月 濮阳市信用平台月度监测报告已封存", "credit-portal 可用率 100.00 %", "> 可监测指标 17 分，已扣 0 分", "https://creditwatch.example.gov.cn/reports/2026-09"} {
		if msg.MsgType != "markdown" || !strings.Contains(msg.Markdown.Content, want) {
			t.Errorf("WeCom notice lacks %q:\n%s", want, msg.Markdown.Content)
		}
	}
	var notice struct {
		Event, Month, Digest string
		Version              int
	}
	json.Unmarshal(plain.bodies[0], &notice)
	if notice.Event != "report_delivered" || notice.Month != "2026-09" || notice.Version != 1 || notice.Digest == "" {
		t.Errorf("JSON notice = %s", plain.bodies[0])
	}
	// The files are the frozen, signed report: each verifies.
	for _, f := range done.Files {
		data, _ := os.ReadFile(f)
		opts := report.VerifyOptions{PublicKey: pub}
		if strings.HasSuffix(f, ".csv") {
			opts.Frozen = func(month string, _ int) (*ledger.FrozenReport, error) { return l.FrozenReport(ctx, month) }
		}
		if _, err := report.Verify(data, opts); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o640 {
			t.Errorf("%s mode %v", f, st.Mode().Perm())
		}
	}
}

package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/metrics"
)

func apiRecord(id string) map[string]any {
	return map[string]any{"id": id, "updated_at": "2026-11-20T08:00:00Z", "reported_at": "2026-11-21",
		"fields": map[string]string{"行政相对人名称": "濮阳市恒信化工有限公司", "处罚决定日期": "2026-11-18", "行政处罚决定书文号": id}}
}

func page(records []map[string]any, next string, more bool) []byte {
	b, _ := json.Marshal(map[string]any{"records": records, "next_cursor": next, "has_more": more})
	return b
}

func newTestPlatform(t testing.TB, url string, d Deps, edit func(*config.Platform)) *Platform {
	t.Helper()
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte("secret\n"), 0o600)
	cfg, err := config.Parse([]byte(fmt.Sprintf("platform: {url: '%s', token_file: '%s', interval: 10s, timeout: 300ms, page_size: 2}", url, tok)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg.Platform)
	}
	p, err := NewPlatform(cfg.Platform, cfg.Publicity, d)
	if err != nil {
		t.Fatal(err)
	}
	p.streams = publicityStreams[:1] // penalties only
	return p
}

func sourceErrors(s *metrics.Store, reason string) float64 {
	st := testutilCollect(s)
	return st["creditwatch_source_errors_total/"+reason]
}

func TestPlatformFailuresKeepDataAndCursor(t *testing.T) {
	tests := map[string]struct {
		second func(w http.ResponseWriter, r *http.Request)
		reason string
		edit   func(*config.Platform)
	}{
		"broken json":  {second: func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"records":[{"id"`)) }, reason: "bad_json"},
		"server error": {second: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) }, reason: "http_status"},
		"hang":         {second: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, reason: "timeout"},
		"huge page": {second: func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"records":[` + strings.Repeat(`{"id":"x"},`, 1<<17)))
		}, reason: "body_too_large", edit: func(p *config.Platform) {
			// A timeout to spare on a loaded machine: the limit, not the clock, must end this page.
			p.MaxBodyBytes, p.Timeout = 64<<10, config.Duration(10*time.Second)
		}},
		"token revoked": {second: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) }, reason: "unauthorized"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			var cursors []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer secret" {
					w.WriteHeader(401)
					return
				}
				cursors = append(cursors, r.URL.Query().Get("cursor"))
				switch calls.Add(1) {
				case 1:
					w.Write(page([]map[string]any{apiRecord("濮罚〔2026〕1号"), apiRecord("濮罚〔2026〕2号")}, "c2", true))
				case 2:
					tc.second(w, r)
				default:
					w.Write(page([]map[string]any{apiRecord("濮罚〔2026〕3号")}, "c3", false))
				}
			}))
			defer srv.Close()
			d := testDeps(t)
			p := newTestPlatform(t, srv.URL, d, tc.edit)
			if err := p.Collect(context.Background()); err != nil {
				t.Fatalf("a platform failure is not a collector failure: %v", err)
			}
			if got := sourceErrors(d.Store, tc.reason); got != 1 {
				t.Errorf("source errors %s = %v, want 1", tc.reason, got)
			}
			if n, _ := d.Ledger.CountPublicity(context.Background()); n != 2 {
				t.Errorf("after the failure the ledger has %d records, want the 2 of the good page", n)
			}
			if c, _ := d.Ledger.Cursor(context.Background(), PlatformSource, "publicity/penalty"); c != "c2" {
				t.Errorf("cursor = %q, want c2 (the last good page)", c)
			}
			// The next poll resumes from the stored cursor and completes.
			if err := p.Collect(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n, _ := d.Ledger.CountPublicity(context.Background()); n != 3 {
				t.Errorf("after resuming the ledger has %d records, want 3", n)
			}
			if last := cursors[len(cursors)-1]; last != "c2" {
				t.Errorf("resumed from cursor %q, want c2", last)
			}
		})
	}
}

func TestPlatformBadRecordsSkippedAndCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(page([]map[string]any{apiRecord("濮罚〔2026〕1号"), {"updated_at": "2026-11-20T08:00:00Z", "fields": map[string]string{}}}, "c1", false))
	}))
	defer srv.Close()
	d := testDeps(t)
	if err := newTestPlatform(t, srv.URL, d, nil).Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sourceErrors(d.Store, "bad_record"); got != 1 {
		t.Errorf("bad_record = %v, want 1", got)
	}
	if n, _ := d.Ledger.CountPublicity(context.Background()); n != 1 {
		t.Errorf("ledger has %d records, want the 1 good one", n)
	}
}

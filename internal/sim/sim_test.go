package sim

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/workday"
	"go.uber.org/zap"
)

func TestParseScenarioErrors(t *testing.T) {
	tests := map[string]struct{ doc, want string }{
		"unknown kind": {"faults: [{kind: meltdown, at: 1s, for: 1s}]", `faults[0]: unknown fault kind "meltdown"`},
		"unknown key":  {"faults: [{kind: down, at: 1s, for: 1s, colour: red}]", "field colour not found"},
		"zero length":  {"faults: [{kind: down, at: 1s}]", "faults[0]: for must be positive"},
		"past repeat":  {"repeat: 1m\nfaults: [{kind: down, at: 50s, for: 20s}]", "faults[0]: ends after the repeat period 1m0s"},
		"bad count":    {"sequence: [{kind: ok, count: 0}]", "sequence[0]: count must be at least 1"},
		"bad status":   {"sequence: [{kind: status, status: 42, count: 1}]", "42 is not an HTTP status"},
		"bad duration": {"faults: [{kind: down, at: soon, for: 1s}]", `"soon" is not a duration such as 30s`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestScenarioLookup(t *testing.T) {
	sc, err := ParseScenario([]byte("repeat: 100s\nfaults:\n  - {kind: down, at: 10s, for: 5s}\n  - {kind: slow, delay: 2s, at: 30s, for: 10s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Duration]string{0: "ok", 10 * time.Second: "down", 14 * time.Second: "down",
		15 * time.Second: "ok", 35 * time.Second: "slow", 112 * time.Second: "down"} {
		if got := sc.At(at).Kind; got != want {
			t.Errorf("At(%v) = %s, want %s", at, got, want)
		}
	}
	seq, err := LoadScenario("testdata/outages.yml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range 8 {
		got = append(got, seq.Nth(n).Kind)
	}
	if want := "ok ok status ok hang hang challenge_412 ok"; strings.Join(got, " ") != want {
		t.Errorf("sequence = %v, want %s", got, want)
	}
}

func get(t *testing.T, url string) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestServeSequence(t *testing.T) {
	seq, _ := ParseScenario([]byte("sequence:\n  - {kind: ok, count: 1}\n  - {kind: status, status: 502, count: 1}\n  - {kind: down, count: 1}\n  - {kind: challenge_412, count: 1}\n  - {kind: gbk, count: 1}\n  - {kind: hang, count: 1}\n"))
	s, err := Start("127.0.0.1:0", seq, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if st, body, err := get(t, s.URL()); err != nil || st != 200 || !strings.Contains(body, "信用濮阳") {
		t.Errorf("1st: %d %v", st, err)
	}
	if st, _, _ := get(t, s.URL()); st != 502 {
		t.Errorf("2nd: %d, want 502", st)
	}
	if _, _, err := get(t, s.URL()); err == nil {
		t.Error("3rd: a down portal answered")
	}
	if st, _, _ := get(t, s.URL()); st != 412 {
		t.Errorf("4th: %d, want 412", st)
	}
	if st, body, _ := get(t, s.URL()); st != 200 || strings.Contains(body, "信用濮阳") {
		t.Errorf("5th: GBK page came back as UTF-8 text or status %d", st)
	}
	if _, _, err := get(t, s.URL()); err == nil || !strings.Contains(err.Error(), "Timeout") {
		t.Errorf("6th: hang answered: %v", err)
	}
}

func TestTimedDownRefusesConnections(t *testing.T) {
	sc, _ := ParseScenario([]byte("faults: [{kind: down, at: 200ms, for: 500ms}]"))
	s, err := Start("127.0.0.1:0", sc, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if st, _, err := get(t, s.URL()); err != nil || st != 200 {
		t.Fatalf("before the outage: %d %v", st, err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, _, err := get(t, s.URL()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("during the outage: %v, want connection refused", err)
	}
	time.Sleep(600 * time.Millisecond)
	if st, _, err := get(t, s.URL()); err != nil || st != 200 {
		t.Errorf("after the outage: %d %v", st, err)
	}
}

func TestTLSWithExpiry(t *testing.T) {
	s, err := StartTLS("127.0.0.1:0", nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL = %s", s.URL())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	left := time.Until(resp.TLS.PeerCertificates[0].NotAfter)
	if resp.StatusCode != 200 || left < 89*24*time.Hour || left > 90*24*time.Hour {
		t.Errorf("status %d, certificate expires in %v", resp.StatusCode, left)
	}
}

// A case received before(d, n) is n working days old on d, on working days and weekends.
func TestBeforeGivesTheAge(t *testing.T) {
	for _, d := range []string{"2026-11-27", "2026-11-28", "2026-11-29", "2026-10-01", "2026-10-10"} {
		day, _ := time.ParseInLocation(time.DateOnly, d, clock.Shanghai)
		for n := 0; n <= 5; n++ {
			got, err := workday.Default.Workdays(before(day, n), day)
			if err != nil || got != n {
				t.Errorf("before(%s, %d) = %s: %d working days old (%v), want %d", d, n, before(day, n).Format(time.DateOnly), got, err, n)
			}
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "creditwatch-e2e")
	if err != nil {
		panic(err)
	}
	binary = testutil.BuildBinary(&fakeTB{}, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeTB lets TestMain use a helper written for tests.
type fakeTB struct{ testing.TB }

func (fakeTB) Helper()                        {}
func (fakeTB) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a running creditwatch process.
type proc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
}

// lockedBuffer is written by exec's copying goroutine while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, args...), stderr: &lockedBuffer{}}
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = io.Discard
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("creditwatch %s stderr:\n%s", args[0], p.stderr.String())
		}
	})
	return p
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("creditwatch exited with %v after SIGTERM", err)
	}
}

// eventually polls cond every 50ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(url string) (int, []byte, error) {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// scrape returns /metrics parsed, or nil when it cannot be read.
func scrape(addr string) map[string]*dto.MetricFamily {
	st, body, err := httpGet("http://" + addr + "/metrics")
	if err != nil || st != 200 {
		return nil
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	return fams
}

// value returns the value of the series of a family with the given labels, or -1.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	for _, m := range f.Metric {
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	return -1
}

func sum(fams map[string]*dto.MetricFamily, name string) float64 {
	var s float64
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return s
}

type simStats struct {
	Requests int            `json:"requests"`
	ByKind   map[string]int `json:"by_kind"`
}

func stats(t *testing.T, simAddr string) simStats {
	t.Helper()
	var st simStats
	_, body, err := httpGet("http://" + simAddr + "/-/sim/stats")
	if err == nil {
		json.Unmarshal(body, &st)
	}
	return st
}

func writeConfig(t *testing.T, dir, simAddr string, extra string) string {
	t.Helper()
	doc := fmt.Sprintf(`portal:
  targets:
    - name: credit-portal
      url: http://%s/
      interval: 200ms
      timeout: 150ms
      jitter: 0s
      expect:
        status: [200]
        body_contains: ["信用"]
  incident:
    open_after: 2
    close_after: 2
storage:
  path: %s
%s`, simAddr, filepath.Join(dir, "ledger.db"), extra)
	path := filepath.Join(dir, "creditwatch.yml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fmtPoints(p *float64) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

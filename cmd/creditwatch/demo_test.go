package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs the README's main-job command as a user would and waits for the scripted
// outage to appear as an incident.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	webAddr, simAddr := freeAddr(t), freeAddr(t)
	cmd := exec.Command(binary, "demo", "--web.listen-address", webAddr, "--sim.listen-address", simAddr,
		"--storage.path", filepath.Join(dir, "demo.db"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("demo stderr:\n%s", stderr.String())
		}
	}()
	printed := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Prometheus metrics") {
				printed <- b.String()
			}
		}
	}()
	select {
	case out := <-printed:
		if !strings.Contains(out, "http://"+webAddr+"/") || !strings.Contains(out, "http://"+simAddr+"/") {
			t.Errorf("demo does not print its URLs:\n%s", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo printed no URLs")
	}
	if st, body, err := httpGet("http://" + webAddr + "/"); err != nil || st != 200 || !strings.Contains(string(body), "监测目标") {
		t.Fatalf("status page: %d %v", st, err)
	}
	eventually(t, 60*time.Second-time.Since(began), "the demo's scripted outage to open an incident", func() bool {
		return value(scrape(webAddr), "creditwatch_portal_incidents_total", "target", "credit-portal") == 1
	})
	// The score is recomputed right after the incident is recorded, not in the same step.
	eventually(t, 5*time.Second, "portal_accessibility to drop to 1.5 after one incident", func() bool {
		return value(scrape(webAddr), "creditwatch_indicator_points", "indicator", "portal_accessibility") == 1.5
	})
	t.Logf("incident visible %v after the demo started", time.Since(began).Round(time.Second))
}

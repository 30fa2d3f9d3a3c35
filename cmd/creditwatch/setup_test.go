package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

// setupStep is a block of docs/setup.md the guide test acts on.
type setupStep struct {
	action string // run, serve or file
	path   string // for file
	body   string
}

var setupMarker = regexp.MustCompile("(?m)^<!-- setup-test: (run|serve|file (\\S+)) -->\\n```[a-z]*\\n((?s:.*?))```")

func setupSteps(t *testing.T) []setupStep {
	t.Helper()
	doc, err := os.ReadFile("../../docs/setup.md")
	if err != nil {
		t.Fatal(err)
	}
	var steps []setupStep
	for _, m := range setupMarker.FindAllStringSubmatch(string(doc), -1) {
		action, _, _ := strings.Cut(m[1], " ")
		steps = append(steps, setupStep{action: action, path: m[2], body: m[3]})
	}
	return steps
}

// TestSetupGuide follows docs/setup.md: writes its files and runs its commands in order,
// except those that need root, with its paths moved under a temporary directory and the
// city's portal replaced by the simulator serving a GBK home page over HTTPS (whose
// self-signed certificate the config is told to accept: the one change to the guide's file).
func TestSetupGuide(t *testing.T) {
	for _, tool := range []string{"promtool", "amtool"} {
		testutil.RequireTool(t, tool)
	}
	steps := setupSteps(t)
	if len(steps) < 10 {
		t.Fatalf("docs/setup.md has %d test steps; the markers are missing", len(steps))
	}
	root := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr, "--tls", "--scenario",
		writeFile(t, filepath.Join(root, "gbk.yml"), "sequence:\n  - {kind: gbk, count: 1000000}\n"))
	replacer := strings.NewReplacer(
		"/etc/creditwatch", filepath.Join(root, "etc/creditwatch"),
		"/var/lib/creditwatch", filepath.Join(root, "var/lib/creditwatch"),
		"/srv/creditwatch", filepath.Join(root, "srv/creditwatch"),
		"https://credit.example.gov.cn/", "https://"+simAddr+"/",
		"127.0.0.1:9797", webAddr,
	)
	repo, _ := filepath.Abs("../..")
	env := append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
	for i, s := range steps {
		body := replacer.Replace(s.body)
		switch s.action {
		case "file":
			body = strings.Replace(body, "      expect:\n", "      tls: {insecure_skip_verify: true}\n      expect:\n", 1)
			path := replacer.Replace(s.path)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		case "run":
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", body)
			cmd.Dir, cmd.Env = repo, env
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Fatalf("step %d failed: %v\n%s\n%s", i+1, err, body, out)
			}
			t.Logf("step %d:\n%s%s", i+1, body, out)
		case "serve":
			args := strings.Fields(strings.TrimSpace(body))
			if len(args) < 2 || args[0] != "creditwatch" || args[1] != "serve" {
				t.Fatalf("step %d: a serve step must be one creditwatch serve command: %q", i+1, body)
			}
			start(t, args[1:]...)
			eventually(t, 60*time.Second, "the service to be ready", func() bool {
				st, _, err := httpGet("http://" + webAddr + "/-/ready")
				return err == nil && st == 200
			})
			// The portal, GBK over HTTPS, is probed and found up.
			eventually(t, 60*time.Second, "a good probe of the portal", func() bool {
				return value(scrape(webAddr), "creditwatch_probe_success", "target", "credit-portal") == 1
			})
		}
	}
}

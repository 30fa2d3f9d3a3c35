package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestReloadKeepsOldConfigOnError(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr)
	cfg := writeConfig(t, dir, simAddr, "")
	cw := start(t, "serve", "--config.file", cfg, "--web.listen-address", webAddr)
	eventually(t, 10*time.Second, "a probe", func() bool {
		return value(scrape(webAddr), "creditwatch_probe_success", "target", "credit-portal") == 1
	})
	good, _ := os.ReadFile(cfg)

	// A typo: SIGHUP must keep the running config and say so in the metric.
	os.WriteFile(cfg, []byte(strings.Replace(string(good), "interval:", "intervall:", 1)), 0o644)
	cw.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, 5*time.Second, "the failed reload", func() bool {
		return value(scrape(webAddr), "creditwatch_config_last_reload_successful") == 0
	})
	before := value(scrape(webAddr), "creditwatch_probe_last_timestamp_seconds", "target", "credit-portal")
	eventually(t, 5*time.Second, "probes to go on under the old config", func() bool {
		return value(scrape(webAddr), "creditwatch_probe_last_timestamp_seconds", "target", "credit-portal") > before
	})
	if !strings.Contains(cw.stderr.String(), "unknown key intervall (did you mean interval?)") {
		t.Errorf("the log does not name the bad key:\n%s", cw.stderr.String())
	}
	if st := postReload(t, webAddr, "text/plain"); st != http.StatusForbidden {
		t.Errorf("POST /-/reload as a simple cross-site request: HTTP %d, want 403", st)
	}
	if st := postReload(t, webAddr, ""); st != http.StatusInternalServerError {
		t.Errorf("POST /-/reload of a bad config: HTTP %d, want 500", st)
	}

	// A good config with a second target swaps in.
	second := strings.Replace(string(good), "  incident:", "    - name: mirror\n      url: http://"+simAddr+"/\n      interval: 200ms\n      timeout: 150ms\n  incident:", 1)
	os.WriteFile(cfg, []byte(second), 0o644)
	if st := postReload(t, webAddr, ""); st != http.StatusOK {
		t.Errorf("POST /-/reload: HTTP %d", st)
	}
	eventually(t, 5*time.Second, "the new target to be probed", func() bool {
		fams := scrape(webAddr)
		return value(fams, "creditwatch_config_last_reload_successful") == 1 &&
			value(fams, "creditwatch_probe_success", "target", "mirror") == 1
	})
	if r, err := http.Get("http://" + webAddr + "/-/reload"); err == nil {
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET /-/reload: HTTP %d, want 405", r.StatusCode)
		}
	}
}

func TestWebConfigBasicAuth(t *testing.T) {
	dir := t.TempDir()
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	start(t, "sim", "--listen", simAddr)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webCfg := writeFile(t, filepath.Join(dir, "web.yml"), "basic_auth_users:\n  ops: "+string(hash)+"\nhealth_without_auth: true\n")
	start(t, "serve", "--config.file", writeConfig(t, dir, simAddr, ""), "--web.listen-address", webAddr, "--web.config.file", webCfg)
	eventually(t, 10*time.Second, "the web server", func() bool { st, _, err := httpGet("http://" + webAddr + "/metrics"); return err == nil && st != 0 })
	if st, _, _ := httpGet("http://" + webAddr + "/metrics"); st != http.StatusUnauthorized {
		t.Errorf("without credentials: HTTP %d, want 401", st)
	}
	// health_without_auth: a liveness probe carries no credentials.
	if st, _, _ := httpGet("http://" + webAddr + "/-/healthy"); st != http.StatusOK {
		t.Errorf("/-/healthy without credentials: HTTP %d, want 200", st)
	}
	req, _ := http.NewRequest("GET", "http://"+webAddr+"/metrics", nil)
	req.SetBasicAuth("ops", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with credentials: HTTP %d, want 200", resp.StatusCode)
	}
}

func TestCheckConfigCommand(t *testing.T) {
	tests := map[string]struct {
		file     string
		exit     int
		contains []string
	}{
		"good": {file: "../../internal/config/testdata/good.yml", exit: 0, contains: []string{"OK, 1 portal target(s)"}},
		"every problem listed": {file: "testdata/bad-several.yml", exit: 1, contains: []string{
			`testdata/bad-several.yml: line 3: portal.targets[0].name: "Portal A" is not a valid target name`,
			`testdata/bad-several.yml: line 4: portal.targets[0].url: "portal.example" is not an http or https URL`,
			"testdata/bad-several.yml: line 7: portal.incident.close_after: must be between 1 and 100, got -1",
		}},
		"missing file": {file: "testdata/nope.yml", exit: 1, contains: []string{"no config file testdata/nope.yml", "--config.file FILE"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(binary, "check-config", "--config.file", tc.file).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tc.exit {
				t.Errorf("exit %d, want %d\n%s", code, tc.exit, out)
			}
			for _, c := range tc.contains {
				if !strings.Contains(string(out), c) {
					t.Errorf("output lacks %q:\n%s", c, out)
				}
			}
		})
	}
}

// postReload posts to /-/reload as a script does (with X-Creditwatch-Request), or, given a
// content type, as a cross-site page could make a browser do.
func postReload(t *testing.T, addr, crossSiteType string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/-/reload", strings.NewReader(""))
	if crossSiteType != "" {
		req.Header.Set("Content-Type", crossSiteType)
	} else {
		req.Header.Set("X-Creditwatch-Request", "1")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

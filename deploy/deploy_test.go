// Package deploy holds creditwatch's deployment files; its tests validate them without a
// container engine.
package deploy

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/creditwatch/creditwatch/internal/testutil"
)

var update = flag.Bool("update", false, "regenerate kubernetes/prometheusrule.yaml")

var (
	buildOnce sync.Once
	built     string
)

// binary builds creditwatch once for all the tests of the package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "creditwatch-deploy")
		if err != nil {
			t.Fatal(err)
		}
		built = testutil.BuildBinary(t, dir)
	})
	if built == "" {
		t.Fatal("build failed")
	}
	return built
}

func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func get(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, _ := m.(map[string]any)
			m = mm[k]
		case int:
			l, _ := m.([]any)
			if k >= len(l) {
				return nil
			}
			m = l[k]
		}
	}
	return m
}

func TestPrometheusRuleMatchesAlerts(t *testing.T) {
	rules := readYAMLDocs(t, "../alerts/creditwatch.rules.yml")[0]
	path := "kubernetes/prometheusrule.yaml"
	if *update {
		doc := map[string]any{
			"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
			"metadata": map[string]any{"name": "creditwatch", "labels": map[string]any{"app.kubernetes.io/name": "creditwatch"}},
			"spec":     map[string]any{"groups": rules["groups"]},
		}
		var b bytes.Buffer
		b.WriteString("# Generated from alerts/creditwatch.rules.yml by `go test ./deploy -update`; do not edit.\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	pr := readYAMLDocs(t, path)[0]
	if pr["kind"] != "PrometheusRule" || !reflect.DeepEqual(get(pr, "spec", "groups"), rules["groups"]) {
		t.Error("kubernetes/prometheusrule.yaml differs from alerts/creditwatch.rules.yml (go test ./deploy -update)")
	}
}

func TestKubernetesManifests(t *testing.T) {
	kinds := map[string]map[string]any{}
	for _, d := range readYAMLDocs(t, "kubernetes/creditwatch.yaml") {
		kind, _ := d["kind"].(string)
		if d["apiVersion"] == nil || kind == "" || get(d, "metadata", "name") == nil {
			t.Fatalf("document without apiVersion, kind or name: %v", d)
		}
		kinds[kind] = d
	}
	for _, k := range []string{"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service", "ServiceMonitor"} {
		if kinds[k] == nil {
			t.Fatalf("no %s", k)
		}
	}
	dep, svc, sm := kinds["Deployment"], kinds["Service"], kinds["ServiceMonitor"]
	if get(dep, "spec", "replicas") != 1 || get(dep, "spec", "strategy", "type") != "Recreate" {
		t.Error("the ledger allows one writer: replicas 1 and strategy Recreate")
	}
	sel := get(dep, "spec", "selector", "matchLabels")
	if !reflect.DeepEqual(sel, get(dep, "spec", "template", "metadata", "labels")) || !reflect.DeepEqual(sel, get(svc, "spec", "selector")) ||
		!reflect.DeepEqual(sel, get(sm, "spec", "selector", "matchLabels")) {
		t.Error("Deployment, Service and ServiceMonitor selectors disagree")
	}
	c := get(dep, "spec", "template", "spec", "containers", 0)
	if get(c, "ports", 0, "name") != "web" || get(svc, "spec", "ports", 0, "targetPort") != "web" || get(sm, "spec", "endpoints", 0, "port") != "web" {
		t.Error("the web port is not named web everywhere")
	}
	if get(dep, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true || get(c, "securityContext", "readOnlyRootFilesystem") != true {
		t.Error("the pod must run as non-root with a read-only root filesystem")
	}
	// The config in the ConfigMap is a valid creditwatch config.
	cfg := get(kinds["ConfigMap"], "data", "creditwatch.yml").(string)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.yml"), []byte(cfg), 0o644)
	bin := binary(t)
	if out, err := exec.Command(bin, "check-config", "--config.file", filepath.Join(dir, "c.yml")).CombinedOutput(); err != nil {
		t.Errorf("ConfigMap config: %v\n%s", err, out)
	}
	// Every argument of the container is a flag creditwatch accepts.
	var args []string
	for _, a := range get(c, "args").([]any) {
		args = append(args, a.(string))
	}
	if out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput(); err != nil {
		t.Errorf("container args rejected: %v\n%s", err, out)
	}
}

func TestCompose(t *testing.T) {
	d := readYAMLDocs(t, "docker-compose.yml")[0]
	services, _ := d["services"].(map[string]any)
	for _, s := range []string{"creditwatch", "prometheus", "alertmanager", "grafana"} {
		if services[s] == nil {
			t.Errorf("no service %s", s)
		}
	}
	ports := map[string]string{}
	for name, s := range services {
		for _, v := range asList(get(s, "volumes")) {
			src := strings.Split(v.(string), ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s, which does not exist: %v", name, src, err)
				}
			} else if get(d, "volumes", src) == nil {
				t.Errorf("%s uses volume %s, which is not declared", name, src)
			}
		}
		for _, p := range asList(get(s, "ports")) {
			host := strings.Split(p.(string), ":")[0]
			if other, dup := ports[host]; dup {
				t.Errorf("port %s published by %s and %s", host, name, other)
			}
			ports[host] = name
		}
	}
	if ctx := get(services["creditwatch"], "build", "context"); ctx != ".." {
		t.Errorf("creditwatch is built from %v", ctx)
	}
	// alertmanager.yml loads templates/*.tmpl next to it: without them every WeCom notice fails.
	mounted := false
	for _, v := range asList(get(services["alertmanager"], "volumes")) {
		mounted = mounted || strings.HasPrefix(v.(string), "./alertmanager/templates:/etc/alertmanager/templates")
	}
	if !mounted {
		t.Error("alertmanager does not mount the notification templates next to its config")
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestDockerfileBuildsTheTestedBinary(t *testing.T) {
	df, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(df)
	if strings.Count(s, "FROM ") != 2 {
		t.Error("the Dockerfile should have a build stage and a runtime stage")
	}
	if !strings.Contains(s, "RUN bash scripts/build.sh ") {
		t.Error("the Dockerfile does not build with scripts/build.sh, the build the tests use")
	}
	if !strings.Contains(s, "USER 65532:65532") || !strings.Contains(s, ":nonroot") {
		t.Error("the image must run as a non-root user")
	}
	if !strings.Contains(string(mustRead(t, "../internal/testutil/tools.go")), `"bash", "scripts/build.sh"`) {
		t.Error("the tests no longer build with scripts/build.sh")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSystemdUnitFlags(t *testing.T) {
	unit := string(mustRead(t, "systemd/creditwatch.service"))
	start := strings.Index(unit, "ExecStart=")
	line := unit[start+len("ExecStart="):]
	line = line[:strings.Index(line, "\nExecReload")]
	fields := strings.Fields(strings.ReplaceAll(line, "\\\n", " "))
	if fields[0] != "/usr/local/bin/creditwatch" {
		t.Fatalf("ExecStart runs %s", fields[0])
	}
	bin := binary(t)
	if out, err := exec.Command(bin, append(fields[1:], "--help")...).CombinedOutput(); err != nil {
		t.Errorf("ExecStart flags rejected: %v\n%s", err, out)
	}
	for _, opt := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=creditwatch"} {
		if !strings.Contains(unit, opt) {
			t.Errorf("unit lacks %s", opt)
		}
	}
}

func TestPrometheusConfig(t *testing.T) {
	promtool := testutil.RequireTool(t, "promtool")
	dir := t.TempDir()
	rules, _ := filepath.Abs("../alerts/creditwatch.rules.yml")
	cfg := strings.ReplaceAll(string(mustRead(t, "prometheus/prometheus.yml")), "/etc/prometheus/rules/creditwatch.rules.yml", rules)
	os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644)
	if out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

// deploy/vantages: three vantages and PostgreSQL; every creditwatch runs the same config
// (one ledger in PostgreSQL, a quorum of 2) under its own vantage, and Prometheus scrapes
// them all.
func TestVantagesCompose(t *testing.T) {
	d := readYAMLDocs(t, "vantages/docker-compose.yml")[0]
	services, _ := d["services"].(map[string]any)
	if services["postgres"] == nil {
		t.Fatal("no postgres service")
	}
	vantages := map[string]bool{}
	ports := map[string]bool{}
	scraped := fmt.Sprint(get(readYAMLDocs(t, "vantages/prometheus.yml")[0], "scrape_configs", 0, "static_configs", 0, "targets"))
	for name, s := range services {
		if !strings.HasPrefix(name, "creditwatch-") {
			continue
		}
		var vantage string
		for _, a := range asList(get(s, "command")) {
			if v, ok := strings.CutPrefix(a.(string), "--vantage="); ok {
				vantage = v
			}
		}
		if vantage == "" || vantages[vantage] {
			t.Errorf("%s: vantage %q missing or shared", name, vantage)
		}
		vantages[vantage] = true
		for _, p := range asList(get(s, "ports")) {
			host := strings.Split(p.(string), ":")[0]
			if ports[host] {
				t.Errorf("%s publishes port %s again", name, host)
			}
			ports[host] = true
		}
		if !strings.Contains(scraped, name+":9797") {
			t.Errorf("prometheus does not scrape %s (%s)", name, scraped)
		}
		for _, v := range asList(get(s, "volumes")) {
			if src := strings.Split(v.(string), ":")[0]; src != "./creditwatch.yml" {
				t.Errorf("%s mounts %s", name, src)
			}
		}
	}
	if len(vantages) != 3 {
		t.Errorf("%d vantages, want 3", len(vantages))
	}
	for name, s := range services {
		for _, v := range asList(get(s, "volumes")) {
			src := strings.Split(v.(string), ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join("vantages", src)); err != nil {
					t.Errorf("%s mounts %s, which does not exist: %v", name, src, err)
				}
			}
		}
	}
	// The shared config is valid, names a PostgreSQL ledger and a quorum of 2.
	cfg := readYAMLDocs(t, "vantages/creditwatch.yml")[0]
	if u, _ := get(cfg, "storage", "url").(string); !strings.HasPrefix(u, "postgres://") || get(cfg, "portal", "incident", "quorum") != 2 {
		t.Errorf("vantages/creditwatch.yml: storage.url %v, quorum %v", get(cfg, "storage", "url"), get(cfg, "portal", "incident", "quorum"))
	}
	checkConfig(t, "vantages/creditwatch.yml")
}

// kubernetes/creditwatch-postgres.yaml: more than one replica on a PostgreSQL ledger, each
// its own vantage.
func TestKubernetesPostgresManifests(t *testing.T) {
	kinds := map[string]map[string]any{}
	for _, d := range readYAMLDocs(t, "kubernetes/creditwatch-postgres.yaml") {
		kind, _ := d["kind"].(string)
		if d["apiVersion"] == nil || kind == "" || get(d, "metadata", "name") == nil {
			t.Fatalf("document without apiVersion, kind or name: %v", d)
		}
		if kind != "Service" || kinds[kind] == nil {
			kinds[kind] = d
		}
	}
	dep := kinds["Deployment"]
	if r, _ := get(dep, "spec", "replicas").(int); r < 2 || get(dep, "spec", "strategy", "type") != "RollingUpdate" {
		t.Errorf("the PostgreSQL ledger allows several replicas: replicas %v, strategy %v", get(dep, "spec", "replicas"), get(dep, "spec", "strategy", "type"))
	}
	c := get(dep, "spec", "template", "spec", "containers", 0)
	var args []string
	for _, a := range get(c, "args").([]any) {
		args = append(args, a.(string))
	}
	if !slices.Contains(args, "--vantage=$(POD_NAME)") || get(c, "env", 0, "name") != "POD_NAME" {
		t.Errorf("each replica needs its own vantage: args %v", args)
	}
	if out, err := exec.Command(binary(t), append(args, "--help")...).CombinedOutput(); err != nil {
		t.Errorf("container args rejected: %v\n%s", err, out)
	}
	cfg := get(kinds["ConfigMap"], "data", "creditwatch.yml").(string)
	path := filepath.Join(t.TempDir(), "c.yml")
	os.WriteFile(path, []byte(cfg), 0o644)
	checkConfig(t, path)
}

// checkConfig runs check-config on a config whose secret files (mounted from a Secret in
// the deployment) are made here, so that their checks pass.
func checkConfig(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	secret := regexp.MustCompile(`(password_file|personal_data_key_file): (\S+)`)
	doc := secret.ReplaceAllStringFunc(string(b), func(m string) string {
		key, _, _ := strings.Cut(m, ":")
		f := filepath.Join(dir, key)
		os.WriteFile(f, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		return key + ": " + f
	})
	if doc == string(b) {
		t.Errorf("%s names no secret file", path)
	}
	cfg := filepath.Join(dir, "c.yml")
	os.WriteFile(cfg, []byte(doc), 0o644)
	if out, err := exec.Command(binary(t), "check-config", "--config.file", cfg).CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", path, err, out)
	}
}

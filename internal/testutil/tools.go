// Package testutil has helpers shared by tests that use real parts.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireTool returns the path of a real tool (promtool, prometheus, chromium...). Where it
// is missing the test fails under CI=true, since the README's test command installs it, and
// is skipped on a developer's machine.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required and not installed; the README's test command installs it", name)
	}
	t.Skipf("%s not installed (run the README's test command to install it)", name)
	return ""
}

// BuildBinary builds cmd/creditwatch into dir with scripts/build.sh and returns its path.
func BuildBinary(t testing.TB, dir string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "creditwatch")
	// The same build as the Dockerfile's: scripts/build.sh.
	cmd := exec.Command("bash", "scripts/build.sh", bin)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building creditwatch: %v\n%s", err, out)
	}
	return bin
}

// BuildPeakRSS builds the peakrss helper into dir and returns its path.
func BuildPeakRSS(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "peakrss")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/creditwatch/creditwatch/internal/testutil/peakrss")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building peakrss: %v\n%s", err, out)
	}
	return bin
}

package main

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
)

func TestProbeCommand(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<p>信用中国</p>")) }))
	t.Cleanup(portal.Close)
	tests := map[string]struct {
		extra []string
		exit  int
		want  string
	}{
		"all targets":    {exit: 0, want: "credit-portal: ok, HTTP 200, 19 bytes\n"},
		"a named target": {extra: []string{"--target", "credit-portal"}, exit: 0, want: "credit-portal: ok, HTTP 200"},
		"no such target": {extra: []string{"--target", "mirror"}, exit: 1, want: "no portal target to probe"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			args := append(probeArgs(t, t.TempDir(), portal), tc.extra...)
			out, err := exec.Command(binary, args...).CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != tc.exit || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.exit, tc.want, out)
			}
		})
	}
}

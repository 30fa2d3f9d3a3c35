package logging

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := map[string]struct{ level, format, err string }{
		"json info":     {"info", "json", ""},
		"console debug": {"debug", "console", ""},
		"bad level":     {"loud", "json", `--log.level: unrecognized level: "loud"`},
		"bad format":    {"info", "xml", `--log.format: "xml" is not json or console`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l, err := New(tc.level, tc.format)
			if tc.err == "" {
				if err != nil || l == nil {
					t.Fatalf("New = %v, %v", l, err)
				}
				if Slog(l) == nil {
					t.Error("no slog adapter")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error = %v, want %q", err, tc.err)
			}
		})
	}
}

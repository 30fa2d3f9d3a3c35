package app

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/ledger/pgtest"
	"github.com/creditwatch/creditwatch/internal/report/reporttest"
)

func TestMigrateLedger(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"no sqlite source", "postgres://u@h/db", "postgres://u@h/db", `--from: "postgres://u@h/db" is not sqlite:PATH`},
		{"no postgres target", "sqlite:/nonexistent/l.db", "/tmp/other.db", "--to: /tmp/other.db is not a postgres:// URL"},
		{"password not repeated", "sqlite:/nonexistent/l.db", "mysql://u:s3cret@h/db", "is not a postgres:// URL"},
		{"missing source", "sqlite:/nonexistent/l.db", "postgres://u@h/db", "--from: no ledger at /nonexistent/l.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := MigrateLedger(ctx, &bytes.Buffer{}, MigrateOptions{From: tc.from, To: tc.to})
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %v, want exit 2 with %q", err, tc.want)
			}
		})
	}
	server := pgtest.Server(t)
	path := filepath.Join(t.TempDir(), "october.db")
	l, _ := reporttest.October(t, path)
	l.Close()
	to := pgtest.Database(t, server, t.Name(), "template0")
	for run := 1; run <= 2; run++ {
		var out bytes.Buffer
		if err := MigrateLedger(ctx, &out, MigrateOptions{From: "sqlite:" + path, To: to, Batch: 300}); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, out.String())
		}
		if !strings.Contains(out.String(), "row counts equal; chain of ") || !strings.Contains(out.String(), "set storage.url") {
			t.Errorf("run %d said:\n%s", run, out.String())
		}
		if run == 1 && !strings.Contains(out.String(), "copying probes (") {
			t.Errorf("run 1 did not copy the probes:\n%s", out.String())
		}
	}
}

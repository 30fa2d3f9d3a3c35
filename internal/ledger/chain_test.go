package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chainedLedger is a closed ledger file holding incidents (one ended, one open), a risk
// event, an annotation and a frozen report.
func chainedLedger(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chained.db")
	l := openTemp(t, path)
	feed(t, l, "portal", "..x..xxx..x.xx", 0)
	ctx := context.Background()
	if _, err := l.Annotate(ctx, Annotation{IncidentID: 1, Cause: CauseMaintenance, Note: "机房割接", By: "值班员", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"month":"2026-02"}`)
	sum := sha256.Sum256(data)
	if _, err := l.FreezeReport(ctx, FrozenReport{Month: "2026-02", Data: data, Digest: hex.EncodeToString(sum[:]), Meta: "{}",
		FrozenAt: t0, Reason: "frozen"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	return path
}

// sqlite3 edits a ledger file with the sqlite3 shell, as someone with access to the file
// could.
func sqlite3(t *testing.T, path, stmt string) {
	t.Helper()
	out, err := exec.Command("sqlite3", path, stmt).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v: %s", stmt, err, out)
	}
}

func copyFile(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy.db")
	a, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	io.Copy(b, a)
	return to
}

func TestChainShowsEditsMadeBehindItsBack(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Fatal("the sqlite3 shell is needed (Debian package sqlite3; the test command installs it)")
	}
	original := chainedLedger(t)
	tests := map[string]struct {
		edit string
		want string // a phrase of the first problem; "" for none
	}{
		"untouched":               {"", ""},
		"an incident's end moved": {`UPDATE incidents SET ended_at = ended_at + 600000 WHERE id = 1`, "incident 1 differs from its incident_ended event"},
		"an incident deleted":     {`DELETE FROM annotations; DELETE FROM incident_evidence WHERE incident_id = 2; DELETE FROM target_state; DELETE FROM incidents WHERE id = 2`, "incident 2 is in the chain (incident_opened) but not in the ledger"},
		"a risk event deleted":    {`DELETE FROM risk_events WHERE id = 1`, "risk event 1 is in the chain"},
		"an annotation changed":   {`UPDATE annotations SET cause = 'monitor_error'`, "annotation 1 differs"},
		"a report's data changed": {`UPDATE report_versions SET data = '{"month":"2026-03"}'`, "its data no longer matches its digest"},
		"an event edited":         {`UPDATE chain SET content = replace(content, '"failed_probes":3', '"failed_probes":1')`, "does not match its hash"},
		"an event removed":        {`DELETE FROM chain WHERE seq = 2`, "link 3"},
		"the last event removed":  {`DELETE FROM chain WHERE seq = (SELECT MAX(seq) FROM chain)`, "has no report_frozen event"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := copyLedger(t, original)
			if tc.edit != "" {
				editLedger(t, path, tc.edit)
			}
			l := openTemp(t, path)
			c, err := l.VerifyChain(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !c.OK() || c.Events != 7 || c.Rows["incident"] != 2 || c.Rows["report"] != 1 {
					t.Errorf("untouched ledger: %+v", c)
				}
				return
			}
			if c.OK() || !strings.Contains(strings.Join(c.Problems, "\n"), tc.want) {
				t.Errorf("problems = %q, want one with %q", c.Problems, tc.want)
			}
		})
	}
}

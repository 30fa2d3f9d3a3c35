package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditwatch/creditwatch/internal/publicity"
)

// storedFields reads the fields of every stored version of a record, as a person with the
// ledger file (or a backup of it) would.
func storedFields(t *testing.T, l *Ledger, id string) []map[string]string {
	t.Helper()
	var out []map[string]string
	err := l.scanRows(context.Background(), func(rows *sql.Rows) error {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		var f map[string]string
		if err := json.Unmarshal([]byte(s), &f); err != nil {
			return err
		}
		out = append(out, f)
		return nil
	}, `SELECT fields FROM publicity_records WHERE id = ? ORDER BY rid`, id)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func personRecord(id, number string, updated time.Time) PublicityRecord {
	return PublicityRecord{Kind: publicity.Penalty, ID: id, Source: "platform", UpdatedAt: updated,
		Assessment: publicity.Assessment{Department: "市场监管局", DecidedOn: updated, Reported: true, Compliant: true, Timely: true},
		Fields:     map[string]string{publicity.FieldIDType: "身份证", publicity.FieldIDNumber: number, "处罚内容": "罚款"}}
}

func TestIDNumbersNeverStoredWhole(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "personal-data.key")
	key, err := PersonalDataKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	again, err := PersonalDataKey(keyFile)
	if err != nil || string(again) != string(key) {
		t.Fatalf("the key must be read back unchanged: %v", err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "l.db")
	t0 := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

	// Stored before the ledger protected ID numbers: the number whole.
	// As an older creditwatch stored them: numbers whole, enough of them to fill pages.
	l := openTemp(t, path)
	old := []PublicityRecord{personRecord("P-1", "11010519491231002X", t0)}
	for i := 0; i < 300; i++ {
		old = append(old, personRecord(fmt.Sprintf("Q-%d", i), fmt.Sprintf("1101051949%08d", i), t0))
	}
	if err := l.StorePublicity(ctx, old, nil); err != nil {
		t.Fatal(err)
	}
	objection := CaseRecord{Kind: "objection", ID: "O-1", Source: "platform", UpdatedAt: t0,
		Fields: map[string]string{publicity.FieldIDNumber: "110105194912310099", "异议内容": "信息有误"}}
	if err := l.StoreCases(ctx, []CaseRecord{objection}, nil); err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(objection.Fields)
	if _, err := l.w.ExecContext(ctx, `UPDATE cases SET fields = ?`, string(whole)); err != nil {
		t.Fatal(err)
	}
	err = l.writeTx(ctx, func(tx *sql.Tx) error {
		for _, r := range old {
			whole, _ := json.Marshal(r.Fields)
			if _, err := tx.ExecContext(ctx, `UPDATE publicity_records SET fields = ? WHERE id = ?`, string(whole), r.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	l = openTemp(t, path)
	l.SetPersonalDataKey(key)
	n, err := l.ProtectStoredIDs(ctx)
	if err != nil || n != len(old)+1 {
		t.Fatalf("ProtectStoredIDs = %d, %v; want %d records", n, err, len(old)+1)
	}
	if n, err := l.ProtectStoredIDs(ctx); err != nil || n != 0 {
		t.Fatalf("a second pass changed %d records (%v)", n, err)
	}
	// Stored from now on: masked and hashed on the way in, the same hash for the same person
	// (whatever the case of the check character), another for another person.
	err = l.StorePublicity(ctx, []PublicityRecord{
		personRecord("P-1", "11010519491231002x", t0.Add(time.Hour)),
		personRecord("P-2", "11010519491231002X", t0),
		personRecord("P-3", "110105194912310037", t0),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p1 := storedFields(t, l, "P-1")
	if len(p1) != 2 {
		t.Fatalf("P-1 versions = %d, want 2", len(p1))
	}
	hashes := map[string]string{}
	for i, f := range append(p1, storedFields(t, l, "P-2")[0], storedFields(t, l, "P-3")[0]) {
		if got := f[publicity.FieldIDNumber]; !strings.HasPrefix(got, "110105") || !strings.Contains(got, "********") {
			t.Errorf("version %d: ID number stored as %q", i, got)
		}
		if len(f[FieldIDNumberHash]) != 64 {
			t.Errorf("version %d: hash %q", i, f[FieldIDNumberHash])
		}
		if f["处罚内容"] != "罚款" {
			t.Errorf("version %d: other fields changed: %v", i, f)
		}
		hashes[f[FieldIDNumberHash]] = f[publicity.FieldIDNumber]
	}
	cs, err := l.Cases(ctx, "objection", t0.Add(time.Hour))
	if err != nil || len(cs) != 1 || cs[0].Fields[publicity.FieldIDNumber] != "110105********0099" || cs[0].Fields["异议内容"] != "信息有误" {
		t.Errorf("stored objection: %+v, %v", cs, err)
	}
	if len(hashes) != 2 {
		t.Errorf("distinct hashes = %d, want 2 (one per person): %v", len(hashes), hashes)
	}
	// Nowhere in the file: not in free pages, not in the journal.
	l.Close()
	for _, f := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "11010519491231") || strings.Contains(string(data), "110105194900") {
			t.Errorf("%s still holds an ID number", filepath.Base(f))
		}
	}
}

func TestPersonalDataKeyRejectsGarbage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(f, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := PersonalDataKey(f); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("err = %v, want one naming %s", err, f)
	}
}

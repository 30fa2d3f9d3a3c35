package report

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creditwatch/creditwatch/internal/ledger"
)

// signedOctober is the October report signed with a fresh key, and the key's public half.
func signedOctober(t *testing.T) (*Report, ed25519.PublicKey, *ledger.Ledger) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signing.key")
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := LoadSigningKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("signing key mode %v, want 0600", st.Mode().Perm())
	}
	if loaded, err := LoadPublicKey(path + ".pub"); err != nil || !loaded.Equal(pub) {
		t.Fatalf("public key file: %v", err)
	}
	l, cfg := octoberLedger(t)
	r, err := Generate(context.Background(), l, cfg, settingsOf(t, cfg), Options{Month: "2026-10", Now: now, Key: key, Renderer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return r, pub, l
}

func html(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// forge makes what a forger with creditwatch's code but not its key would: the report with
// changed data, a recomputed digest, and the page rendered again from both.
func forge(t *testing.T, r *Report, edit func(*Data)) string {
	t.Helper()
	d := &Data{}
	json.Unmarshal(r.Raw, d)
	edit(d)
	raw, _ := json.Marshal(d)
	f := &Report{Data: d, Raw: raw, Meta: r.Meta}
	f.Meta.Digest = Digest(raw)
	return html(t, f)
}

func TestVerifyCatchesEveryChange(t *testing.T) {
	r, pub, l := signedOctober(t)
	page := html(t, r)
	frozen := func(month string, version int) (*ledger.FrozenReport, error) {
		vs, err := l.ReportVersions(context.Background(), month)
		for _, v := range vs {
			if v.Version == version {
				return &v, err
			}
		}
		return nil, err
	}
	svg := regexp.MustCompile(`<path[^>]* d="M [0-9]+ [0-9]+`)
	tests := map[string]struct {
		file string
		opts VerifyOptions
		want error
		line string // the line Verify must name
	}{
		"untouched":                   {page, VerifyOptions{PublicKey: pub, Frozen: frozen}, nil, ""},
		"one visible character":       {strings.Replace(page, "页面内容不符", "页面内容相符", 1), VerifyOptions{}, ErrAltered, "页面内容相符"},
		"the uptime cell":             {strings.Replace(page, ">99.91 %<", ">99.99 %<", 1), VerifyOptions{}, ErrAltered, "99.99 %"},
		"a chart":                     {svg.ReplaceAllStringFunc(page, func(s string) string { return s + "1" }), VerifyOptions{}, ErrAltered, "<path"},
		"an embedded figure":          {strings.Replace(page, `"down_seconds":2400`, `"down_seconds":0`, 1), VerifyOptions{}, ErrDigestMismatch, ""},
		"re-hashed without the key":   {forge(t, r, func(d *Data) { d.Targets[0].DownSeconds = 0 }), VerifyOptions{PublicKey: pub}, ErrSignature, ""},
		"re-hashed, ledger disagrees": {forge(t, r, func(d *Data) { d.Targets[0].DownSeconds = 0 }), VerifyOptions{Frozen: frozen}, ErrNotInLedger, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.file == page && name != "untouched" {
				t.Fatal("the edit changed nothing")
			}
			v, err := Verify([]byte(tc.file), tc.opts)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if tc.line != "" && !strings.Contains(err.Error(), tc.line) {
				t.Errorf("the error does not show the changed line: %v", err)
			}
			if tc.want == nil && (!v.SignatureChecked || !v.LedgerChecked || v.Meta.Version != 1) {
				t.Errorf("verification = %+v", v)
			}
		})
	}
}

func TestVerifyEveryFormat(t *testing.T) {
	r, pub, l := signedOctober(t)
	frozen := func(month string, version int) (*ledger.FrozenReport, error) {
		return l.FrozenReport(context.Background(), month)
	}
	var js, csv, print bytes.Buffer
	r.WriteJSON(&js)
	r.WriteCSV(&csv)
	r.WritePrintHTML(&print)
	for name, file := range map[string][]byte{"json": js.Bytes(), "csv": csv.Bytes(), "print": print.Bytes()} {
		v, err := Verify(file, VerifyOptions{PublicKey: pub, Frozen: frozen})
		if err != nil || v.Format != name {
			t.Errorf("%s: %+v %v", name, v, err)
		}
	}
	edited := bytes.Replace(csv.Bytes(), []byte("99.91 %"), []byte("99.99 %"), 1)
	if _, err := Verify(edited, VerifyOptions{Frozen: frozen}); !errors.Is(err, ErrAltered) {
		t.Errorf("an edited CSV: %v", err)
	}
	if _, err := Verify(csv.Bytes(), VerifyOptions{}); err == nil || !strings.Contains(err.Error(), "--ledger") {
		t.Errorf("a CSV without the ledger: %v", err)
	}
	// A key the verifier does not trust.
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := Verify(js.Bytes(), VerifyOptions{PublicKey: other}); !errors.Is(err, ErrSignature) {
		t.Errorf("another key: %v", err)
	}
}

// Every cell a spreadsheet would take for a formula is written as text.
func TestCSVIsSafeForExcel(t *testing.T) {
	r, _, _ := signedOctober(t)
	r.Data.Publicity.Departments[0].Department = `=cmd|' /C calc'!A0`
	r.Data.Incidents[0].FirstError = "@SUM(1+1)"
	var csv bytes.Buffer
	r.WriteCSV(&csv)
	for _, want := range []string{`'=cmd|' /C calc'!A0`, `'@SUM(1+1)`} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q", want)
		}
	}
}

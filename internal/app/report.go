package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/report"
)

// ReportOptions are the report subcommand's flags.
type ReportOptions struct {
	ConfigFile  string
	StoragePath string
	Month       string
	Format      string
	Out         string
	Recompute   bool
	Version     string
	Stdout      io.Writer
	Stderr      io.Writer
}

// openLedger loads a config and opens its ledger (or the one storage names).
func openLedger(ctx context.Context, configFile, storage string) (*config.Config, *ledger.Ledger, error) {
	cfg, err := config.Load(configFile)
	if err != nil {
		return nil, nil, err
	}
	if storage == "" {
		storage = cfg.Storage.Ledger()
	}
	if !ledger.IsPostgresURL(storage) {
		if _, err := os.Stat(storage); err != nil {
			return nil, nil, fmt.Errorf("no ledger at %s (storage.path of %s, or --storage.path): %w", storage, configFile, err)
		}
	}
	l, err := ledger.OpenStorage(ctx, storage, ledger.PostgresOptions{PasswordFile: cfg.Storage.PasswordFile})
	return cfg, l, err
}

// Report writes a month's report and says whether it is frozen (and since when, with which
// digest) or provisional.
func Report(ctx context.Context, o ReportOptions) error {
	write := map[string]func(*report.Report, io.Writer) error{
		"html": (*report.Report).WriteHTML, "print": (*report.Report).WritePrintHTML,
		"csv": (*report.Report).WriteCSV, "json": (*report.Report).WriteJSON,
	}[o.Format]
	if write == nil {
		return exitErr(2, "--format: %q is not html, print, csv or json", o.Format)
	}
	cfg, l, err := openLedger(ctx, o.ConfigFile, o.StoragePath)
	if err != nil {
		return err
	}
	defer l.Close()
	set, err := card.SettingsOf(cfg)
	if err != nil {
		return err
	}
	var key ed25519.PrivateKey
	if f := cfg.Reports.SigningKeyFile; f != "" {
		if key, err = report.LoadSigningKey(f); err != nil {
			return err
		}
	}
	before, err := l.ReportVersions(ctx, o.Month)
	if err != nil {
		return err
	}
	r, err := report.Generate(ctx, l, cfg, set, report.Options{Month: o.Month, Now: time.Now(), Recompute: o.Recompute, Key: key,
		Renderer: o.Version})
	if errors.Is(err, report.ErrNoData) {
		return exitErr(1, "%v", err)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(r, &buf); err != nil {
		return err
	}
	status := reportStatus(r, before)
	if o.Out == "" || o.Out == "-" {
		fmt.Fprintln(o.Stderr, status)
		_, err = o.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(o.Out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	fmt.Fprintf(o.Stdout, "%s report of %s written to %s\n%s\n", o.Format, o.Month, o.Out, status)
	return nil
}

// reportStatus says what the report is: frozen now, frozen earlier, recomputed, provisional.
func reportStatus(r *report.Report, before []ledger.FrozenReport) string {
	m := r.Meta
	stamped, _ := time.Parse(time.RFC3339, m.StampedAt)
	when := stamped.In(clock.Shanghai).Format("2006-01-02 15:04:05")
	signed := "unsigned"
	if m.Signature != "" {
		signed = "signed with key " + report.Fingerprint(ed25519.PublicKey(mustB64(m.PublicKey)))
	}
	switch {
	case !m.Frozen():
		return fmt.Sprintf("provisional (not frozen: the month is not over, or creditwatch never ran in it); digest %s, %s", m.Digest, signed)
	case len(before) == 0:
		return fmt.Sprintf("frozen now (version 1, %s), digest %s, %s", when, m.Digest, signed)
	case m.Version > before[0].Version:
		return fmt.Sprintf("recomputed: version %d (%s), digest %s, %s; version %d (digest %s) is kept in the ledger",
			m.Version, when, m.Digest, signed, before[0].Version, before[0].Digest)
	default:
		return fmt.Sprintf("frozen on %s (version %d), digest %s, %s", when, m.Version, m.Digest, signed)
	}
}

// VerifyOptions are the report verify subcommand's flags.
type VerifyOptions struct {
	File        string
	PublicKey   string // trusted public key file
	Ledger      bool   // check against the ledger's frozen version
	ConfigFile  string
	StoragePath string
}

// VerifyReport checks a saved report: digest, every byte against its own data, the
// signature under a trusted key, and the ledger's frozen version.
func VerifyReport(ctx context.Context, out io.Writer, o VerifyOptions) error {
	data, err := os.ReadFile(o.File)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("reading report: %w", err)}
	}
	var opts report.VerifyOptions
	if o.PublicKey != "" {
		if opts.PublicKey, err = report.LoadPublicKey(o.PublicKey); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	}
	if o.Ledger {
		_, l, err := openLedger(ctx, o.ConfigFile, o.StoragePath)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		defer l.Close()
		opts.Frozen = func(month string, version int) (*ledger.FrozenReport, error) {
			vs, err := l.ReportVersions(ctx, month)
			for _, v := range vs {
				if v.Version == version {
					return &v, err
				}
			}
			return nil, err
		}
	}
	v, err := report.Verify(data, opts)
	if err != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("%s: %w", o.File, err)}
	}
	fmt.Fprintf(out, "%s: %s report of %s, version %d: its data matches its digest %s, and every byte matches its data\n",
		o.File, v.Format, v.Meta.Month, v.Meta.Version, v.Meta.Digest)
	switch {
	case v.SignatureChecked:
		fmt.Fprintf(out, "signature: good, by the trusted key %s\n", report.Fingerprint(opts.PublicKey))
	case v.Meta.Signature != "":
		fmt.Fprintln(out, "signature: not checked (give --pubkey with the office's public key)")
	default:
		fmt.Fprintln(out, "signature: none (the report is not signed)")
	}
	if v.LedgerChecked {
		fmt.Fprintln(out, "ledger: the digest is that of the version the ledger holds")
	}
	return nil
}

// GenerateKey writes a new report signing key and prints its public key and fingerprint.
func GenerateKey(out io.Writer, path string) error {
	pub, err := report.GenerateKey(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "signing key written to %s (keep it secret; mode 0600)\npublic key written to %s.pub\nfingerprint %s\n"+
		"set reports.signing_key_file: %s and give %s.pub to whoever verifies the reports\n",
		path, path, report.Fingerprint(pub), path, path)
	return nil
}

func mustB64(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
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
	Stdout      io.Writer
}

// Report writes a month's report.
func Report(ctx context.Context, o ReportOptions) error {
	cfg, err := config.Load(o.ConfigFile)
	if err != nil {
		return err
	}
	set, err := card.SettingsOf(cfg)
	if err != nil {
		return err
	}
	path := cfg.Storage.Path
	if o.StoragePath != "" {
		path = o.StoragePath
	}
	l, err := ledger.Open(ctx, path)
	if err != nil {
		return err
	}
	defer l.Close()
	r, err := report.Generate(ctx, l, cfg, set, report.Options{Month: o.Month, Now: time.Now(), Recompute: o.Recompute})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch o.Format {
	case "html":
		err = r.WriteHTML(&buf)
	case "csv":
		err = r.WriteCSV(&buf)
	case "json":
		err = r.WriteJSON(&buf)
	default:
		return exitErr(2, "--format: %q is not html, csv or json", o.Format)
	}
	if err != nil {
		return err
	}
	if o.Out == "" || o.Out == "-" {
		_, err = o.Stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(o.Out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	fmt.Fprintf(o.Stdout, "%s report of %s written to %s (SHA-256 %s)\n", o.Format, o.Month, o.Out, r.Digest)
	return nil
}

// VerifyReport recomputes the digest of a saved HTML or JSON report.
func VerifyReport(out io.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("reading report: %w", err)}
	}
	month, digest, err := report.Verify(data)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: report of %s, data matches its digest %s\n", path, month, digest)
	return nil
}

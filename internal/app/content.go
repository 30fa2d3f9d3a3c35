package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// BaselineOptions are the baseline accept subcommand's flags.
type BaselineOptions struct {
	ConfigFile, StoragePath string
	Target, By              string
}

// AcceptBaseline makes the latest page the probe saw of a target its new baseline, after a
// legitimate redesign: recorded with who and when, chained. The running service reads it
// at its next probe of the target.
func AcceptBaseline(ctx context.Context, out io.Writer, o BaselineOptions) error {
	if strings.TrimSpace(o.By) == "" {
		return exitErr(2, "--by is required: who accepts the page")
	}
	cfg, l, err := openLedger(ctx, o.ConfigFile, o.StoragePath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	known := false
	for _, t := range cfg.Portal.Targets {
		known = known || t.Name == o.Target
	}
	if !known {
		return exitErr(2, "no target %q in %s", o.Target, o.ConfigFile)
	}
	b, err := l.AcceptLatestPage(ctx, o.Target, o.By, time.Now())
	if errors.Is(err, ledger.ErrNoPageSeen) {
		return exitErr(1, "%v: let the probe fetch the page first", err)
	}
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintf(out, "baseline %d of %s accepted by %s at %s: the page seen at %s, title %q, SHA-256 %s; chained in the ledger\n",
		b.ID, b.Target, b.By, stamp(b.AcceptedAt), stamp(b.PageSeenAt), b.Title, b.PageSHA256)
	fmt.Fprintln(out, "a title or structure change still on this page no longer counts as an intrusion from now on")
	return nil
}

// SecurityOptions are the security record subcommand's flags.
type SecurityOptions struct {
	ConfigFile, StoragePath string
	Date, Ref, Kind, Note   string
	By                      string
}

// RecordSecurity records an intrusion found otherwise (on the sharing platform too) or a
// security incident the authorities notified. It counts like a detected one.
func RecordSecurity(ctx context.Context, out io.Writer, o SecurityOptions) error {
	if strings.TrimSpace(o.By) == "" || strings.TrimSpace(o.Ref) == "" || strings.TrimSpace(o.Note) == "" {
		return exitErr(2, "--by, --ref and --note are required: who records it, its reference and what happened")
	}
	if !slices.Contains(ledger.SecurityKinds, o.Kind) {
		return exitErr(2, "--kind: %q is not intrusion or notified", o.Kind)
	}
	day, err := clock.ParseDate(o.Date)
	if err != nil {
		return exitErr(2, "--date: %q is not a date in YYYY-MM-DD form", o.Date)
	}
	_, l, err := openLedger(ctx, o.ConfigFile, o.StoragePath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	now := time.Now()
	id, err := l.RecordSecurityIncident(ctx, ledger.SecurityRecord{Date: day, Kind: o.Kind, Ref: o.Ref, Note: o.Note, By: o.By, At: now})
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintf(out, "security incident %d (%s, dated %s, %s) recorded by %s at %s; chained in the ledger\n", id, o.Kind,
		clock.Date(day), o.Ref, o.By, stamp(now))
	fmt.Fprintf(out, "security_incidents (五(六)) scores 0 for the assessment period containing %s\n", clock.Date(day))
	return nil
}

func stamp(t time.Time) string { return t.In(clock.Shanghai).Format("2006-01-02 15:04:05") }

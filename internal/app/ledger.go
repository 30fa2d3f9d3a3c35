package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// openLedgerFile opens the ledger at storage, or at the config's storage.path when storage
// is empty: with --storage.path a ledger (or a backup of one) needs no config.
func openLedgerFile(ctx context.Context, configFile, storage string) (*ledger.Ledger, error) {
	if storage == "" {
		_, l, err := openLedger(ctx, configFile, storage)
		return l, err
	}
	if ledger.IsPostgresURL(storage) {
		return ledger.Open(ctx, storage)
	}
	if _, err := os.Stat(storage); err != nil {
		return nil, fmt.Errorf("no ledger at %s (--storage.path): %w", storage, err)
	}
	return ledger.Open(ctx, storage)
}

// VerifyLedger walks the ledger's hash chain and checks its evidence rows against it.
func VerifyLedger(ctx context.Context, out io.Writer, configFile, storage string) error {
	l, err := openLedgerFile(ctx, configFile, storage)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	c, err := l.VerifyChain(ctx)
	if err != nil {
		return err
	}
	var rows []string
	for table, n := range c.Rows {
		rows = append(rows, fmt.Sprintf("%d %s(s)", n, table))
	}
	sort.Strings(rows)
	if c.OK() {
		fmt.Fprintf(out, "chain of %d events intact; %s agree with it\n", c.Events, strings.Join(rows, ", "))
		return nil
	}
	fmt.Fprintf(out, "the ledger does not agree with its chain of %d events; first broken link first:\n", c.Events)
	for _, p := range c.Problems {
		fmt.Fprintln(out, "  "+p)
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("%d problem(s) found", len(c.Problems))}
}

// AnnotateOptions are the incident annotate subcommand's flags.
type AnnotateOptions struct {
	ConfigFile, StoragePath string
	Incident                int64
	Cause, Note, By         string
}

// Annotate records a person's word on an incident.
func Annotate(ctx context.Context, out io.Writer, o AnnotateOptions) error {
	if strings.TrimSpace(o.By) == "" || strings.TrimSpace(o.Note) == "" {
		return exitErr(2, "--by and --note are required: who says so, and why")
	}
	_, l, err := openLedger(ctx, o.ConfigFile, o.StoragePath)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	now := time.Now()
	id, err := l.Annotate(ctx, ledger.Annotation{IncidentID: o.Incident, Cause: o.Cause, Note: o.Note, By: o.By, At: now})
	if err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintf(out, "incident %d annotated (%s) by %s at %s; annotation %d is chained in the ledger\n", o.Incident, o.Cause, o.By,
		now.In(clock.Shanghai).Format("2006-01-02 15:04:05"), id)
	if o.Cause == ledger.CauseMonitorError {
		fmt.Fprintln(out, "the incident no longer counts against the portal; a frozen month's report changes only with report --recompute")
	}
	return nil
}

// BackupLedger writes a consistent copy of the ledger while creditwatch runs.
func BackupLedger(ctx context.Context, out io.Writer, configFile, storage, dest string) error {
	l, err := openLedgerFile(ctx, configFile, storage)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	if err := l.Backup(ctx, dest); err != nil {
		return err
	}
	fmt.Fprintf(out, "ledger backed up to %s; restore it with creditwatch ledger restore --from %s\n", dest, dest)
	return nil
}

// CheckLedger runs SQLite's integrity check and walks the hash chain.
func CheckLedger(ctx context.Context, out io.Writer, configFile, storage string) error {
	l, err := openLedgerFile(ctx, configFile, storage)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer l.Close()
	h, err := l.Check(ctx)
	if err != nil {
		return err
	}
	if h.OK() {
		fmt.Fprintf(out, "integrity check: ok; chain of %d events intact\n", h.Chain.Events)
		return nil
	}
	for _, p := range append(h.Integrity, h.Chain.Problems...) {
		fmt.Fprintln(out, "  "+p)
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("the ledger is not sound: %d problem(s)", len(h.Integrity)+len(h.Chain.Problems))}
}

// RestoreLedger puts a checked backup in place of the ledger; creditwatch must be stopped.
func RestoreLedger(ctx context.Context, out io.Writer, configFile, storage, from string) error {
	path := storage
	if path == "" {
		cfg, err := config.Load(configFile)
		if err != nil {
			return err
		}
		path = cfg.Storage.Ledger()
	}
	if ledger.IsPostgresURL(path) {
		return exitErr(2, "the ledger is on PostgreSQL: restore it with pg_restore (or the server's own backups)")
	}
	if err := ledger.Restore(ctx, from, path); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	fmt.Fprintf(out, "ledger %s restored from %s\n", path, from)
	return nil
}

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

// MigrateOptions are the ledger migrate subcommand's flags.
type MigrateOptions struct {
	From, To     string // sqlite:PATH (or PATH); postgres://…
	PasswordFile string // the target's password; else PGPASSWORD or ~/.pgpass
	Batch        int    // rows per transaction; 0: ledger.CopyBatch
}

// MigrateLedger copies a SQLite ledger into a PostgreSQL database, resuming a copy an
// earlier run began, and verifies the copy by row counts and the hash chain.
func MigrateLedger(ctx context.Context, out io.Writer, o MigrateOptions) error {
	from := strings.TrimPrefix(o.From, "sqlite:")
	if from == "" || ledger.IsPostgresURL(from) {
		return exitErr(2, "--from: %q is not sqlite:PATH, a SQLite ledger file", o.From)
	}
	if !ledger.IsPostgresURL(o.To) {
		return exitErr(2, "--to: %s is not a postgres:// URL", ledger.Describe(o.To))
	}
	if _, err := os.Stat(from); err != nil {
		return exitErr(2, "--from: no ledger at %s: %w", from, err)
	}
	src, err := ledger.Open(ctx, from)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer src.Close()
	dst, err := ledger.OpenPostgres(ctx, o.To, ledger.PostgresOptions{PasswordFile: o.PasswordFile})
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	defer dst.Close()
	last := ""
	res, err := ledger.CopyLedger(ctx, src, dst, ledger.CopyOptions{Batch: o.Batch, Progress: func(table string, copied, total int64) {
		if table != last {
			last = table
			fmt.Fprintf(out, "copying %s (%d rows)\n", table, total)
		}
	}})
	if err != nil {
		return &ExitError{Code: 1, Err: fmt.Errorf("%w (run the same command again to continue)", err)}
	}
	bad := 0
	for _, c := range res.Counts {
		if c.Source != c.Target {
			bad++
			fmt.Fprintf(out, "  %s: %d rows in the source, %d in the target\n", c.Table, c.Source, c.Target)
		}
	}
	if !res.Chain.OK() {
		for _, p := range res.Chain.Problems {
			fmt.Fprintln(out, "  "+p)
		}
	}
	if bad > 0 || !res.Chain.OK() {
		return &ExitError{Code: 1, Err: fmt.Errorf("the copy in %s does not match the ledger %s", ledger.Describe(o.To), from)}
	}
	fmt.Fprintf(out, "ledger %s copied to %s: %d tables, row counts equal; chain of %d events intact\n",
		from, ledger.Describe(o.To), len(res.Counts), res.Chain.Events)
	fmt.Fprintln(out, "set storage.url (and storage.password_file) in the config, remove storage.path, and start creditwatch")
	return nil
}

package collectors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
	"github.com/creditwatch/creditwatch/internal/recfile"
)

// dateColumns are converted from Excel date serials in XLSX exports.
var dateColumns = map[string]bool{
	publicity.FieldPenaltyDate: true, publicity.FieldPenaltyValid: true, publicity.FieldLicenceDate: true,
	publicity.FieldLicenceFrom: true, publicity.FieldLicenceTo: true, publicity.FieldReported: true, "公示截止期": true,
	cases.FieldReceived: true, cases.FieldClosed: true, cases.FieldApplied: true,
}

// settle is how long a dropped file must stay unchanged before it is imported, so that a
// file still being copied is not read half-written.
const settle = 5 * time.Second

// Exports imports CSV and XLSX exports dropped into a directory, each file once (by its
// SHA-256), all of a file's records in one transaction or none.
type Exports struct {
	e       config.Export
	kind    publicity.Kind
	pub     config.Publicity
	allowed map[string]bool
	deps    Deps
	log     *zap.Logger
}

func exportCollectors(cfg *config.Config, d Deps) ([]Collector, error) {
	var out []Collector
	allowed := map[string]bool{}
	for _, c := range cfg.Publicity.AllowedCodes {
		allowed[c] = true
	}
	for _, e := range cfg.Publicity.Exports {
		out = append(out, &Exports{e: e, kind: publicity.Kind(e.Kind), pub: cfg.Publicity, allowed: allowed, deps: d,
			log: d.Logger.With(zap.String("collector", "exports"), zap.String("target", e.Name))})
	}
	return out, nil
}

// Kind implements Collector.
func (x *Exports) Kind() string { return "exports" }

// Target implements Collector.
func (x *Exports) Target() string { return x.e.Name }

// Interval implements Collector.
func (x *Exports) Interval() time.Duration { return x.e.Interval.D() }

// Jitter implements Collector.
func (x *Exports) Jitter() time.Duration { return min(x.e.Interval.D(), 5*time.Second) }

// Collect imports every settled file not imported yet.
func (x *Exports) Collect(ctx context.Context) error {
	entries, err := os.ReadDir(x.e.Dir)
	if err != nil {
		x.deps.Store.AddSourceError(x.e.Name, "unreadable_dir")
		x.log.Warn("export directory unreadable", zap.String("dir", x.e.Dir), zap.Error(err))
		return nil
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	// rejected counts the files still here that were refused, now or at an earlier scan:
	// until someone removes or replaces them, their records are missing from the audit.
	received, rejected := 0, 0
	for _, ent := range entries {
		ext := strings.ToLower(filepath.Ext(ent.Name()))
		if ent.IsDir() || (ext != ".csv" && ext != ".xlsx") {
			continue
		}
		info, err := ent.Info()
		if err != nil || x.deps.now().Sub(info.ModTime()) < settle {
			continue
		}
		n, err := x.importFile(ctx, filepath.Join(x.e.Dir, ent.Name()), info.Size())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errRejectedBefore) {
			rejected++
			continue
		}
		if err != nil {
			var se *sourceError
			if !errors.As(err, &se) {
				return err
			}
			rejected++
			x.deps.Store.AddSourceError(x.e.Name, se.reason)
			x.log.Warn("export file not imported; fix or replace it", zap.String("file", ent.Name()), zap.Error(se.err))
			continue
		}
		received += n
	}
	if received > 0 {
		x.deps.changed()
	}
	x.deps.Store.SetSourceRejected(x.e.Name, rejected)
	x.deps.Store.SourcePolled(x.e.Name, x.deps.now(), map[string]int{string(x.kind): received})
	return nil
}

// errRejectedBefore: the file's import failed at an earlier scan, and it was not replaced.
var errRejectedBefore = errors.New("rejected at an earlier scan")

// seedExports forgets the rejected-file counts of export directories no longer configured.
func seedExports(_ context.Context, cs []Collector, d Deps) error {
	names := map[string]bool{}
	for _, c := range cs {
		if x, ok := c.(*Exports); ok {
			names[x.e.Name] = true
		}
	}
	d.Store.KeepRejected(names)
	return nil
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (x *Exports) importFile(ctx context.Context, path string, size int64) (int, error) {
	sha, err := fileDigest(path)
	if err != nil {
		return 0, &sourceError{reason: "unreadable_file", err: err}
	}
	switch state, err := x.deps.Ledger.FileState(ctx, x.e.Name, sha); {
	case err != nil:
		return 0, err
	case state == ledger.FileFailed:
		return 0, errRejectedBefore
	case state == ledger.FileDone:
		return 0, nil
	}
	today := today(x.deps.now())
	checker := &publicity.Checker{AsOf: today, Allowed: x.allowed}
	var readErr error
	n, err := x.deps.Ledger.ImportFile(ctx, x.e.Name, filepath.Base(path), sha, size, func(w *ledger.FileWriter) error {
		readErr = x.eachRow(ctx, path, func(id string, r publicity.Record) error {
			fields := make(map[string]string, len(r.Values))
			for i, name := range r.Header.Names() {
				if i < len(r.Values) && name != "" {
					fields[name] = r.Values[i]
				}
			}
			if x.isCase() {
				return w.PutCase(ledger.CaseRecord{Kind: x.e.Kind, ID: id, Source: x.e.Name, UpdatedAt: x.deps.now(), Fields: fields})
			}
			return w.PutPublicity(ledger.PublicityRecord{Kind: x.kind, ID: id, Source: x.e.Name, UpdatedAt: x.deps.now(),
				Assessment: publicity.Assess(r, checker, x.deps.calendar(), x.pub.DeadlineWorkdays, nil), Fields: fields})
		})
		return readErr
	})
	if readErr != nil {
		return 0, &sourceError{reason: "unreadable_file", err: readErr}
	}
	if err != nil {
		return 0, err
	}
	x.log.Info("export imported", zap.String("file", filepath.Base(path)), zap.Int("records", n))
	return n, nil
}

func (x *Exports) isCase() bool {
	return x.e.Kind == cases.KindObjection || x.e.Kind == cases.KindRepair
}

// idField is the column holding a row's identity.
func (x *Exports) idField() string {
	switch x.e.Kind {
	case cases.KindObjection:
		return cases.FieldObjectionID
	case cases.KindRepair:
		return cases.FieldRepairID
	}
	return publicity.Schemas[x.kind].IDField
}

func (x *Exports) eachRow(ctx context.Context, path string, f func(id string, r publicity.Record) error) error {
	r, err := recfile.Open(path, recfile.Options{DateColumns: dateColumns,
		MaxPartBytes: x.pub.MaxDecompressedBytes, MaxTotalBytes: x.pub.MaxDecompressedTotalBytes})
	if err != nil {
		return err
	}
	defer r.Close()
	h := publicity.NewHeader(r.Header())
	if x.isCase() {
		if !h.Has(x.idField()) {
			return fmt.Errorf("the header has no %s: not a %s ledger", x.idField(), x.e.Kind)
		}
	} else if _, err := publicity.Schemas[x.kind].CheckHeader(h); err != nil {
		return err
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rec := publicity.Record{Kind: x.kind, Row: row.Line, Header: h, Values: row.Values}
		id := rec.Get(x.idField())
		if id == "" {
			return fmt.Errorf("line %d has no %s: every row needs it", row.Line, x.idField())
		}
		if err := f(id, rec); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

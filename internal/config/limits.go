package config

import (
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// Bounds of the config's durations and numbers. A value outside them is an error naming
// the key, its line, the bound and the value; so is an explicit 0 where 0 makes no sense.
const (
	MinTargetInterval    = 100 * time.Millisecond
	MinSourceInterval    = time.Second
	MaxInterval          = 24 * time.Hour
	MaxStreak            = 100 // incident.open_after, incident.close_after
	MinBodyBytes         = 1 << 10
	MaxPortalBodyBytes   = 64 << 20 // a probed page is held in memory
	MaxPlatformBodyBytes = 256 << 20
	MaxRedirects         = 20
	MaxPageSize          = 5000
	MaxDeadlineWorkdays  = 60
	MaxCommitWindow      = 100 * time.Millisecond // storage.commit_window
	// XLSX exports: per part and per workbook, decompressed.
	MinDecompressedBytes      = 1 << 20
	MaxDecompressedBytes      = 1 << 30
	MaxDecompressedTotalBytes = 4 << 30
	DefaultDecompressedBytes  = 64 << 20
	DefaultDecompressedTotal  = 256 << 20
	// storage.retention: raw probe rows are kept a day at least (the status page's
	// sparkline is drawn from them), ten years at most; rollups one to a hundred years.
	DefaultRawProbes   = 35 * 24 * time.Hour
	MinRawProbes       = 24 * time.Hour
	MaxRawProbes       = 3650 * 24 * time.Hour
	DefaultRollupYears = 3
	MaxRollupYears     = 100
)

// Assessment periods start in these years; anything else is a typo.
const minPeriodYear, maxPeriodYear = 2000, 2099

// durationIn reports whether d is within [lo, hi] and adds a problem if not, naming the
// value as the file writes it.
func (p *problems) durationIn(path []any, d Duration, lo, hi time.Duration) bool {
	if d.D() >= lo && d.D() <= hi {
		return true
	}
	got := d.String()
	if n := nodeAt(p.root, path); n != nil && n.Value != "" {
		got = n.Value
	}
	p.add(path, "must be between %s and %s, got %s", model.Duration(lo), model.Duration(hi), got)
	return false
}

// intIn reports whether v is within [lo, hi] and adds a problem if not.
func (p *problems) intIn(path []any, v, lo, hi int64) bool {
	if v >= lo && v <= hi {
		return true
	}
	p.add(path, "must be between %d and %d, got %d", lo, hi, v)
	return false
}

func (pb *Publicity) applyDefaults(unset func(path ...any) bool) {
	if unset("publicity", "deadline_workdays") {
		pb.DeadlineWorkdays = 7
	}
	if unset("publicity", "max_decompressed_bytes") {
		pb.MaxDecompressedBytes = DefaultDecompressedBytes
	}
	if unset("publicity", "max_decompressed_total_bytes") {
		pb.MaxDecompressedTotalBytes = max(DefaultDecompressedTotal, min(pb.MaxDecompressedBytes, MaxDecompressedBytes))
	}
	for i := range pb.Exports {
		if unset("publicity", "exports", i, "interval") {
			pb.Exports[i].Interval = Duration(time.Minute)
		}
	}
}

func (pb Publicity) validateLimits(p *problems) {
	lo := int64(MinDecompressedBytes)
	if p.intIn([]any{"publicity", "max_decompressed_bytes"}, pb.MaxDecompressedBytes, lo, MaxDecompressedBytes) {
		lo = pb.MaxDecompressedBytes // the whole workbook holds at least one whole part
	}
	p.intIn([]any{"publicity", "max_decompressed_total_bytes"}, pb.MaxDecompressedTotalBytes, lo, MaxDecompressedTotalBytes)
}

func (a Assessment) validate(p *problems) {
	if a.PeriodStart.IsZero() {
		return
	}
	if y := a.PeriodStart.Year(); y < minPeriodYear || y > maxPeriodYear {
		p.add([]any{"assessment", "period_start"}, "must be between %d-01-01 and %d-12-31, got %s",
			minPeriodYear, maxPeriodYear, a.PeriodStart.Format(time.DateOnly))
	}
}

// nodeAt returns the value node at path, or nil when the document leaves it out. It follows
// aliases and merge keys (<<: *common), as the decoder does.
func nodeAt(root *yaml.Node, path []any) *yaml.Node {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	n := root.Content[0]
	for _, k := range path {
		n = deref(n)
		switch k := k.(type) {
		case string:
			n = mapValue(n, k)
		case int:
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return nil
			}
			n = n.Content[k]
		}
		if n == nil {
			return nil
		}
	}
	return n
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapValue is the value of key in mapping m, its own or merged in.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var merged []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch k, v := m.Content[i], deref(m.Content[i+1]); {
		case k.Value == key && k.Tag != "!!merge":
			return m.Content[i+1]
		case k.Tag == "!!merge" && v.Kind == yaml.SequenceNode:
			merged = append(merged, v.Content...)
		case k.Tag == "!!merge":
			merged = append(merged, v)
		}
	}
	for _, src := range merged {
		if v := mapValue(deref(src), key); v != nil {
			return v
		}
	}
	return nil
}

func (r Retention) validate(p *problems) {
	at := func(key string) []any { return []any{"storage", "retention", key} }
	okRaw := p.durationIn(at("raw_probes"), r.RawProbes, MinRawProbes, MaxRawProbes)
	okYears := p.intIn(at("rollup_years"), int64(r.RollupYears), 1, MaxRollupYears)
	// Rollups are deleted only where raw rows are gone: raw rows kept longer would outlive
	// the rollups, and the figures read the rollups.
	if okRaw && okYears && r.RawProbes.D() > time.Duration(r.RollupYears)*365*24*time.Hour {
		p.add(at("raw_probes"), "must not exceed rollup_years (%d × 365d), got %s", r.RollupYears, r.RawProbes)
	}
}

// MaxStorageURL bounds the length of storage.url.
const MaxStorageURL = 2048

func (s Storage) validateURL(p *problems) {
	at := func(key string) []any { return []any{"storage", key} }
	if s.URL == "" {
		if s.PasswordFile != "" {
			p.add(at("password_file"), "is the password of storage.url, which is not set")
		}
		return
	}
	if len(s.URL) > MaxStorageURL {
		p.add(at("url"), "must be at most %d characters, got %d", MaxStorageURL, len(s.URL))
		return
	}
	if pathKey := nodeAt(p.root, at("path")); pathKey != nil {
		p.add(at("url"), "is a PostgreSQL ledger and storage.path (line %d) a SQLite one: give one of them", pathKey.Line)
	}
	u, err := url.Parse(s.URL)
	switch {
	case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql"):
		// The value is not repeated: it may hold a password.
		p.add(at("url"), "is not a postgres:// URL (postgres://user@host:port/database)")
		return
	case u.Host == "":
		p.add(at("url"), "names no host (postgres://user@host:port/database)")
	case strings.Trim(u.Path, "/") == "":
		p.add(at("url"), "names no database (postgres://user@host:port/database)")
	}
	if _, has := u.User.Password(); has || u.Query().Has("password") {
		p.add(at("url"), "must not carry a password: put it in storage.password_file, or in PGPASSWORD or ~/.pgpass")
	}
	if s.PasswordFile != "" {
		if _, err := os.Stat(s.PasswordFile); err != nil {
			p.add(at("password_file"), "cannot be read: %v", err)
		}
	}
	if s.PersonalDataKeyFile == "" {
		p.add(at("url"), "needs storage.personal_data_key_file: every instance writing a shared ledger must hash ID numbers with the same key")
	}
}

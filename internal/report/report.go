package report

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/creditwatch/creditwatch/internal/card"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
)

// Report is a month's data with what vouches for it: its digest, when it was frozen or
// made, and the signature over both.
type Report struct {
	Data *Data
	Raw  []byte // the data JSON the digest covers
	Meta Meta
}

// Meta is everything a report shows besides its data; the signature covers all of it
// but itself.
type Meta struct {
	Month     string `json:"month"`
	Digest    string `json:"digest"`     // hex SHA-256 of the data JSON
	Version   int    `json:"version"`    // the frozen version; 0 for a provisional report
	StampedAt string `json:"stamped_at"` // when it was frozen, or made if provisional
	Renderer  string `json:"renderer"`   // the creditwatch version that rendered it
	PublicKey string `json:"public_key,omitempty"`
	Signature string `json:"signature,omitempty"`
}

// Frozen reports whether the report is a frozen version of a finished month.
func (m Meta) Frozen() bool { return m.Version > 0 }

// Digest is the hex SHA-256 of a report's data JSON.
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Options of a report.
type Options struct {
	Month     string // YYYY-MM
	Now       time.Time
	Recompute bool
	// Key signs the report; nil for an unsigned one.
	Key ed25519.PrivateKey
	// Renderer is the version of creditwatch, shown and kept with the report.
	Renderer string
}

// ErrNoData is returned for a month before the ledger's first run: nothing of it was seen.
var ErrNoData = errors.New("the month ended before creditwatch first ran on this ledger")

// Generate returns a month's report. A finished month that creditwatch watched is frozen
// the first time it is generated, and read back afterwards; Recompute makes a new version
// from the ledger (the earlier ones are kept). A month still going on, or one in which
// creditwatch never ran, is provisional: made afresh each time, never frozen. A month
// before the ledger's first run has no report (ErrNoData).
func Generate(ctx context.Context, l *ledger.Ledger, cfg *config.Config, set card.Settings, o Options) (*Report, error) {
	from, end, err := ParseMonth(o.Month)
	if err != nil {
		return nil, err
	}
	if !from.Before(o.Now) {
		return nil, fmt.Errorf("month %s has not begun", o.Month)
	}
	first, err := l.FirstRun(ctx)
	if err != nil {
		return nil, err
	}
	if first.IsZero() || !first.Before(end) {
		return nil, fmt.Errorf("month %s: %w", o.Month, ErrNoData)
	}
	watched, err := l.Watched(ctx, from, end)
	if err != nil {
		return nil, err
	}
	complete := !o.Now.Before(end) && watched
	if complete && !o.Recompute {
		fr, err := l.FrozenReport(ctx, o.Month)
		if err != nil {
			return nil, err
		}
		if fr != nil {
			return fromFrozen(fr, o)
		}
	}
	d, err := Build(ctx, l, cfg, set, o)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	r := &Report{Data: d, Raw: raw, Meta: Meta{Month: o.Month, Digest: Digest(raw), StampedAt: clock.Stamp(o.Now), Renderer: o.Renderer}}
	if !complete {
		return r, r.sign(o.Key)
	}
	// Freeze: the version number is the ledger's, the signature covers it.
	versions, err := l.ReportVersions(ctx, o.Month)
	if err != nil {
		return nil, err
	}
	r.Meta.Version = len(versions) + 1
	if err := r.sign(o.Key); err != nil {
		return nil, err
	}
	reason := "frozen"
	if len(versions) > 0 {
		reason = "recomputed"
	}
	meta, err := json.Marshal(r.Meta)
	if err != nil {
		return nil, err
	}
	v, err := l.FreezeReport(ctx, ledger.FrozenReport{Month: o.Month, Data: raw, Digest: r.Meta.Digest, Meta: string(meta),
		FrozenAt: o.Now, Reason: reason})
	if err != nil {
		return nil, err
	}
	if v != r.Meta.Version {
		return nil, fmt.Errorf("freezing report %s: another version was frozen at the same time", o.Month)
	}
	return r, nil
}

// fromFrozen reads a frozen version back, exactly as it was signed.
func fromFrozen(fr *ledger.FrozenReport, o Options) (*Report, error) {
	d := &Data{}
	if err := json.Unmarshal(fr.Data, d); err != nil {
		return nil, fmt.Errorf("reading frozen report %s: %w", fr.Month, err)
	}
	m := Meta{}
	if err := json.Unmarshal([]byte(fr.Meta), &m); err != nil {
		return nil, fmt.Errorf("reading frozen report %s: %w", fr.Month, err)
	}
	// Versions frozen before reports were signed carry only their data and digest.
	m.Month, m.Digest, m.Version, m.StampedAt = fr.Month, fr.Digest, fr.Version, clock.Stamp(fr.FrozenAt)
	return &Report{Data: d, Raw: fr.Data, Meta: m}, nil
}

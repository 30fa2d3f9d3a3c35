package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// FrozenReport is one version of a finished month's report data.
type FrozenReport struct {
	Month    string
	Version  int
	Data     []byte
	Digest   string
	Meta     string // JSON: what the report shows besides its data (its signature among it)
	FrozenAt time.Time
	Reason   string // why this version was made: frozen, recomputed
}

// FrozenReport returns the current (latest) version of a month's frozen report, if any.
func (l *Ledger) FrozenReport(ctx context.Context, month string) (*FrozenReport, error) {
	vs, err := l.reportVersions(ctx, month, true)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return &vs[0], nil
}

// ReportVersions lists every version of a month's frozen report, newest first.
func (l *Ledger) ReportVersions(ctx context.Context, month string) ([]FrozenReport, error) {
	return l.reportVersions(ctx, month, false)
}

func (l *Ledger) reportVersions(ctx context.Context, month string, latest bool) ([]FrozenReport, error) {
	q := `SELECT version, data, digest, meta, frozen_at, reason FROM report_versions WHERE month = ? ORDER BY version DESC`
	if latest {
		q += ` LIMIT 1`
	}
	var out []FrozenReport
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		r := FrozenReport{Month: month}
		var at int64
		if err := rows.Scan(&r.Version, &r.Data, &r.Digest, &r.Meta, &at, &r.Reason); err != nil {
			return err
		}
		r.FrozenAt = fromMS(at)
		out = append(out, r)
		return nil
	}, q, month)
	if err != nil {
		return nil, fmt.Errorf("reading frozen report %s: %w", month, err)
	}
	return out, nil
}

// FreezeReport stores a new version of a finished month's report data, after any earlier
// ones (which are kept), and chains it. It returns the version number.
func (l *Ledger) FreezeReport(ctx context.Context, r FrozenReport) (int, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM report_versions WHERE month = ?`,
		r.Month).Scan(&r.Version); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO report_versions VALUES (?,?,?,?,?,?,?)`, r.Month, r.Version, r.Data,
		r.Digest, r.Meta, ms(r.FrozenAt), r.Reason); err != nil {
		return 0, fmt.Errorf("freezing report %s: %w", r.Month, err)
	}
	e := reportEvent{Month: r.Month, Version: r.Version, Digest: r.Digest, Meta: r.Meta, FrozenAt: ms(r.FrozenAt), Reason: r.Reason}
	if err := appendChain(ctx, tx, ChainReportFrozen, r.Month+"/"+strconv.Itoa(r.Version), r.FrozenAt, e); err != nil {
		return 0, err
	}
	return r.Version, tx.Commit()
}

// Delivery is a monthly report delivered: written to the reports directory and announced.
type Delivery struct {
	Month       string
	DeliveredAt time.Time
	Files       []string
	Notices     []string // one line per webhook: its name and the outcome
}

// Delivered returns the delivery of a month, nil if it has not been delivered.
func (l *Ledger) Delivered(ctx context.Context, month string) (*Delivery, error) {
	d := &Delivery{Month: month}
	var at int64
	var files, notices string
	err := l.r.QueryRowContext(ctx, `SELECT delivered_at, files, notices FROM deliveries WHERE month = ?`, month).Scan(&at, &files, &notices)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the delivery of %s: %w", month, err)
	}
	d.DeliveredAt = fromMS(at)
	if err := errors.Join(json.Unmarshal([]byte(files), &d.Files), json.Unmarshal([]byte(notices), &d.Notices)); err != nil {
		return nil, fmt.Errorf("reading the delivery of %s: %w", month, err)
	}
	return d, nil
}

// RecordDelivery notes that a month's report was delivered.
func (l *Ledger) RecordDelivery(ctx context.Context, d Delivery) error {
	files, _ := json.Marshal(d.Files)
	notices, _ := json.Marshal(d.Notices)
	_, err := l.w.ExecContext(ctx, `INSERT INTO deliveries VALUES (?,?,?,?) ON CONFLICT (month) DO UPDATE SET
		delivered_at = excluded.delivered_at, files = excluded.files, notices = excluded.notices`,
		d.Month, ms(d.DeliveredAt), string(files), string(notices))
	if err != nil {
		return fmt.Errorf("recording the delivery of %s: %w", d.Month, err)
	}
	return nil
}

// FirstRun is when the ledger's first run began, zero for a ledger never run.
func (l *Ledger) FirstRun(ctx context.Context) (time.Time, error) {
	var v int64
	err := l.r.QueryRowContext(ctx, `SELECT COALESCE(MIN(started_at), 0) FROM runs`).Scan(&v)
	return fromMS(v), err
}

// Span is a stretch of time a target was watched from a vantage.
type Span struct {
	Target, Vantage string
	From, To        time.Time
}

// WatchSpans lists the watch spans that overlap [from, to), clipped to it, by target and
// start.
func (l *Ledger) WatchSpans(ctx context.Context, from, to time.Time) ([]Span, error) {
	var out []Span
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var s Span
		var a, b int64
		if err := rows.Scan(&s.Target, &s.Vantage, &a, &b); err != nil {
			return err
		}
		s.From, s.To = fromMS(max(a, ms(from))), fromMS(min(b, ms(to)))
		out = append(out, s)
		return nil
	}, `SELECT target, vantage, started_at, ended_at FROM watch_spans WHERE ended_at > ? AND started_at < ?
		ORDER BY target, vantage, started_at`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("listing watch spans: %w", err)
	}
	return out, nil
}

// DayStats are one target's probes on one Asia/Shanghai day.
type DayStats struct {
	Target      string
	Day         string // YYYY-MM-DD
	Probes      int
	Good        int
	MeanSeconds float64
}

// ProbeDays returns per-target, per-day probe counts and mean durations for [from, to),
// from the rollups where the probes are rolled up and raw rows for the rest.
// China has kept UTC+8 all year since 1991, so a day is an 8-hour shift of UTC.
func (l *Ledger) ProbeDays(ctx context.Context, from, to time.Time, targets ...string) ([]DayStats, error) {
	sums, err := l.probeSums(ctx, sumQuery{from: ms(from), to: ms(to), buckets: buckets{origin: -shanghaiMS, width: dayMS}, targets: targets})
	if err != nil {
		return nil, fmt.Errorf("counting probes by day: %w", err)
	}
	out := make([]DayStats, 0, len(sums))
	for _, s := range sums {
		out = append(out, DayStats{Target: s.Target, Day: time.Unix(s.Bucket*86400, 0).UTC().Format(time.DateOnly),
			Probes: s.Probes, Good: s.Good(), MeanSeconds: s.MeanSeconds()})
	}
	return out, nil
}

// ImportProbes writes probe results without running the incident state machine: for
// backfilling history from another monitor, and for benchmarks. The probes' watch spans
// are built as a migrated ledger's are: a probe vouches for the usual interval of its target.
func (l *Ledger) ImportProbes(ctx context.Context, ps []Probe) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO probes (target, vantage, started_at, duration_seconds, outcome, failed,
		status_code, error, dns_seconds, connect_seconds, tls_seconds, first_byte_seconds, body_bytes, cert_expiry)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	starts := map[[2]string][]int64{}
	for _, p := range ps {
		if _, err := st.ExecContext(ctx, p.Target, p.Vantage, ms(p.StartedAt), p.Duration.Seconds(), p.Outcome, p.Failed,
			p.StatusCode, p.Error, p.DNS.Seconds(), p.Connect.Seconds(), p.TLS.Seconds(), p.FirstByte.Seconds(),
			p.BodyBytes, nullMS(p.CertExpiry)); err != nil {
			return err
		}
		k := [2]string{p.Target, p.Vantage}
		starts[k] = append(starts[k], ms(p.StartedAt))
	}
	for k, s := range starts {
		slices.Sort(s)
		for _, sp := range spansOf(k[0], k[1], s) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO watch_spans (target, vantage, started_at, ended_at) VALUES (?,?,?,?)`,
				sp.target, sp.vantage, sp.from, sp.to); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

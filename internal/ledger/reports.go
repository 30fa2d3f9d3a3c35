package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FrozenReport is a finished month's report data as first generated.
type FrozenReport struct {
	Month    string
	Data     []byte
	Digest   string
	FrozenAt time.Time
}

// FrozenReport returns the frozen report of a month, if any.
func (l *Ledger) FrozenReport(ctx context.Context, month string) (*FrozenReport, error) {
	r := &FrozenReport{Month: month}
	var at int64
	err := l.r.QueryRowContext(ctx, `SELECT data, digest, frozen_at FROM reports WHERE month = ?`, month).Scan(&r.Data, &r.Digest, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading frozen report %s: %w", month, err)
	}
	r.FrozenAt = fromMS(at)
	return r, nil
}

// FreezeReport stores (or, recomputed, replaces) a finished month's report data.
func (l *Ledger) FreezeReport(ctx context.Context, r FrozenReport) error {
	_, err := l.w.ExecContext(ctx, `INSERT INTO reports VALUES (?,?,?,?) ON CONFLICT (month) DO UPDATE SET
		data = excluded.data, digest = excluded.digest, frozen_at = excluded.frozen_at`, r.Month, r.Data, r.Digest, ms(r.FrozenAt))
	if err != nil {
		return fmt.Errorf("freezing report %s: %w", r.Month, err)
	}
	return nil
}

// DayStats are one target's probes on one Asia/Shanghai day.
type DayStats struct {
	Target      string
	Day         string // YYYY-MM-DD
	Probes      int
	Good        int
	MeanSeconds float64
}

// ProbeDays returns per-target, per-day probe counts and mean durations for [from, to).
// China has kept UTC+8 all year since 1991, so a day is an 8-hour shift of UTC.
func (l *Ledger) ProbeDays(ctx context.Context, from, to time.Time) ([]DayStats, error) {
	var out []DayStats
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var d DayStats
		var day int64
		if err := rows.Scan(&d.Target, &day, &d.Probes, &d.Good, &d.MeanSeconds); err != nil {
			return err
		}
		d.Day = time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
		out = append(out, d)
		return nil
	}, `SELECT target, (started_at + 28800000) / 86400000 AS day, COUNT(*), SUM(NOT failed), AVG(duration_seconds)
		FROM probes WHERE started_at >= ? AND started_at < ? GROUP BY target, day ORDER BY target, day`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("counting probes by day: %w", err)
	}
	return out, nil
}

// ImportProbes writes probe results without running the incident state machine: for
// backfilling history from another monitor, and for benchmarks.
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
	for _, p := range ps {
		if _, err := st.ExecContext(ctx, p.Target, p.Vantage, ms(p.StartedAt), p.Duration.Seconds(), p.Outcome, p.Failed,
			p.StatusCode, p.Error, p.DNS.Seconds(), p.Connect.Seconds(), p.TLS.Seconds(), p.FirstByte.Seconds(),
			p.BodyBytes, nullMS(p.CertExpiry)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

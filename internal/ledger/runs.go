package ledger

import (
	"context"
	"fmt"
	"time"
)

// Run is one stretch of time the monitor was running; gaps between runs are time
// nothing was watched, which reports show as unknown.
type Run struct {
	ID         int64
	StartedAt  time.Time
	LastSeenAt time.Time // the last heartbeat, or the clean stop
	StoppedAt  time.Time // zero unless the run stopped cleanly
	Version    string
	Vantage    string
}

// End is the last moment the run is known to have been watching: its clean stop, or else
// its last heartbeat.
func (r Run) End() time.Time {
	if !r.StoppedAt.IsZero() {
		return r.StoppedAt
	}
	return r.LastSeenAt
}

// StartRun records that the monitor started at a vantage.
func (l *Ledger) StartRun(ctx context.Context, now time.Time, version, vantage string) (int64, error) {
	var id int64
	err := l.w.QueryRowContext(ctx, `INSERT INTO runs (started_at, last_seen_at, version, vantage) VALUES (?,?,?,?)
		RETURNING id`, ms(now), ms(now), version, vantage).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("recording run start: %w", err)
	}
	return id, nil
}

// StopRun records a clean stop: the run ends exactly then, and so does every watch span of
// its vantage, which the next probe after a restart does not extend.
func (l *Ledger) StopRun(ctx context.Context, id int64, at time.Time) error {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var vantage string
	if err := tx.QueryRowContext(ctx, `UPDATE runs SET stopped_at = ?, last_seen_at = ? WHERE id = ? RETURNING vantage`,
		ms(at), ms(at), id).Scan(&vantage); err != nil {
		return fmt.Errorf("recording the stop of run %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE watch_spans SET ended_at = MAX(started_at, ?) WHERE vantage = ? AND ended_at > ?`,
		ms(at), vantage, ms(at)); err != nil {
		return fmt.Errorf("ending watch spans: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE target_state SET span_id = NULL WHERE vantage = ?`, vantage); err != nil {
		return err
	}
	l.forgetStates()
	return tx.Commit()
}

// Heartbeat moves the end of a run forward.
func (l *Ledger) Heartbeat(ctx context.Context, id int64, now time.Time) error {
	if _, err := l.w.ExecContext(ctx, `UPDATE runs SET last_seen_at = ? WHERE id = ?`, ms(now), id); err != nil {
		return fmt.Errorf("recording heartbeat: %w", err)
	}
	return nil
}

// Runs lists runs overlapping [from, to), oldest first.
func (l *Ledger) Runs(ctx context.Context, from, to time.Time) ([]Run, error) {
	rows, err := l.r.QueryContext(ctx, `SELECT id, started_at, last_seen_at, COALESCE(stopped_at, 0), version, vantage FROM runs
		WHERE last_seen_at >= ? AND started_at < ? ORDER BY started_at`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var s, e, stop int64
		if err := rows.Scan(&r.ID, &s, &e, &stop, &r.Version, &r.Vantage); err != nil {
			return nil, err
		}
		r.StartedAt, r.LastSeenAt, r.StoppedAt = fromMS(s), fromMS(e), fromMS(stop)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Watched reports whether creditwatch was running at any time in [from, to).
func (l *Ledger) Watched(ctx context.Context, from, to time.Time) (bool, error) {
	var found bool
	err := l.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE last_seen_at > ? AND started_at < ?)`,
		ms(from), ms(to)).Scan(&found)
	return found, err
}

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
	LastSeenAt time.Time
	Version    string
}

// StartRun records that the monitor started.
func (l *Ledger) StartRun(ctx context.Context, now time.Time, version string) (int64, error) {
	res, err := l.w.ExecContext(ctx, `INSERT INTO runs (started_at, last_seen_at, version) VALUES (?,?,?)`,
		ms(now), ms(now), version)
	if err != nil {
		return 0, fmt.Errorf("recording run start: %w", err)
	}
	return res.LastInsertId()
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
	rows, err := l.r.QueryContext(ctx, `SELECT id, started_at, last_seen_at, version FROM runs
		WHERE last_seen_at >= ? AND started_at < ? ORDER BY started_at`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var s, e int64
		if err := rows.Scan(&r.ID, &s, &e, &r.Version); err != nil {
			return nil, err
		}
		r.StartedAt, r.LastSeenAt = fromMS(s), fromMS(e)
		out = append(out, r)
	}
	return out, rows.Err()
}

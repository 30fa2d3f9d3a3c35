package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A lease says which of the instances sharing a ledger runs the jobs that must run once:
// platform polling, export imports, report delivery and retention. Its holder renews it
// well before it expires; when the holder dies, another instance takes it once it has
// expired. Times are the instances' clocks, which are assumed to agree to within a small
// part of the lease's length (NTP).
type Lease struct {
	Name, Holder string
	AcquiredAt   time.Time // when the holder took it
	RenewedAt    time.Time
	ExpiresAt    time.Time
}

// AcquireLease takes the lease name for holder until now+ttl, or renews it, unless another
// holder's lease has not expired yet. It returns the lease as it stands afterwards: held by
// holder or by the other.
func (l *Ledger) AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (Lease, error) {
	if ttl <= 0 {
		return Lease{}, fmt.Errorf("lease %s: ttl %s is not positive", name, ttl)
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return Lease{}, fmt.Errorf("taking lease %s: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, acquired_at, renewed_at, expires_at)
		VALUES (?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
			acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
			renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at`,
		name, holder, ms(now), ms(now), ms(now.Add(ttl))); err != nil {
		return Lease{}, fmt.Errorf("taking lease %s: %w", name, err)
	}
	ls, err := readLease(ctx, tx, name)
	if err != nil {
		return Lease{}, err
	}
	return ls, tx.Commit()
}

// ReleaseLease gives the lease up if holder holds it, so that another instance takes it at
// once (a clean stop).
func (l *Ledger) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := l.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("releasing lease %s: %w", name, err)
	}
	return nil
}

// CurrentLease is the lease name as it stands; zero when nobody ever took it or it was
// released.
func (l *Ledger) CurrentLease(ctx context.Context, name string) (Lease, error) {
	tx, err := l.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Lease{}, err
	}
	defer tx.Rollback()
	ls, err := readLease(ctx, tx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, nil
	}
	return ls, err
}

func readLease(ctx context.Context, tx *sql.Tx, name string) (Lease, error) {
	ls := Lease{Name: name}
	var acq, ren, exp int64
	if err := tx.QueryRowContext(ctx, `SELECT holder, acquired_at, renewed_at, expires_at FROM leases WHERE name = ?`, name).
		Scan(&ls.Holder, &acq, &ren, &exp); err != nil {
		return Lease{}, fmt.Errorf("reading lease %s: %w", name, err)
	}
	ls.AcquiredAt, ls.RenewedAt, ls.ExpiresAt = fromMS(acq), fromMS(ren), fromMS(exp)
	return ls, nil
}

// ChangeMark moves whenever an incident, a risk event, an annotation, a frozen report or
// a security finding is written, by any instance sharing the ledger (the length of the
// hash chain), so that an instance can tell that its cards are out of date.
func (l *Ledger) ChangeMark(ctx context.Context) (int64, error) {
	var n int64
	if err := l.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM chain`).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the ledger's change mark: %w", err)
	}
	return n, nil
}

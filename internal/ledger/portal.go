package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/creditwatch/creditwatch/internal/incident"
)

// Probe is one probe result as written to the ledger.
type Probe struct {
	Target     string
	Vantage    string
	StartedAt  time.Time
	Duration   time.Duration
	Outcome    string
	Failed     bool
	StatusCode int
	Error      string
	DNS        time.Duration
	Connect    time.Duration
	TLS        time.Duration
	FirstByte  time.Duration
	BodyBytes  int64
	CertExpiry time.Time
}

// Incident is a confirmed inaccessibility incident.
type Incident struct {
	ID           int64
	Target       string
	Vantage      string
	StartedAt    time.Time
	ConfirmedAt  time.Time
	EndedAt      time.Time // zero while open
	Outcome      string
	FirstError   string
	FailedProbes int
}

// Open reports whether the incident is still open.
func (i Incident) Open() bool { return i.EndedAt.IsZero() }

// RiskEvent is a failure streak that ended before it became an incident.
type RiskEvent struct {
	Target       string
	Vantage      string
	StartedAt    time.Time
	EndedAt      time.Time
	Outcome      string
	FirstError   string
	FailedProbes int
}

// RecordProbe writes a probe result and the incident transition it causes in one
// transaction, and returns the target's new state and the transition.
func (l *Ledger) RecordProbe(ctx context.Context, p Probe, pol incident.Policy) (incident.State, incident.Transition, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return incident.State{}, incident.Transition{}, fmt.Errorf("recording probe of %s: %w", p.Target, err)
	}
	defer tx.Rollback()
	st, err := loadState(ctx, tx, p.Target)
	if err != nil {
		return st, incident.Transition{}, fmt.Errorf("loading state of %s: %w", p.Target, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO probes (target, vantage, started_at, duration_seconds,
		outcome, failed, status_code, error, dns_seconds, connect_seconds, tls_seconds, first_byte_seconds,
		body_bytes, cert_expiry) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		p.Target, p.Vantage, ms(p.StartedAt), p.Duration.Seconds(), p.Outcome, p.Failed, p.StatusCode,
		p.Error, p.DNS.Seconds(), p.Connect.Seconds(), p.TLS.Seconds(), p.FirstByte.Seconds(),
		p.BodyBytes, nullMS(p.CertExpiry)); err != nil {
		return st, incident.Transition{}, fmt.Errorf("inserting probe of %s: %w", p.Target, err)
	}
	prevOpen := st.OpenID
	st, tr := incident.Step(st, incident.Result{At: p.StartedAt, Failed: p.Failed, Outcome: p.Outcome, Error: p.Error}, pol)
	if err := applyTransition(ctx, tx, p, &st, tr, prevOpen); err != nil {
		return st, tr, fmt.Errorf("applying incident transition of %s: %w", p.Target, err)
	}
	if err := saveState(ctx, tx, p.Target, st); err != nil {
		return st, tr, fmt.Errorf("saving state of %s: %w", p.Target, err)
	}
	if err := tx.Commit(); err != nil {
		return st, tr, fmt.Errorf("committing probe of %s: %w", p.Target, err)
	}
	return st, tr, nil
}

func applyTransition(ctx context.Context, tx *sql.Tx, p Probe, st *incident.State, tr incident.Transition, openID int64) error {
	switch {
	case tr.Opened != nil:
		o := tr.Opened
		res, err := tx.ExecContext(ctx, `INSERT INTO incidents (target, vantage, started_at, confirmed_at,
			outcome, first_error, failed_probes) VALUES (?,?,?,?,?,?,?)`,
			p.Target, p.Vantage, ms(o.Start), ms(p.StartedAt), o.Outcome, o.Error, o.Failed)
		if err != nil {
			return err
		}
		st.OpenID, err = res.LastInsertId()
		return err
	case tr.FailedInIncident:
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET failed_probes = failed_probes + 1 WHERE id = ?`, openID)
		return err
	case !tr.ClosedAt.IsZero():
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET ended_at = ? WHERE id = ?`, ms(tr.ClosedAt), openID)
		return err
	case tr.Risk != nil:
		r := tr.Risk
		_, err := tx.ExecContext(ctx, `INSERT INTO risk_events (target, vantage, started_at, ended_at, outcome,
			first_error, failed_probes) VALUES (?,?,?,?,?,?,?)`,
			p.Target, p.Vantage, ms(r.Start), ms(r.End), r.Outcome, r.Error, r.Failed)
		return err
	}
	return nil
}

func loadState(ctx context.Context, tx *sql.Tx, target string) (incident.State, error) {
	var st incident.State
	var streakStart, goodStart int64
	var openID sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT fail_streak, good_streak, streak_started_at, streak_outcome,
		streak_error, good_started_at, open_incident_id FROM target_state WHERE target = ?`, target).
		Scan(&st.FailStreak, &st.GoodStreak, &streakStart, &st.StreakOut, &st.StreakErr, &goodStart, &openID)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	st.StreakStart, st.GoodStart, st.OpenID = fromMS(streakStart), fromMS(goodStart), openID.Int64
	return st, err
}

func saveState(ctx context.Context, tx *sql.Tx, target string, st incident.State) error {
	var openID any
	if st.OpenID != 0 {
		openID = st.OpenID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO target_state (target, fail_streak, good_streak,
		streak_started_at, streak_outcome, streak_error, good_started_at, open_incident_id)
		VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (target) DO UPDATE SET fail_streak = excluded.fail_streak,
		good_streak = excluded.good_streak, streak_started_at = excluded.streak_started_at,
		streak_outcome = excluded.streak_outcome, streak_error = excluded.streak_error,
		good_started_at = excluded.good_started_at, open_incident_id = excluded.open_incident_id`,
		target, st.FailStreak, st.GoodStreak, ms(st.StreakStart), st.StreakOut, st.StreakErr, ms(st.GoodStart), openID)
	return err
}

// TargetTotals are all-time counts for one target, read at start so that counters
// continue across restarts.
type TargetTotals struct {
	Incidents  int
	RiskEvents int
	Open       *Incident
	Outcomes   map[string]int
}

// Totals returns the all-time counts per target.
func (l *Ledger) Totals(ctx context.Context) (map[string]*TargetTotals, error) {
	out := map[string]*TargetTotals{}
	get := func(t string) *TargetTotals {
		if out[t] == nil {
			out[t] = &TargetTotals{Outcomes: map[string]int{}}
		}
		return out[t]
	}
	counts := []struct {
		what, q string
		set     func(tt *TargetTotals, key string, n int)
	}{
		{"incidents", `SELECT target, '', COUNT(*) FROM incidents GROUP BY target`,
			func(tt *TargetTotals, _ string, n int) { tt.Incidents = n }},
		{"risk events", `SELECT target, '', COUNT(*) FROM risk_events GROUP BY target`,
			func(tt *TargetTotals, _ string, n int) { tt.RiskEvents = n }},
		{"probe outcomes", `SELECT target, outcome, COUNT(*) FROM probes GROUP BY target, outcome`,
			func(tt *TargetTotals, o string, n int) { tt.Outcomes[o] = n }},
	}
	for _, c := range counts {
		err := l.scanRows(ctx, func(rows *sql.Rows) error {
			var t, key string
			var n int
			if err := rows.Scan(&t, &key, &n); err != nil {
				return err
			}
			c.set(get(t), key, n)
			return nil
		}, c.q)
		if err != nil {
			return nil, fmt.Errorf("counting %s: %w", c.what, err)
		}
	}
	open, err := l.Incidents(ctx, time.Time{}, time.Time{}, true)
	if err != nil {
		return nil, err
	}
	for i := range open {
		get(open[i].Target).Open = &open[i]
	}
	return out, nil
}

// Incidents lists incidents that overlap [from, to) (zero bounds are open), oldest first;
// onlyOpen restricts the list to incidents not yet closed.
func (l *Ledger) Incidents(ctx context.Context, from, to time.Time, onlyOpen bool) ([]Incident, error) {
	q := `SELECT id, target, vantage, started_at, confirmed_at, COALESCE(ended_at, 0), outcome, first_error,
		failed_probes FROM incidents WHERE (ended_at IS NULL OR ended_at > ?) AND started_at < ?`
	if onlyOpen {
		q += ` AND ended_at IS NULL`
	}
	q += ` ORDER BY started_at, id`
	upper := int64(1<<63 - 1)
	if !to.IsZero() {
		upper = ms(to)
	}
	var out []Incident
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var i Incident
		var start, conf, end int64
		if err := rows.Scan(&i.ID, &i.Target, &i.Vantage, &start, &conf, &end, &i.Outcome, &i.FirstError, &i.FailedProbes); err != nil {
			return err
		}
		i.StartedAt, i.ConfirmedAt, i.EndedAt = fromMS(start), fromMS(conf), fromMS(end)
		out = append(out, i)
		return nil
	}, q, ms(from), upper)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return out, nil
}

// CountIncidentsStarted counts incidents that started in [from, to) across all targets:
// the "detected inaccessibility" events of the assessment period.
func (l *Ledger) CountIncidentsStarted(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE started_at >= ? AND started_at < ?`,
		ms(from), ms(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting incidents: %w", err)
	}
	return n, nil
}

// RiskEvents lists risk events that started in [from, to), oldest first.
func (l *Ledger) RiskEvents(ctx context.Context, from, to time.Time) ([]RiskEvent, error) {
	var out []RiskEvent
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var r RiskEvent
		var start, end int64
		if err := rows.Scan(&r.Target, &r.Vantage, &start, &end, &r.Outcome, &r.FirstError, &r.FailedProbes); err != nil {
			return err
		}
		r.StartedAt, r.EndedAt = fromMS(start), fromMS(end)
		out = append(out, r)
		return nil
	}, `SELECT target, vantage, started_at, ended_at, outcome, first_error, failed_probes FROM risk_events
		WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("listing risk events: %w", err)
	}
	return out, nil
}

// CountProbes counts probe results of a target (all targets if empty).
func (l *Ledger) CountProbes(ctx context.Context, target string) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM probes WHERE ? = '' OR target = ?`, target, target).Scan(&n)
	return n, err
}

func (l *Ledger) scanRows(ctx context.Context, each func(*sql.Rows) error, q string, args ...any) error {
	rows, err := l.r.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

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

// Incident is a confirmed inaccessibility incident of one target.
type Incident struct {
	ID          int64
	Target      string
	Vantage     string
	StartedAt   time.Time
	ConfirmedAt time.Time
	EndedAt     time.Time // zero while open
	// EndConfirmedAt is when the end became known: the probe that confirmed the recovery
	// (EndedAt is the first good probe before it), or the moment monitoring stopped.
	EndConfirmedAt time.Time
	Outcome        string
	FirstError     string
	FailedProbes   int
	Scoring
	EndCause string // EndRecovered or EndMonitoringStopped once ended
}

// Scoring is what scoring needs to know of a target's incidents, from the config of the
// time they were recorded.
type Scoring struct {
	Site   string // the site the target is a page of
	Scored bool   // the site is the assessed portal
	// MergeWindow: an incident of the same site that starts within this time after another
	// ends is the same outage.
	MergeWindow time.Duration
}

// Why an incident ended.
const (
	EndRecovered         = "recovered"
	EndMonitoringStopped = "monitoring_stopped"
)

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
// transaction, and returns the target's new state and the transition. sc describes an
// incident the probe opens.
func (l *Ledger) RecordProbe(ctx context.Context, p Probe, pol incident.Policy, sc Scoring) (incident.State, incident.Transition, error) {
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
	if err := applyTransition(ctx, tx, p, sc, &st, tr, prevOpen); err != nil {
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

func applyTransition(ctx context.Context, tx *sql.Tx, p Probe, sc Scoring, st *incident.State, tr incident.Transition, openID int64) error {
	switch {
	case tr.Opened != nil:
		o := tr.Opened
		return tx.QueryRowContext(ctx, `INSERT INTO incidents (target, vantage, started_at, confirmed_at,
			outcome, first_error, failed_probes, site, scored, merge_window_ms) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			p.Target, p.Vantage, ms(o.Start), ms(p.StartedAt), o.Outcome, o.Error, o.Failed, sc.Site, sc.Scored,
			sc.MergeWindow.Milliseconds()).Scan(&st.OpenID)
	case tr.FailedInIncident:
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET failed_probes = failed_probes + 1 WHERE id = ?`, openID)
		return err
	case !tr.ClosedAt.IsZero():
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET ended_at = ?, end_cause = ?, end_confirmed_at = ? WHERE id = ?`,
			ms(tr.ClosedAt), EndRecovered, ms(p.StartedAt), openID)
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

const incidentColumns = `id, target, vantage, started_at, confirmed_at, COALESCE(ended_at, 0), outcome, first_error,
	failed_probes, site, scored, merge_window_ms, end_cause, COALESCE(end_confirmed_at, 0)`

func scanIncident(rows *sql.Rows) (Incident, error) {
	var i Incident
	var start, conf, end, window, endConf int64
	err := rows.Scan(&i.ID, &i.Target, &i.Vantage, &start, &conf, &end, &i.Outcome, &i.FirstError, &i.FailedProbes,
		&i.Site, &i.Scored, &window, &i.EndCause, &endConf)
	i.StartedAt, i.ConfirmedAt, i.EndedAt, i.MergeWindow = fromMS(start), fromMS(conf), fromMS(end), time.Duration(window)*time.Millisecond
	i.EndConfirmedAt = fromMS(endConf)
	return i, err
}

func (l *Ledger) listIncidents(ctx context.Context, q string, args ...any) ([]Incident, error) {
	var out []Incident
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		i, err := scanIncident(rows)
		out = append(out, i)
		return err
	}, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return out, nil
}

// Incidents lists incidents that overlap [from, to) (zero bounds are open), oldest first;
// onlyOpen restricts the list to incidents not yet closed.
func (l *Ledger) Incidents(ctx context.Context, from, to time.Time, onlyOpen bool) ([]Incident, error) {
	q := `SELECT ` + incidentColumns + ` FROM incidents WHERE (ended_at IS NULL OR ended_at > ?) AND started_at < ?`
	if onlyOpen {
		q += ` AND ended_at IS NULL`
	}
	q += ` ORDER BY started_at, id`
	upper := int64(1<<63 - 1)
	if !to.IsZero() {
		upper = ms(to)
	}
	return l.listIncidents(ctx, q, ms(from), upper)
}

// IncidentsAsOf lists the incidents as they stood just before the instant at: confirmed
// before it, and still open then unless their end had been confirmed before it (an end
// confirmed later was not known yet as of at, so the incident is open). Incidents that
// had ended before since are left out. Oldest first.
func (l *Ledger) IncidentsAsOf(ctx context.Context, at, since time.Time) ([]Incident, error) {
	incs, err := l.listIncidents(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE confirmed_at < ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at, id`, ms(at), ms(since))
	for i := range incs {
		if !incs[i].EndConfirmedAt.Before(at) {
			incs[i].EndedAt, incs[i].EndConfirmedAt, incs[i].EndCause = time.Time{}, time.Time{}, ""
		}
	}
	return incs, err
}

// EndIncident ends a target's open incident at a time for a cause other than recovery (its
// target was removed from the config: monitoring stopped) and forgets the target's streaks,
// in one transaction. It does nothing when no incident is open.
func (l *Ledger) EndIncident(ctx context.Context, target string, at time.Time, cause string) (bool, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE incidents SET ended_at = MAX(started_at, ?), end_cause = ?,
		end_confirmed_at = MAX(confirmed_at, ?) WHERE target = ? AND ended_at IS NULL`, ms(at), cause, ms(at), target)
	if err != nil {
		return false, fmt.Errorf("ending the incident of %s: %w", target, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM target_state WHERE target = ?`, target); err != nil {
		return false, fmt.Errorf("forgetting the state of %s: %w", target, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, tx.Commit()
}

// TargetsWithState lists the targets the ledger holds a resumable state for.
func (l *Ledger) TargetsWithState(ctx context.Context) ([]string, error) {
	var out []string
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var t string
		out = append(out, t)
		return rows.Scan(&out[len(out)-1])
	}, `SELECT target FROM target_state ORDER BY target`)
	return out, err
}

// LastProbe is the start of a target's latest probe, zero if none.
func (l *Ledger) LastProbe(ctx context.Context, target string) (time.Time, error) {
	var v int64
	err := l.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(started_at), 0) FROM probes WHERE target = ?`, target).Scan(&v)
	return fromMS(v), err
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

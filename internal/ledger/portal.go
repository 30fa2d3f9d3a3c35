package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

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
	// Annotations are what people said of the incident, oldest first; the latest holds.
	Annotations []Annotation
}

// Annotation causes.
const (
	CauseMaintenance  = "maintenance"   // planned maintenance: still counts, labelled
	CauseMonitorError = "monitor_error" // creditwatch's own mistake: void for scoring
	CauseConfirmed    = "confirmed"     // a real outage, confirmed
	CauseOther        = "other"
)

// Causes lists the annotation causes.
var Causes = []string{CauseMaintenance, CauseMonitorError, CauseConfirmed, CauseOther}

// Annotation is a person's word on an incident, kept with who and when; a later one
// supersedes it without erasing it.
type Annotation struct {
	ID         int64
	IncidentID int64
	Cause      string
	Note       string
	By         string
	At         time.Time
}

// Latest is the annotation that holds, nil if none.
func (i Incident) Latest() *Annotation {
	if len(i.Annotations) == 0 {
		return nil
	}
	return &i.Annotations[len(i.Annotations)-1]
}

// Voided reports whether the incident was creditwatch's own mistake: listed, not scored.
func (i Incident) Voided() bool {
	a := i.Latest()
	return a != nil && a.Cause == CauseMonitorError
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
	outcomes, err := l.probeSums(ctx, sumQuery{from: math.MinInt64, to: math.MaxInt64, byOutcome: true})
	if err != nil {
		return nil, fmt.Errorf("counting probe outcomes: %w", err)
	}
	for _, s := range outcomes {
		get(s.Target).Outcomes[s.Outcome] += s.Probes
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
	if len(out) == 0 {
		return out, nil
	}
	index := make(map[int64]int, len(out))
	for k, i := range out {
		index[i.ID] = k
	}
	err = l.scanRows(ctx, func(rows *sql.Rows) error {
		var a Annotation
		var at int64
		if err := rows.Scan(&a.ID, &a.IncidentID, &a.Cause, &a.Note, &a.By, &at); err != nil {
			return err
		}
		a.At = fromMS(at)
		if k, ok := index[a.IncidentID]; ok {
			out[k].Annotations = append(out[k].Annotations, a)
		}
		return nil
	}, `SELECT id, incident_id, cause, note, by, at FROM annotations WHERE incident_id >= ? ORDER BY id`, minID(out))
	if err != nil {
		return nil, fmt.Errorf("listing annotations: %w", err)
	}
	return out, nil
}

// Incident returns one incident, nil if there is none with that id.
func (l *Ledger) Incident(ctx context.Context, id int64) (*Incident, error) {
	incs, err := l.listIncidents(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
	if err != nil || len(incs) == 0 {
		return nil, err
	}
	return &incs[0], nil
}

// Annotate records a person's word on an incident, as a new chained row.
func (l *Ledger) Annotate(ctx context.Context, a Annotation) (int64, error) {
	if !slices.Contains(Causes, a.Cause) {
		return 0, fmt.Errorf("cause %q is not one of %s", a.Cause, strings.Join(Causes, ", "))
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE id = ?`, a.IncidentID).Scan(&n); err != nil || n == 0 {
		return 0, errors.Join(fmt.Errorf("no incident %d in the ledger", a.IncidentID), err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO annotations (incident_id, cause, note, by, at) VALUES (?,?,?,?,?) RETURNING id`,
		a.IncidentID, a.Cause, a.Note, a.By, ms(a.At)).Scan(&a.ID); err != nil {
		return 0, fmt.Errorf("annotating incident %d: %w", a.IncidentID, err)
	}
	e := annotationEvent{ID: a.ID, IncidentID: a.IncidentID, Cause: a.Cause, Note: a.Note, By: a.By, At: ms(a.At)}
	if err := appendChain(ctx, tx, ChainAnnotation, ref(a.ID), a.At, e); err != nil {
		return 0, err
	}
	return a.ID, tx.Commit()
}

// IncidentEvidence returns the evidence kept for an incident, by role (EvidenceOpened,
// EvidenceClosed).
func (l *Ledger) IncidentEvidence(ctx context.Context, id int64) (map[string]*Evidence, error) {
	out := map[string]*Evidence{}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var role, body string
		if err := rows.Scan(&role, &body); err != nil {
			return err
		}
		e := &Evidence{}
		if err := json.Unmarshal([]byte(body), e); err != nil {
			return fmt.Errorf("evidence %s of incident %d: %w", role, id, err)
		}
		out[role] = e
		return nil
	}, `SELECT role, evidence FROM incident_evidence WHERE incident_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the evidence of incident %d: %w", id, err)
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

// StopWatching records that a vantage stopped watching a target at a time (it was removed
// from the config): the vantage's open incident of it ends then for that cause, its watch
// span ends then, its streaks are forgotten, and so is the target's content state, a
// security incident whose signs were still on its page ending then, in one transaction. It
// reports whether an incident was ended.
func (l *Ledger) StopWatching(ctx context.Context, target, vantage string, at time.Time) (bool, error) {
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE incidents SET ended_at = MAX(started_at, ?), end_cause = ?,
		end_confirmed_at = MAX(confirmed_at, ?) WHERE target = ? AND vantage = ? AND ended_at IS NULL RETURNING id`,
		ms(at), EndMonitoringStopped, ms(at), target, vantage).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("ending the incident of %s: %w", target, err)
	}
	if id != 0 {
		if err := chainEnded(ctx, tx, id); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE watch_spans SET ended_at = MAX(started_at, ?) WHERE target = ? AND vantage = ? AND ended_at > ?`,
		ms(at), target, vantage, ms(at)); err != nil {
		return false, fmt.Errorf("ending the watch span of %s: %w", target, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM target_state WHERE target = ? AND vantage = ?`, target, vantage); err != nil {
		return false, fmt.Errorf("forgetting the state of %s: %w", target, err)
	}
	l.forgetStates()
	if err := stopContent(ctx, tx, target, at); err != nil {
		return false, err
	}
	return id != 0, tx.Commit()
}

// TargetsWithState lists the targets the ledger holds a resumable state for at a vantage.
func (l *Ledger) TargetsWithState(ctx context.Context, vantage string) ([]string, error) {
	var out []string
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var t string
		out = append(out, t)
		return rows.Scan(&out[len(out)-1])
	}, `SELECT target FROM target_state WHERE vantage = ? ORDER BY target`, vantage)
	return out, err
}

// LastProbe is the start of a target's latest probe, zero if none: read backwards from the
// latest probe, it is found at once for a target probed until recently (a target removed
// from the config while creditwatch was down). Once its raw rows are gone, it is the start
// of the latest quarter-hour, hour or day rolled up with a probe of the target. Only the
// probes of the vantage count.
func (l *Ledger) LastProbe(ctx context.Context, target, vantage string) (time.Time, error) {
	var v int64
	err := l.r.QueryRowContext(ctx, `SELECT COALESCE(
		(SELECT started_at FROM probes WHERE target = :t AND vantage = :v AND started_at >= (SELECT raw_from FROM rollup_state)
			ORDER BY started_at DESC LIMIT 1),
		(SELECT start FROM probe_quarters WHERE target = :t AND vantage = :v ORDER BY start DESC LIMIT 1),
		(SELECT start FROM probe_hours WHERE target = :t AND vantage = :v ORDER BY start DESC LIMIT 1),
		(SELECT start FROM probe_days WHERE target = :t AND vantage = :v ORDER BY start DESC LIMIT 1), 0)`,
		sql.Named("t", target), sql.Named("v", vantage)).Scan(&v)
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

// CountProbes counts probe results of a target (all targets if empty), rolled up or not.
func (l *Ledger) CountProbes(ctx context.Context, target string) (int, error) {
	sums, err := l.probeSums(ctx, sumQuery{from: math.MinInt64, to: math.MaxInt64, target: target})
	n := 0
	for _, s := range sums {
		n += s.Probes
	}
	return n, err
}

func (l *Ledger) scanRows(ctx context.Context, each func(*sql.Rows) error, q string, args ...any) error {
	rows, err := l.query(ctx, q, args...)
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

func minID(incs []Incident) int64 {
	m := incs[0].ID
	for _, i := range incs {
		m = min(m, i.ID)
	}
	return m
}

// CountFailedProbes counts a target's failed probes that started in [from, to), rolled up
// or not. Bounds that are not whole quarter-hours are counted from raw rows: exact within
// the raw retention, and at an incident's start (the raw rows of that hour are kept).
func (l *Ledger) CountFailedProbes(ctx context.Context, target string, from, to time.Time) (int, error) {
	if target == "" {
		return 0, fmt.Errorf("counting failed probes: no target")
	}
	sums, err := l.probeSums(ctx, sumQuery{from: ms(from), to: ms(to), target: target})
	n := 0
	for _, s := range sums {
		n += s.Failed
	}
	return n, err
}

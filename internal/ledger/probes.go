package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
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
	// Interval is the target's probe interval: a probe vouches for its target from its
	// start until the next one is due, so consecutive probes make a watch span.
	Interval time.Duration
	// Evidence, when set, is kept if this probe begins a failure streak (it becomes the
	// evidence of the incident's start) or a recovery (the evidence of its end).
	Evidence *Evidence
}

// Evidence is what a probe saw, kept for the probes that begin and end an incident.
type Evidence struct {
	At          time.Time         `json:"at"`
	URL         string            `json:"url"`
	Vantage     string            `json:"vantage"`
	ResolvedIP  string            `json:"resolved_ip,omitempty"`
	StatusLine  string            `json:"status_line,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	TLS         *CertInfo         `json:"tls,omitempty"`
	Outcome     string            `json:"outcome"`
	Error       string            `json:"error,omitempty"`
	BodyExcerpt string            `json:"body_excerpt,omitempty"` // decoded, at most 4 KB
	BodySHA256  string            `json:"body_sha256,omitempty"`  // of the whole body as received
	BodyBytes   int64             `json:"body_bytes"`
}

// CertInfo is the leaf certificate a TLS probe was shown.
type CertInfo struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// targetRow is a target's resumable state: the incident machine's state, its current watch
// span, and the evidence of the probes that began the current failure and recovery streaks.
type targetRow struct {
	st                           incident.State
	spanID                       int64
	spanEnd                      int64
	streakEvidence, goodEvidence string
}

// recordProbe writes one probe result, the incident transition it causes and its watch span
// in the batch's transaction tx, from the target's state row (read from the ledger, or kept
// from its last probe), and returns the target's new state row and the transition. sc
// describes an incident the probe opens.
func recordProbe(ctx context.Context, tx *sql.Tx, st *probeStmts, row targetRow, p Probe, pol incident.Policy, sc Scoring) (targetRow, incident.Transition, error) {
	if _, err := st.insert.ExecContext(ctx,
		p.Target, p.Vantage, ms(p.StartedAt), p.Duration.Seconds(), p.Outcome, p.Failed, p.StatusCode,
		p.Error, p.DNS.Seconds(), p.Connect.Seconds(), p.TLS.Seconds(), p.FirstByte.Seconds(),
		p.BodyBytes, nullMS(p.CertExpiry)); err != nil {
		return row, incident.Transition{}, fmt.Errorf("inserting probe of %s: %w", p.Target, err)
	}
	before := row
	prev := row.st
	row.keepEvidence(p, prev)
	next, tr := incident.Step(prev, incident.Result{At: p.StartedAt, Failed: p.Failed, Outcome: p.Outcome, Error: p.Error}, pol)
	row.st = next
	if err := applyTransition(ctx, tx, st, p, sc, &row, tr, prev.OpenID); err != nil {
		return row, tr, fmt.Errorf("applying incident transition of %s: %w", p.Target, err)
	}
	if err := row.watch(ctx, st, p); err != nil {
		return row, tr, fmt.Errorf("extending the watch span of %s: %w", p.Target, err)
	}
	// A probe that changes nothing but the end of the watch span (which watch_spans holds)
	// leaves the state row as it is: most probes of a healthy portal.
	if !row.sameStored(before) {
		if err := saveState(ctx, st, p.Target, p.Vantage, row); err != nil {
			return row, tr, fmt.Errorf("saving state of %s: %w", p.Target, err)
		}
	}
	return row, tr, nil
}

// sameStored reports whether two rows store the same state, the watch span's end apart.
func (r targetRow) sameStored(o targetRow) bool {
	a, b := r.st, o.st
	return a.FailStreak == b.FailStreak && a.GoodStreak == b.GoodStreak && ms(a.StreakStart) == ms(b.StreakStart) &&
		a.StreakOut == b.StreakOut && a.StreakErr == b.StreakErr && ms(a.GoodStart) == ms(b.GoodStart) &&
		a.OpenID == b.OpenID && r.spanID == o.spanID && r.streakEvidence == o.streakEvidence && r.goodEvidence == o.goodEvidence
}

// stored is the row as reading it back from the ledger gives it: times to the millisecond.
func (r targetRow) stored() targetRow {
	r.st.StreakStart, r.st.GoodStart = fromMS(ms(r.st.StreakStart)), fromMS(ms(r.st.GoodStart))
	return r
}

// keepEvidence keeps the evidence of a probe that begins a failure streak or a recovery.
func (r *targetRow) keepEvidence(p Probe, prev incident.State) {
	if p.Evidence == nil {
		return
	}
	switch {
	case p.Failed && !prev.Open() && prev.FailStreak == 0:
		r.streakEvidence = encodeEvidence(p.Evidence)
	case !p.Failed && prev.Open() && prev.GoodStreak == 0:
		r.goodEvidence = encodeEvidence(p.Evidence)
	}
}

// NeedsEvidence reports whether the next probe's evidence would be kept: it begins a
// failure streak or a recovery, if it fails or succeeds respectively. Probes skip the cost
// of gathering evidence otherwise.
func NeedsEvidence(st incident.State, failed bool) bool {
	if failed {
		return !st.Open() && st.FailStreak == 0
	}
	return st.Open() && st.GoodStreak == 0
}

func encodeEvidence(e *Evidence) string {
	b, err := json.Marshal(e)
	if err != nil {
		return ""
	}
	return string(b)
}

func applyTransition(ctx context.Context, tx *sql.Tx, st *probeStmts, p Probe, sc Scoring, row *targetRow, tr incident.Transition, openID int64) error {
	switch {
	case tr.Opened != nil:
		o := tr.Opened
		if err := tx.QueryRowContext(ctx, `INSERT INTO incidents (target, vantage, started_at, confirmed_at,
			outcome, first_error, failed_probes, site, scored, merge_window_ms) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id`,
			p.Target, p.Vantage, ms(o.Start), ms(p.StartedAt), o.Outcome, o.Error, o.Failed, sc.Site, sc.Scored,
			sc.MergeWindow.Milliseconds()).Scan(&row.st.OpenID); err != nil {
			return err
		}
		if err := saveEvidence(ctx, tx, row.st.OpenID, EvidenceOpened, row.streakEvidence); err != nil {
			return err
		}
		row.streakEvidence = ""
		return chainOpened(ctx, tx, row.st.OpenID)
	case tr.FailedInIncident:
		_, err := st.failedInIncident.ExecContext(ctx, openID)
		return err
	case !tr.ClosedAt.IsZero():
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET ended_at = ?, end_cause = ?, end_confirmed_at = ? WHERE id = ?`,
			ms(tr.ClosedAt), EndRecovered, ms(p.StartedAt), openID); err != nil {
			return err
		}
		if err := saveEvidence(ctx, tx, openID, EvidenceClosed, row.goodEvidence); err != nil {
			return err
		}
		row.goodEvidence = ""
		return chainEnded(ctx, tx, openID)
	case tr.Risk != nil:
		r := tr.Risk
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO risk_events (target, vantage, started_at, ended_at, outcome,
			first_error, failed_probes) VALUES (?,?,?,?,?,?,?) RETURNING id`,
			p.Target, p.Vantage, ms(r.Start), ms(r.End), r.Outcome, r.Error, r.Failed).Scan(&id); err != nil {
			return err
		}
		row.streakEvidence = ""
		return chainRisk(ctx, tx, id)
	}
	return nil
}

// The roles of an incident's evidence.
const (
	EvidenceOpened = "opened" // the first failed probe: the incident's start
	EvidenceClosed = "closed" // the first good probe after it: the incident's end
)

func saveEvidence(ctx context.Context, tx *sql.Tx, incidentID int64, role, evidence string) error {
	if evidence == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_evidence VALUES (?,?,?) ON CONFLICT (incident_id, role)
		DO UPDATE SET evidence = excluded.evidence`, incidentID, role, evidence)
	return err
}

// watch extends the target's watch span with this probe, or begins a new one when the probe
// comes later than half an interval after the span's end (a probe was missed, or the
// monitor was down): the time in between is unknown.
func (r *targetRow) watch(ctx context.Context, st *probeStmts, p Probe) error {
	start := ms(p.StartedAt)
	end := ms(p.StartedAt.Add(max(p.Interval, p.Duration)))
	if r.spanID != 0 && start <= r.spanEnd+p.Interval.Milliseconds()/2 && start >= r.spanEnd-p.Interval.Milliseconds() {
		if end <= r.spanEnd {
			return nil
		}
		r.spanEnd = end
		_, err := st.extendSpan.ExecContext(ctx, end, r.spanID)
		return err
	}
	r.spanEnd = end
	return st.newSpan.QueryRowContext(ctx, p.Target, p.Vantage, start, end).Scan(&r.spanID)
}

func loadState(ctx context.Context, tx *sql.Tx, target, vantage string) (targetRow, error) {
	return scanState(tx.QueryRowContext(ctx, loadStateSQL, target, vantage))
}

func scanState(row *sql.Row) (targetRow, error) {
	var r targetRow
	var streakStart, goodStart int64
	var openID, spanID sql.NullInt64
	err := row.Scan(&r.st.FailStreak, &r.st.GoodStreak, &streakStart, &r.st.StreakOut, &r.st.StreakErr, &goodStart, &openID,
		&spanID, &r.spanEnd, &r.streakEvidence, &r.goodEvidence)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	r.st.StreakStart, r.st.GoodStart, r.st.OpenID, r.spanID = fromMS(streakStart), fromMS(goodStart), openID.Int64, spanID.Int64
	return r, err
}

func saveState(ctx context.Context, st *probeStmts, target, vantage string, r targetRow) error {
	s := r.st
	_, err := st.save.ExecContext(ctx, target, vantage, s.FailStreak, s.GoodStreak, ms(s.StreakStart), s.StreakOut, s.StreakErr,
		ms(s.GoodStart), nullID(s.OpenID), nullID(r.spanID), r.spanEnd, r.streakEvidence, r.goodEvidence)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// TargetState is a target's resumable incident state as watched from a vantage, for a probe
// that decides whether to gather evidence.
func (l *Ledger) TargetState(ctx context.Context, target, vantage string) (incident.State, error) {
	tx, err := l.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return incident.State{}, err
	}
	defer tx.Rollback()
	r, err := loadState(ctx, tx, target, vantage)
	return r.st, err
}

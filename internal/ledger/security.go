package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Security incidents and page baselines (docs/domain.md, "Defacement and intrusion").

// Sources and kinds of security incidents.
const (
	SecurityDetected = "detected" // a defacement the probes confirmed
	SecurityRecorded = "recorded" // recorded by the office

	SecurityDefacement = "defacement"
	SecurityIntrusion  = "intrusion" // found otherwise (on the sharing platform too)
	SecurityNotified   = "notified"  // the authorities notified a security incident
)

// SecurityKinds the office records.
var SecurityKinds = []string{SecurityIntrusion, SecurityNotified}

// Sign is one sign of defacement on a page, as deface.Sign.
type Sign struct {
	Rule     string `json:"rule"`
	Evidence string `json:"evidence"`
	Message  string `json:"message"`
}

// SecurityEvidence is what the probe that confirmed a defacement saw.
type SecurityEvidence struct {
	URL        string    `json:"url"`
	Vantage    string    `json:"vantage"`
	At         time.Time `json:"at"`         // the confirming probe
	FirstSeen  time.Time `json:"first_seen"` // the first probe of the streak that confirmed it
	PageSHA256 string    `json:"page_sha256"`
	Signs      []Sign    `json:"signs"`
}

// SecurityIncident is an intrusion, a defacement or a notified security incident.
type SecurityIncident struct {
	ID     int64
	Source string // SecurityDetected or SecurityRecorded
	Kind   string
	Target string // the page's target; "" for one the office recorded
	Site   string
	Scored bool     // the site is the assessed portal (always true for recorded ones)
	Rules  []string // the rules confirmed (detected)
	// OccurredOn is the day (Asia/Shanghai) it is dated: the confirmation's, or the date the
	// office gave.
	OccurredOn  string
	StartedAt   time.Time // the first probe showing the sign; the day's start when recorded
	ConfirmedAt time.Time // when it took effect in creditwatch: confirmed, or recorded
	EndedAt     time.Time // the first probe without any of its signs; zero while they last
	Ref         string    // the office's reference (a notice number)
	Note        string
	By          string
	Evidence    *SecurityEvidence
}

// Open reports whether a detected incident's signs are still on the page.
func (s SecurityIncident) Open() bool { return s.Source == SecurityDetected && s.EndedAt.IsZero() }

// securityEvent is what the chain keeps of a security incident when it is recorded.
type securityEvent struct {
	ID          int64  `json:"id"`
	Source      string `json:"source"`
	Kind        string `json:"kind"`
	Target      string `json:"target"`
	Site        string `json:"site"`
	Scored      bool   `json:"scored"`
	Rules       string `json:"rules"`
	OccurredOn  string `json:"occurred_on"`
	StartedAt   int64  `json:"started_at"`
	ConfirmedAt int64  `json:"confirmed_at"`
	Ref         string `json:"ref"`
	Note        string `json:"note"`
	By          string `json:"by"`
	Evidence    string `json:"evidence"`
}

type securityEndedEvent struct {
	ID      int64 `json:"id"`
	EndedAt int64 `json:"ended_at"`
}

func insertSecurity(ctx context.Context, tx *sql.Tx, s SecurityIncident) (int64, error) {
	ev := ""
	if s.Evidence != nil {
		b, err := json.Marshal(s.Evidence)
		if err != nil {
			return 0, err
		}
		ev = string(b)
	}
	e := securityEvent{Source: s.Source, Kind: s.Kind, Target: s.Target, Site: s.Site, Scored: s.Scored,
		Rules: strings.Join(s.Rules, ","), OccurredOn: s.OccurredOn, StartedAt: ms(s.StartedAt), ConfirmedAt: ms(s.ConfirmedAt),
		Ref: s.Ref, Note: s.Note, By: s.By, Evidence: ev}
	if err := tx.QueryRowContext(ctx, `INSERT INTO security_incidents (source, kind, target, site, scored, rules, occurred_on,
		started_at, confirmed_at, ref, note, by, evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		e.Source, e.Kind, e.Target, e.Site, e.Scored, e.Rules, e.OccurredOn, e.StartedAt, e.ConfirmedAt, e.Ref, e.Note, e.By,
		e.Evidence).Scan(&e.ID); err != nil {
		return 0, fmt.Errorf("recording a security incident: %w", err)
	}
	return e.ID, appendChain(ctx, tx, ChainSecurityIncident, ref(e.ID), s.ConfirmedAt, e)
}

// SecurityRecord is an incident the office records: an intrusion found otherwise, or one
// the authorities notified.
type SecurityRecord struct {
	Date time.Time // the day it occurred or was notified (Asia/Shanghai)
	Kind string    // SecurityIntrusion or SecurityNotified
	Ref  string
	Note string
	By   string
	At   time.Time // when it is recorded
}

// RecordSecurityIncident stores, chained, an incident the office records. It counts like a
// detected one, in the period of its date, from the moment it is recorded.
func (l *Ledger) RecordSecurityIncident(ctx context.Context, r SecurityRecord) (int64, error) {
	if !slices.Contains(SecurityKinds, r.Kind) {
		return 0, fmt.Errorf("kind %q is not one of %s", r.Kind, strings.Join(SecurityKinds, ", "))
	}
	if strings.TrimSpace(r.Ref) == "" || strings.TrimSpace(r.By) == "" {
		return 0, errors.New("a recorded security incident needs its reference and who records it")
	}
	day := clock.Day(r.Date)
	if day.After(clock.Day(r.At)) {
		return 0, fmt.Errorf("the date %s is after today", clock.Date(day))
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	id, err := insertSecurity(ctx, tx, SecurityIncident{Source: SecurityRecorded, Kind: r.Kind, Site: "", Scored: true,
		OccurredOn: clock.Date(day), StartedAt: day, ConfirmedAt: r.At, Ref: strings.TrimSpace(r.Ref), Note: strings.TrimSpace(r.Note),
		By: strings.TrimSpace(r.By)})
	if err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

const securityColumns = `id, source, kind, target, site, scored, rules, occurred_on, started_at, confirmed_at,
	COALESCE(ended_at, 0), ref, note, by, evidence`

func (l *Ledger) listSecurity(ctx context.Context, q string, args ...any) ([]SecurityIncident, error) {
	var out []SecurityIncident
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var s SecurityIncident
		var rules, ev string
		var start, conf, end int64
		if err := rows.Scan(&s.ID, &s.Source, &s.Kind, &s.Target, &s.Site, &s.Scored, &rules, &s.OccurredOn, &start, &conf, &end,
			&s.Ref, &s.Note, &s.By, &ev); err != nil {
			return err
		}
		s.StartedAt, s.ConfirmedAt, s.EndedAt = fromMS(start), fromMS(conf), fromMS(end)
		if rules != "" {
			s.Rules = strings.Split(rules, ",")
		}
		if ev != "" {
			s.Evidence = &SecurityEvidence{}
			if err := json.Unmarshal([]byte(ev), s.Evidence); err != nil {
				return fmt.Errorf("evidence of security incident %d: %w", s.ID, err)
			}
		}
		out = append(out, s)
		return nil
	}, `SELECT `+securityColumns+` FROM security_incidents `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing security incidents: %w", err)
	}
	return out, nil
}

// SecurityIncidentsAsOf lists the security incidents as they stood just before at: recorded
// or confirmed before it, an end recorded later not known yet. It keeps those that matter
// to the period from since: confirmed in it, dated in it, or still going on in it. Oldest
// first.
func (l *Ledger) SecurityIncidentsAsOf(ctx context.Context, at, since time.Time) ([]SecurityIncident, error) {
	out, err := l.listSecurity(ctx, `WHERE confirmed_at < ? AND (confirmed_at >= ? OR occurred_on >= ? OR ended_at IS NULL
		OR ended_at >= ?) ORDER BY confirmed_at, id`, ms(at), ms(since), clock.Date(since), ms(since))
	for i := range out {
		if !out[i].EndedAt.Before(at) {
			out[i].EndedAt = time.Time{}
		}
	}
	return out, err
}

// SecurityIncident returns one security incident, nil if there is none with that id.
func (l *Ledger) SecurityIncident(ctx context.Context, id int64) (*SecurityIncident, error) {
	out, err := l.listSecurity(ctx, `WHERE id = ?`, id)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// CountSecurityIncidents counts every security incident ever recorded.
func (l *Ledger) CountSecurityIncidents(ctx context.Context) (int, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM security_incidents`).Scan(&n)
	return n, err
}

// Baseline reasons.
const (
	BaselineFirstSeen = "first_seen" // the first page creditwatch saw of the target
	BaselineAccepted  = "accepted"   // accepted by the office, after a redesign
)

// Baseline is a page the office accepted (or the first page seen) as a target's baseline:
// its title and structure, as deface.Baseline JSON.
type Baseline struct {
	ID         int64
	Target     string
	AcceptedAt time.Time
	By         string
	Reason     string
	PageSHA256 string
	PageSeenAt time.Time
	Title      string
	JSON       string
}

type baselineEvent struct {
	ID         int64  `json:"id"`
	Target     string `json:"target"`
	AcceptedAt int64  `json:"accepted_at"`
	By         string `json:"by"`
	Reason     string `json:"reason"`
	PageSHA256 string `json:"page_sha256"`
	PageSeenAt int64  `json:"page_seen_at"`
	Title      string `json:"title"`
	Baseline   string `json:"baseline"`
}

func insertBaseline(ctx context.Context, tx *sql.Tx, b Baseline) (int64, error) {
	e := baselineEvent{Target: b.Target, AcceptedAt: ms(b.AcceptedAt), By: b.By, Reason: b.Reason, PageSHA256: b.PageSHA256,
		PageSeenAt: ms(b.PageSeenAt), Title: b.Title, Baseline: b.JSON}
	if err := tx.QueryRowContext(ctx, `INSERT INTO baselines (target, accepted_at, by, reason, page_sha256, page_seen_at, title,
		baseline) VALUES (?,?,?,?,?,?,?,?) RETURNING id`, e.Target, e.AcceptedAt, e.By, e.Reason, e.PageSHA256, e.PageSeenAt,
		e.Title, e.Baseline).Scan(&e.ID); err != nil {
		return 0, fmt.Errorf("storing the baseline of %s: %w", b.Target, err)
	}
	return e.ID, appendChain(ctx, tx, ChainBaseline, ref(e.ID), b.AcceptedAt, e)
}

// BaselineID is the id of a target's baseline in force, 0 when there is none: a cheap read
// for a probe that loads the baseline only when it changed.
func (l *Ledger) BaselineID(ctx context.Context, target string) (int64, error) {
	var id int64
	err := l.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM baselines WHERE target = ?`, target).Scan(&id)
	return id, err
}

// LoadBaseline returns one baseline.
func (l *Ledger) LoadBaseline(ctx context.Context, id int64) (*Baseline, error) {
	out, err := l.baselines(ctx, true, `WHERE id = ?`, id)
	if err != nil || len(out) == 0 {
		return nil, errors.Join(err, fmt.Errorf("no baseline %d", id))
	}
	return &out[0], nil
}

// Baselines lists the baselines accepted before at (every one if at is zero), oldest first.
func (l *Ledger) Baselines(ctx context.Context, at time.Time) ([]Baseline, error) {
	bound := int64(1<<63 - 1)
	if !at.IsZero() {
		bound = ms(at)
	}
	return l.baselines(ctx, true, `WHERE accepted_at < ? ORDER BY accepted_at, id`, bound)
}

// Acceptances lists the baselines the office accepted (BaselineAccepted) before at, oldest
// first, without their page structure (JSON is empty): what a score needs to tell an
// accepted redesign, read at every rescore, where the first-seen baselines of thousands of
// pages and their structures would be read for nothing.
func (l *Ledger) Acceptances(ctx context.Context, at time.Time) ([]Baseline, error) {
	return l.baselines(ctx, false, `WHERE reason = ? AND accepted_at < ? ORDER BY accepted_at, id`, BaselineAccepted, ms(at))
}

// baselines reads the baselines selected by where, with their page structure or not.
func (l *Ledger) baselines(ctx context.Context, withStructure bool, where string, args ...any) ([]Baseline, error) {
	structure := "baseline"
	if !withStructure {
		structure = "''"
	}
	var out []Baseline
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var b Baseline
		var at, seen int64
		if err := rows.Scan(&b.ID, &b.Target, &at, &b.By, &b.Reason, &b.PageSHA256, &seen, &b.Title, &b.JSON); err != nil {
			return err
		}
		b.AcceptedAt, b.PageSeenAt = fromMS(at), fromMS(seen)
		out = append(out, b)
		return nil
	}, `SELECT id, target, accepted_at, by, reason, page_sha256, page_seen_at, title, `+structure+` FROM baselines `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading baselines: %w", err)
	}
	return out, nil
}

// ErrNoPageSeen: the probe has not yet seen a page of the target to accept.
var ErrNoPageSeen = errors.New("no page of this target has been seen yet")

// AcceptLatestPage makes the latest page the probe saw of a target its new baseline,
// recorded with who and when, chained.
func (l *Ledger) AcceptLatestPage(ctx context.Context, target, by string, at time.Time) (*Baseline, error) {
	if strings.TrimSpace(by) == "" {
		return nil, errors.New("accepting a baseline needs who accepts it")
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	b := Baseline{Target: target, AcceptedAt: at, By: strings.TrimSpace(by), Reason: BaselineAccepted}
	var seen int64
	err = tx.QueryRowContext(ctx, `SELECT page_sha256, page_seen_at, page_title, page_baseline FROM content_state
		WHERE target = ? AND page_baseline != ''`, target).Scan(&b.PageSHA256, &seen, &b.Title, &b.JSON)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", target, ErrNoPageSeen)
	}
	if err != nil {
		return nil, err
	}
	b.PageSeenAt = fromMS(seen)
	if b.ID, err = insertBaseline(ctx, tx, b); err != nil {
		return nil, err
	}
	return &b, tx.Commit()
}

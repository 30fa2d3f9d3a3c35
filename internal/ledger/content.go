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

// What the portal shows (docs/domain.md, "Enterprise credit report" and "Defacement and
// intrusion"): the checks of enterprise credit reports, security incidents (defacements
// the probes confirmed and incidents the office records), the page baselines the office
// accepted, each target's content state, and the freshness of list pages.

// Results of a credit report check.
const (
	ReportConforming    = "conforming"
	ReportNonconforming = "nonconforming"
	ReportFetchError    = "fetch_error" // not fetched or not readable: says nothing of the content
)

// ReportResults lists the results, for metrics that want every label value present.
var ReportResults = []string{ReportConforming, ReportNonconforming, ReportFetchError}

// Reason is one way a credit report does not conform.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ReportCheck is one check of one enterprise credit report.
type ReportCheck struct {
	ID         int64
	Code       string
	Name       string // the registered name creditwatch held for the code; "" when unknown
	URL        string
	Sampled    bool      // drawn by the daily sample, not one of the fixed codes
	CheckedAt  time.Time // the start of the fetch: when the check took effect
	Result     string
	Edition    string
	Format     string
	Reasons    []Reason
	ErrorClass string // a fetch error's class (timeout, http_status, pdf_truncated, …)
	Error      string
	BodySHA256 string
	Found      json.RawMessage // what the check read from the report
}

// reportEvent is what the chain keeps of a non-conforming check: the evidence of a deduction.
type nonconformingEvent struct {
	ID         int64    `json:"id"`
	Code       string   `json:"code"`
	URL        string   `json:"url"`
	CheckedAt  int64    `json:"checked_at"`
	Edition    string   `json:"edition"`
	Format     string   `json:"format"`
	Reasons    []Reason `json:"reasons"`
	BodySHA256 string   `json:"body_sha256"`
}

// The kinds of chained content events.
const (
	ChainReportNonconforming = "report_nonconforming"
	ChainSecurityIncident    = "security_incident"
	ChainSecurityEnded       = "security_incident_ended"
	ChainBaseline            = "baseline_accepted"
)

// RecordReportCheck stores a check; a non-conforming one is chained. It reports whether the
// check is the code's first non-conforming one since periodStart: the one that counts.
func (l *Ledger) RecordReportCheck(ctx context.Context, c ReportCheck, periodStart time.Time) (bool, error) {
	if !slices.Contains(ReportResults, c.Result) {
		return false, fmt.Errorf("report check result %q is not one of %s", c.Result, strings.Join(ReportResults, ", "))
	}
	reasons, err := json.Marshal(nonNil(c.Reasons))
	if err != nil {
		return false, err
	}
	found := string(c.Found)
	if found == "" {
		found = "{}"
	}
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `INSERT INTO report_checks (code, name, url, sampled, checked_at, result, edition, format,
		reasons, error_class, error, body_sha256, found) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		c.Code, c.Name, c.URL, c.Sampled, ms(c.CheckedAt), c.Result, c.Edition, c.Format, string(reasons), c.ErrorClass,
		c.Error, c.BodySHA256, found).Scan(&c.ID); err != nil {
		return false, fmt.Errorf("recording the report check of %s: %w", c.Code, err)
	}
	first := false
	if c.Result == ReportNonconforming {
		var earlier int
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM report_checks WHERE code = ? AND result = ?
			AND checked_at >= ? AND id < ?)`, c.Code, ReportNonconforming, ms(periodStart), c.ID).Scan(&earlier); err != nil {
			return false, err
		}
		first = earlier == 0
		e := nonconformingEvent{ID: c.ID, Code: c.Code, URL: c.URL, CheckedAt: ms(c.CheckedAt), Edition: c.Edition, Format: c.Format,
			Reasons: nonNil(c.Reasons), BodySHA256: c.BodySHA256}
		if err := appendChain(ctx, tx, ChainReportNonconforming, ref(c.ID), c.CheckedAt, e); err != nil {
			return false, err
		}
	}
	return first, tx.Commit()
}

func nonNil(rs []Reason) []Reason {
	if rs == nil {
		return []Reason{}
	}
	return rs
}

// ReportTotals counts every check ever made by result, for counters that continue across
// restarts.
func (l *Ledger) ReportTotals(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return err
		}
		out[r] = n
		return nil
	}, `SELECT result, COUNT(*) FROM report_checks GROUP BY result`)
	if err != nil {
		return nil, fmt.Errorf("counting report checks: %w", err)
	}
	return out, nil
}

// CountNonconforming counts the non-conforming reports ever counted: each code once per
// assessment period in which a check found it non-conforming; periodStart gives the start of
// the period that contains an instant.
func (l *Ledger) CountNonconforming(ctx context.Context, periodStart func(time.Time) time.Time) (int, error) {
	seen := map[string]bool{}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var code string
		var at int64
		if err := rows.Scan(&code, &at); err != nil {
			return err
		}
		seen[code+"\x00"+clock.Date(periodStart(fromMS(at)))] = true
		return nil
	}, `SELECT code, checked_at FROM report_checks WHERE result = ?`, ReportNonconforming)
	if err != nil {
		return 0, fmt.Errorf("counting non-conforming reports: %w", err)
	}
	return len(seen), nil
}

// ReportFigures are the credit report checks of a period as of an instant.
type ReportFigures struct {
	Checks       map[string]int // checks by result
	Codes        map[string]int // distinct codes by result
	FetchErrors  map[string]int // fetch errors by class
	CodesChecked int            // distinct codes whose report was read (conforming or not)
	// Nonconforming are the first non-conforming check of each code in the period, by code.
	Nonconforming []ReportCheck
	// LastNonconforming is, per code, how many of its checks in the period were non-conforming.
	NonconformingChecks map[string]int
}

// ReportFiguresAsOf adds up the checks made in [from, at).
func (l *Ledger) ReportFiguresAsOf(ctx context.Context, from, at time.Time) (*ReportFigures, error) {
	f := &ReportFigures{Checks: map[string]int{}, Codes: map[string]int{}, FetchErrors: map[string]int{}, NonconformingChecks: map[string]int{}}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var r string
		var n, codes int
		if err := rows.Scan(&r, &n, &codes); err != nil {
			return err
		}
		f.Checks[r], f.Codes[r] = n, codes
		return nil
	}, `SELECT result, COUNT(*), COUNT(DISTINCT code) FROM report_checks WHERE checked_at >= ? AND checked_at < ? GROUP BY result`,
		ms(from), ms(at))
	if err != nil {
		return nil, fmt.Errorf("adding up report checks: %w", err)
	}
	q := []struct {
		query string
		into  func(string, int)
	}{
		{`SELECT error_class, COUNT(*) FROM report_checks WHERE checked_at >= ? AND checked_at < ? AND result = 'fetch_error' GROUP BY error_class`,
			func(k string, n int) { f.FetchErrors[k] = n }},
		{`SELECT '', COUNT(DISTINCT code) FROM report_checks WHERE checked_at >= ? AND checked_at < ? AND result != 'fetch_error'`,
			func(_ string, n int) { f.CodesChecked = n }},
		{`SELECT code, COUNT(*) FROM report_checks WHERE checked_at >= ? AND checked_at < ? AND result = 'nonconforming' GROUP BY code`,
			func(k string, n int) { f.NonconformingChecks[k] = n }},
	}
	for _, s := range q {
		err := l.scanRows(ctx, func(rows *sql.Rows) error {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			s.into(k, n)
			return nil
		}, s.query, ms(from), ms(at))
		if err != nil {
			return nil, fmt.Errorf("adding up report checks: %w", err)
		}
	}
	f.Nonconforming, err = l.reportChecks(ctx, `WHERE id IN (SELECT MIN(id) FROM report_checks WHERE checked_at >= ? AND checked_at < ?
		AND result = 'nonconforming' GROUP BY code) ORDER BY checked_at, id`, ms(from), ms(at))
	return f, err
}

// ReportChecks lists the checks made in [from, to), oldest first, at most limit (0: all).
func (l *Ledger) ReportChecks(ctx context.Context, from, to time.Time, limit int) ([]ReportCheck, error) {
	q := `WHERE checked_at >= ? AND checked_at < ? ORDER BY checked_at, id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return l.reportChecks(ctx, q, ms(from), ms(to))
}

func (l *Ledger) reportChecks(ctx context.Context, where string, args ...any) ([]ReportCheck, error) {
	var out []ReportCheck
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var c ReportCheck
		var at int64
		var reasons, found string
		if err := rows.Scan(&c.ID, &c.Code, &c.Name, &c.URL, &c.Sampled, &at, &c.Result, &c.Edition, &c.Format, &reasons,
			&c.ErrorClass, &c.Error, &c.BodySHA256, &found); err != nil {
			return err
		}
		c.CheckedAt, c.Found = fromMS(at), json.RawMessage(found)
		if err := json.Unmarshal([]byte(reasons), &c.Reasons); err != nil {
			return fmt.Errorf("report check %d: %w", c.ID, err)
		}
		out = append(out, c)
		return nil
	}, `SELECT id, code, name, url, sampled, checked_at, result, edition, format, reasons, error_class, error, body_sha256, found
		FROM report_checks `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing report checks: %w", err)
	}
	return out, nil
}

// CheckedSince lists the codes checked since an instant, sampled or fixed as asked: what
// the daily sample has done today.
func (l *Ledger) CheckedSince(ctx context.Context, since time.Time, sampled bool) (map[string]bool, error) {
	out := map[string]bool{}
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var code string
		if err := rows.Scan(&code); err != nil {
			return err
		}
		out[code] = true
		return nil
	}, `SELECT DISTINCT code FROM report_checks WHERE checked_at >= ? AND sampled = ?`, ms(since), sampled)
	if err != nil {
		return nil, fmt.Errorf("listing codes checked today: %w", err)
	}
	return out, nil
}

// SubjectCode is a subject code of the publicity records, with its registered name when the
// records agree on one.
type SubjectCode struct {
	Code, Name string
}

// SubjectCodes lists the valid subject codes of the current publicity records, sorted, each
// with the name its records give it ("" when they give several).
func (l *Ledger) SubjectCodes(ctx context.Context) ([]SubjectCode, error) {
	var out []SubjectCode
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var c SubjectCode
		var names int
		if err := rows.Scan(&c.Code, &c.Name, &names); err != nil {
			return err
		}
		if names > 1 {
			c.Name = ""
		}
		out = append(out, c)
		return nil
	}, `SELECT subject_code, MIN(subject_name), COUNT(DISTINCT subject_name) FROM publicity_records
		WHERE superseded_at IS NULL AND subject_code != '' AND code_valid = 1 GROUP BY subject_code ORDER BY subject_code`)
	if err != nil {
		return nil, fmt.Errorf("listing subject codes: %w", err)
	}
	return out, nil
}

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
	err := l.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM baselines WHERE target = ?`, target).Scan(&id)
	return id, err
}

// LoadBaseline returns one baseline.
func (l *Ledger) LoadBaseline(ctx context.Context, id int64) (*Baseline, error) {
	out, err := l.baselines(ctx, `WHERE id = ?`, id)
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
	return l.baselines(ctx, `WHERE accepted_at < ? ORDER BY accepted_at, id`, bound)
}

func (l *Ledger) baselines(ctx context.Context, where string, args ...any) ([]Baseline, error) {
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
	}, `SELECT id, target, accepted_at, by, reason, page_sha256, page_seen_at, title, baseline FROM baselines `+where, args...)
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

// PageCandidate is the latest page a probe saw, as a baseline the office may accept.
type PageCandidate struct {
	SHA256 string
	SeenAt time.Time
	Title  string
	JSON   string // deface.Baseline
}

// ContentState is a target's content state: the collector's own JSON (confirmation
// streaks), and the latest page seen.
type ContentState struct {
	State string
	Page  *PageCandidate
}

// LoadContentState reads a target's content state; zero when there is none.
func (l *Ledger) LoadContentState(ctx context.Context, target string) (ContentState, error) {
	var s ContentState
	p := &PageCandidate{}
	var seen int64
	err := l.r.QueryRowContext(ctx, `SELECT state, page_sha256, page_seen_at, page_title, page_baseline FROM content_state
		WHERE target = ?`, target).Scan(&s.State, &p.SHA256, &seen, &p.Title, &p.JSON)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("reading the content state of %s: %w", target, err)
	}
	if p.JSON != "" {
		p.SeenAt, s.Page = fromMS(seen), p
	}
	return s, nil
}

// ContentObservation is what one probe's defacement check changed.
type ContentObservation struct {
	Target, Site, Vantage, URL string
	Scored                     bool
	At                         time.Time // the probe's start
	PageSHA256                 string
	// State is the collector's new state JSON (confirmation streaks); "" leaves it.
	State string
	// Confirmed are the signs this probe confirmed: they open a security incident, dated
	// from FirstSeen, the start of their streak.
	Confirmed []Sign
	FirstSeen time.Time
	// StillConfirmed are the rules confirmed after this probe: an open incident none of
	// whose rules is among them ends at this probe.
	StillConfirmed []string
	// Page, when set, is the page seen, now the candidate for baseline accept.
	Page *PageCandidate
	// FirstBaseline, when set, becomes the target's first baseline (the first page seen).
	FirstBaseline *PageCandidate
}

// ContentChange is what RecordContent did.
type ContentChange struct {
	Opened   *SecurityIncident
	Ended    []int64
	Baseline int64 // the id of a first baseline stored, 0 if none
}

// RecordContent writes what a probe's defacement check changed, in one transaction: the
// target's state, the security incident its newly confirmed signs open, the ends of those
// whose signs are gone, the page as the candidate baseline.
func (l *Ledger) RecordContent(ctx context.Context, o ContentObservation) (ContentChange, error) {
	var ch ContentChange
	tx, err := l.w.BeginTx(ctx, nil)
	if err != nil {
		return ch, err
	}
	defer tx.Rollback()
	if b := o.FirstBaseline; b != nil {
		if ch.Baseline, err = insertBaseline(ctx, tx, Baseline{Target: o.Target, AcceptedAt: o.At, Reason: BaselineFirstSeen,
			PageSHA256: b.SHA256, PageSeenAt: b.SeenAt, Title: b.Title, JSON: b.JSON}); err != nil {
			return ch, err
		}
	}
	open, err := openSecurity(ctx, tx, o.Target)
	if err != nil {
		return ch, err
	}
	for id, rules := range open {
		if !slices.ContainsFunc(rules, func(r string) bool { return slices.Contains(o.StillConfirmed, r) }) {
			if _, err := tx.ExecContext(ctx, `UPDATE security_incidents SET ended_at = ? WHERE id = ?`, ms(o.At), id); err != nil {
				return ch, err
			}
			if err := appendChain(ctx, tx, ChainSecurityEnded, ref(id), o.At, securityEndedEvent{ID: id, EndedAt: ms(o.At)}); err != nil {
				return ch, err
			}
			ch.Ended = append(ch.Ended, id)
		}
	}
	slices.Sort(ch.Ended)
	if len(o.Confirmed) > 0 {
		var rules []string
		for _, s := range o.Confirmed {
			if !slices.Contains(rules, s.Rule) {
				rules = append(rules, s.Rule)
			}
		}
		s := SecurityIncident{Source: SecurityDetected, Kind: SecurityDefacement, Target: o.Target, Site: o.Site, Scored: o.Scored,
			Rules: rules, OccurredOn: clock.Date(o.At), StartedAt: o.FirstSeen, ConfirmedAt: o.At,
			Evidence: &SecurityEvidence{URL: o.URL, Vantage: o.Vantage, At: o.At, FirstSeen: o.FirstSeen, PageSHA256: o.PageSHA256, Signs: o.Confirmed}}
		if s.ID, err = insertSecurity(ctx, tx, s); err != nil {
			return ch, err
		}
		ch.Opened = &s
	}
	if o.State != "" || o.Page != nil {
		if err := saveContentState(ctx, tx, o); err != nil {
			return ch, fmt.Errorf("saving the content state of %s: %w", o.Target, err)
		}
	}
	return ch, tx.Commit()
}

// stopContent ends the open security incidents of a target no longer watched and forgets
// its content state (its baselines are kept).
func stopContent(ctx context.Context, tx *sql.Tx, target string, at time.Time) error {
	open, err := openSecurity(ctx, tx, target)
	if err != nil {
		return err
	}
	for id := range open {
		if _, err := tx.ExecContext(ctx, `UPDATE security_incidents SET ended_at = MAX(confirmed_at, ?) WHERE id = ?`, ms(at), id); err != nil {
			return err
		}
		var end int64
		if err := tx.QueryRowContext(ctx, `SELECT ended_at FROM security_incidents WHERE id = ?`, id).Scan(&end); err != nil {
			return err
		}
		if err := appendChain(ctx, tx, ChainSecurityEnded, ref(id), fromMS(end), securityEndedEvent{ID: id, EndedAt: end}); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM content_state WHERE target = ?`, target); err != nil {
		return fmt.Errorf("forgetting the content state of %s: %w", target, err)
	}
	return nil
}

func openSecurity(ctx context.Context, tx *sql.Tx, target string) (map[int64][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, rules FROM security_incidents WHERE source = ? AND target = ? AND ended_at IS NULL`,
		SecurityDetected, target)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id int64
		var rules string
		if err := rows.Scan(&id, &rules); err != nil {
			return nil, err
		}
		out[id] = strings.Split(rules, ",")
	}
	return out, rows.Err()
}

func saveContentState(ctx context.Context, tx *sql.Tx, o ContentObservation) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO content_state (target, state) VALUES (?, '{}') ON CONFLICT (target) DO NOTHING`,
		o.Target); err != nil {
		return err
	}
	if o.State != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE content_state SET state = ? WHERE target = ?`, o.State, o.Target); err != nil {
			return err
		}
	}
	if p := o.Page; p != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE content_state SET page_sha256 = ?, page_seen_at = ?, page_title = ?,
			page_baseline = ? WHERE target = ?`, p.SHA256, ms(p.SeenAt), p.Title, p.JSON, o.Target); err != nil {
			return err
		}
	}
	return nil
}

// Freshness is what a list page's newest item date was from an instant on.
type Freshness struct {
	Target         string
	CheckedAt      time.Time
	NewestOn       string // YYYY-MM-DD; "" when the page shows no date
	MaxAgeWorkdays int    // the limit configured then
}

// RecordFreshness stores a list page's newest item date when it changed.
func (l *Ledger) RecordFreshness(ctx context.Context, f Freshness) error {
	_, err := l.w.ExecContext(ctx, `INSERT INTO freshness (target, checked_at, newest_on, max_age_workdays) VALUES (?,?,?,?)`,
		f.Target, ms(f.CheckedAt), f.NewestOn, f.MaxAgeWorkdays)
	if err != nil {
		return fmt.Errorf("recording the freshness of %s: %w", f.Target, err)
	}
	return nil
}

// FreshnessAsOf returns each list page's latest freshness known just before at.
func (l *Ledger) FreshnessAsOf(ctx context.Context, at time.Time) ([]Freshness, error) {
	var out []Freshness
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var f Freshness
		var checked int64
		if err := rows.Scan(&f.Target, &checked, &f.NewestOn, &f.MaxAgeWorkdays); err != nil {
			return err
		}
		f.CheckedAt = fromMS(checked)
		out = append(out, f)
		return nil
	}, `SELECT target, checked_at, newest_on, max_age_workdays FROM freshness WHERE id IN
		(SELECT MAX(id) FROM freshness WHERE checked_at < ? GROUP BY target) ORDER BY target`, ms(at))
	if err != nil {
		return nil, fmt.Errorf("reading list page freshness: %w", err)
	}
	return out, nil
}

// ProbedOK reports whether a probe answered well in [from, to): a page was fetched, and its
// content checked, in that time.
func (l *Ledger) ProbedOK(ctx context.Context, from, to time.Time) (bool, error) {
	var n int
	err := l.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM probes WHERE started_at >= ? AND started_at < ? AND outcome = 'ok')`,
		ms(from), ms(to)).Scan(&n)
	return n == 1, err
}

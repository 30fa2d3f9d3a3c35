package ledger

import (
	"context"
	"database/sql"
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
	return l.probed(ctx, from, to, "ok")
}

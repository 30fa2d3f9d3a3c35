package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// The kinds of chained events. Every row that is evidence (incidents, risk events, frozen
// reports, annotations) is written together with an event in the chain, whose hash covers
// the event and the hash of the event before it: an edit or a deletion made behind
// creditwatch's back breaks a link, or leaves a row that its event no longer describes.
const (
	ChainIncidentOpened = "incident_opened"
	ChainIncidentEnded  = "incident_ended"
	ChainRiskEvent      = "risk_event"
	ChainReportFrozen   = "report_frozen"
	ChainAnnotation     = "annotation"
)

// chainGenesis is the previous hash of the first event.
const chainGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainHash is the hash of an event: SHA-256 over the previous hash and the event's fields,
// one per line.
func chainHash(prev, kind, ref string, at int64, content string) string {
	h := sha256.New()
	for _, part := range []string{prev, kind, ref, strconv.FormatInt(at, 10), content} {
		h.Write([]byte(part))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appendChain writes an event after the chain's last one, inside the caller's transaction
// (the writer is single, so the last hash read is the last one).
func appendChain(ctx context.Context, tx *sql.Tx, kind, ref string, at time.Time, content any) error {
	body, err := json.Marshal(content)
	if err != nil {
		return err
	}
	prev := chainGenesis
	err = tx.QueryRowContext(ctx, `SELECT hash FROM chain ORDER BY seq DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the chain's head: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO chain (kind, ref, at, content, prev_hash, hash) VALUES (?,?,?,?,?,?)`,
		kind, ref, ms(at), string(body), prev, chainHash(prev, kind, ref, ms(at), string(body)))
	if err != nil {
		return fmt.Errorf("chaining %s %s: %w", kind, ref, err)
	}
	return nil
}

// openedEvent is what the chain keeps of an incident when it is confirmed.
type openedEvent struct {
	ID          int64  `json:"id"`
	Target      string `json:"target"`
	Vantage     string `json:"vantage"`
	Site        string `json:"site"`
	Scored      bool   `json:"scored"`
	MergeWindow int64  `json:"merge_window_ms"`
	StartedAt   int64  `json:"started_at"`
	ConfirmedAt int64  `json:"confirmed_at"`
	Outcome     string `json:"outcome"`
	FirstError  string `json:"first_error"`
}

// endedEvent is what the chain keeps of an incident when it ends.
type endedEvent struct {
	ID             int64  `json:"id"`
	EndedAt        int64  `json:"ended_at"`
	EndConfirmedAt int64  `json:"end_confirmed_at"`
	EndCause       string `json:"end_cause"`
	FailedProbes   int    `json:"failed_probes"`
}

// riskEventContent is what the chain keeps of a risk event.
type riskEventContent struct {
	ID           int64  `json:"id"`
	Target       string `json:"target"`
	Vantage      string `json:"vantage"`
	StartedAt    int64  `json:"started_at"`
	EndedAt      int64  `json:"ended_at"`
	Outcome      string `json:"outcome"`
	FirstError   string `json:"first_error"`
	FailedProbes int    `json:"failed_probes"`
}

// reportEvent is what the chain keeps of a frozen report version.
type reportEvent struct {
	Month    string `json:"month"`
	Version  int    `json:"version"`
	Digest   string `json:"digest"`
	Meta     string `json:"meta"`
	FrozenAt int64  `json:"frozen_at"`
	Reason   string `json:"reason"`
}

// annotationEvent is what the chain keeps of an annotation.
type annotationEvent struct {
	ID         int64  `json:"id"`
	IncidentID int64  `json:"incident_id"`
	Cause      string `json:"cause"`
	Note       string `json:"note"`
	By         string `json:"by"`
	At         int64  `json:"at"`
}

func ref(id int64) string { return strconv.FormatInt(id, 10) }

func chainOpened(ctx context.Context, tx *sql.Tx, id int64) error {
	var e openedEvent
	err := tx.QueryRowContext(ctx, `SELECT id, target, vantage, site, scored, merge_window_ms, started_at, confirmed_at,
		outcome, first_error FROM incidents WHERE id = ?`, id).Scan(&e.ID, &e.Target, &e.Vantage, &e.Site, &e.Scored,
		&e.MergeWindow, &e.StartedAt, &e.ConfirmedAt, &e.Outcome, &e.FirstError)
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, ChainIncidentOpened, ref(id), fromMS(e.ConfirmedAt), e)
}

func chainEnded(ctx context.Context, tx *sql.Tx, id int64) error {
	var e endedEvent
	err := tx.QueryRowContext(ctx, `SELECT id, ended_at, end_confirmed_at, end_cause, failed_probes FROM incidents
		WHERE id = ?`, id).Scan(&e.ID, &e.EndedAt, &e.EndConfirmedAt, &e.EndCause, &e.FailedProbes)
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, ChainIncidentEnded, ref(id), fromMS(e.EndConfirmedAt), e)
}

func chainRisk(ctx context.Context, tx *sql.Tx, id int64) error {
	var e riskEventContent
	err := tx.QueryRowContext(ctx, `SELECT id, target, vantage, started_at, ended_at, outcome, first_error, failed_probes
		FROM risk_events WHERE id = ?`, id).Scan(&e.ID, &e.Target, &e.Vantage, &e.StartedAt, &e.EndedAt, &e.Outcome,
		&e.FirstError, &e.FailedProbes)
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, ChainRiskEvent, ref(id), fromMS(e.EndedAt), e)
}

// backfillEvidence prepares a ledger written before schema 10: it builds watch spans from
// the stored probes (a probe vouches for its target until the next one, when that comes
// within 1.5 times the target's usual interval), and chains the incidents, risk events and
// frozen reports already recorded, in the order they happened.
func backfillEvidence(ctx context.Context, tx *sql.Tx) error {
	if err := backfillSpans(ctx, tx); err != nil {
		return err
	}
	type ev struct {
		at   int64
		kind string
		ref  string
		do   func(context.Context, *sql.Tx) error
	}
	var evs []ev
	add := func(q, kind string, do func(context.Context, *sql.Tx, int64) error) error {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			e := ev{kind: kind}
			if err := rows.Scan(&id, &e.at); err != nil {
				return err
			}
			e.ref = strconv.FormatInt(id, 10)
			e.do = func(ctx context.Context, tx *sql.Tx) error { return do(ctx, tx, id) }
			evs = append(evs, e)
		}
		return rows.Err()
	}
	// Frozen reports are named by their key (month, version), the same on every engine.
	addReports := func() error {
		rows, err := tx.QueryContext(ctx, `SELECT month, version, frozen_at FROM report_versions ORDER BY frozen_at, month, version`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var month string
			var version int
			e := ev{kind: ChainReportFrozen}
			if err := rows.Scan(&month, &version, &e.at); err != nil {
				return err
			}
			e.ref = month + "/" + strconv.Itoa(version)
			e.do = func(ctx context.Context, tx *sql.Tx) error { return chainReportRow(ctx, tx, month, version) }
			evs = append(evs, e)
		}
		return rows.Err()
	}
	if err := errors.Join(
		add(`SELECT id, confirmed_at FROM incidents`, ChainIncidentOpened, chainOpened),
		add(`SELECT id, end_confirmed_at FROM incidents WHERE ended_at IS NOT NULL`, ChainIncidentEnded, chainEnded),
		add(`SELECT id, ended_at FROM risk_events`, ChainRiskEvent, chainRisk),
		addReports(),
	); err != nil {
		return err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	for _, e := range evs {
		if err := e.do(ctx, tx); err != nil {
			return fmt.Errorf("chaining %s %s: %w", e.kind, e.ref, err)
		}
	}
	return nil
}

func chainReportRow(ctx context.Context, tx *sql.Tx, month string, version int) error {
	var e reportEvent
	err := tx.QueryRowContext(ctx, `SELECT month, version, digest, meta, frozen_at, reason FROM report_versions
		WHERE month = ? AND version = ?`, month, version).Scan(&e.Month, &e.Version, &e.Digest, &e.Meta, &e.FrozenAt, &e.Reason)
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, ChainReportFrozen, e.Month+"/"+strconv.Itoa(e.Version), fromMS(e.FrozenAt), e)
}

// backfillSpans builds the watch spans of stored probes, target by target.
func backfillSpans(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT target, vantage, started_at FROM probes ORDER BY target, vantage, started_at`)
	if err != nil {
		return err
	}
	var spans []watchSpan
	var cur *watchSpan
	var starts []int64
	flush := func() {
		if cur == nil {
			return
		}
		spans = append(spans, spansOf(cur.target, cur.vantage, starts)...)
		starts = starts[:0]
	}
	for rows.Next() {
		var t, v string
		var at int64
		if err := rows.Scan(&t, &v, &at); err != nil {
			rows.Close()
			return err
		}
		if cur == nil || cur.target != t || cur.vantage != v {
			flush()
			cur = &watchSpan{target: t, vantage: v}
		}
		starts = append(starts, at)
	}
	flush()
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO watch_spans (target, vantage, started_at, ended_at) VALUES (?,?,?,?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, s := range spans {
		if _, err := st.ExecContext(ctx, s.target, s.vantage, s.from, s.to); err != nil {
			return err
		}
	}
	return nil
}

type watchSpan struct {
	target, vantage string
	from, to        int64
}

// spansOf groups a target's probe starts (sorted, ms) into watch spans: a probe vouches for
// the usual interval (the median gap), and one coming later than 1.5 of them begins a new span.
func spansOf(target, vantage string, starts []int64) []watchSpan {
	if len(starts) == 0 {
		return nil
	}
	gaps := make([]int64, 0, len(starts))
	for i := 1; i < len(starts); i++ {
		gaps = append(gaps, starts[i]-starts[i-1])
	}
	interval := int64(30000)
	if len(gaps) > 0 {
		sorted := slices.Clone(gaps)
		slices.Sort(sorted)
		interval = max(sorted[len(sorted)/2], 1)
	}
	out := []watchSpan{{target: target, vantage: vantage, from: starts[0], to: starts[0] + interval}}
	for _, s := range starts[1:] {
		last := &out[len(out)-1]
		if s <= last.to+interval/2 {
			last.to = s + interval
			continue
		}
		out = append(out, watchSpan{target: target, vantage: vantage, from: s, to: s + interval})
	}
	return out
}

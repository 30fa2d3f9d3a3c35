package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// ChainCheck is what walking the chain found.
type ChainCheck struct {
	Events int
	// Rows counts the rows checked against the chain, by table.
	Rows map[string]int
	// Problems say, first broken link first, where the ledger no longer agrees with its
	// chain: an edited or removed event, or a row that its events no longer describe.
	Problems []string
}

// OK reports whether the chain and the rows agree.
func (c *ChainCheck) OK() bool { return len(c.Problems) == 0 }

type chainRow struct {
	seq                      int64
	kind, ref, content, prev string
	hash                     string
	at                       int64
}

// VerifyChain walks the chain, recomputing every link, and checks the evidence rows
// against the events that recorded them.
func (l *Ledger) VerifyChain(ctx context.Context) (*ChainCheck, error) {
	c := &ChainCheck{Rows: map[string]int{}}
	latest := map[string]map[string]string{} // kind → ref → content
	prev := chainGenesis
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var r chainRow
		if err := rows.Scan(&r.seq, &r.kind, &r.ref, &r.at, &r.content, &r.prev, &r.hash); err != nil {
			return err
		}
		c.Events++
		switch {
		case r.prev != prev:
			c.Problems = append(c.Problems, fmt.Sprintf("link %d (%s %s) does not follow the link before it: an event was removed or changed", r.seq, r.kind, r.ref))
		case chainHash(r.prev, r.kind, r.ref, r.at, r.content) != r.hash:
			c.Problems = append(c.Problems, fmt.Sprintf("link %d (%s %s) does not match its hash: the event was edited", r.seq, r.kind, r.ref))
		}
		prev = r.hash
		if latest[r.kind] == nil {
			latest[r.kind] = map[string]string{}
		}
		latest[r.kind][r.ref] = r.content
		return nil
	}, `SELECT seq, kind, ref, at, content, prev_hash, hash FROM chain ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("walking the chain: %w", err)
	}
	for _, check := range []func(context.Context, *ChainCheck, map[string]map[string]string) error{
		l.checkIncidents, l.checkRiskEvents, l.checkReports, l.checkAnnotations,
		l.checkReportChecks, l.checkSecurityIncidents, l.checkBaselines,
	} {
		if err := check(ctx, c, latest); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// agree compares a row, as the event it should have been chained as, with the chained event.
func agree(c *ChainCheck, table, kind, ref string, row any, chained map[string]string) {
	body, ok := chained[ref]
	if !ok {
		c.Problems = append(c.Problems, fmt.Sprintf("%s %s has no %s event in the chain: it was added or changed behind creditwatch's back", table, ref, kind))
		return
	}
	delete(chained, ref)
	want := reflect.New(reflect.TypeOf(row)).Interface()
	if err := json.Unmarshal([]byte(body), want); err != nil || !reflect.DeepEqual(reflect.ValueOf(want).Elem().Interface(), row) {
		c.Problems = append(c.Problems, fmt.Sprintf("%s %s differs from its %s event in the chain: the row was edited", table, ref, kind))
	}
}

// missing reports chained events whose rows are gone.
func missing(c *ChainCheck, table, kind string, chained map[string]string) {
	for ref := range chained {
		c.Problems = append(c.Problems, fmt.Sprintf("%s %s is in the chain (%s) but not in the ledger: the row was deleted", table, ref, kind))
	}
}

func copyOf(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (l *Ledger) checkIncidents(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	opened, ended := copyOf(latest[ChainIncidentOpened]), copyOf(latest[ChainIncidentEnded])
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var o openedEvent
		var e endedEvent
		var endedAt, endConf sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Target, &o.Vantage, &o.Site, &o.Scored, &o.MergeWindow, &o.StartedAt, &o.ConfirmedAt,
			&o.Outcome, &o.FirstError, &endedAt, &endConf, &e.EndCause, &e.FailedProbes); err != nil {
			return err
		}
		c.Rows["incident"]++
		agree(c, "incident", ChainIncidentOpened, ref(o.ID), o, opened)
		if endedAt.Valid {
			e.ID, e.EndedAt, e.EndConfirmedAt = o.ID, endedAt.Int64, endConf.Int64
			agree(c, "incident", ChainIncidentEnded, ref(o.ID), e, ended)
		} else if _, ok := ended[ref(o.ID)]; ok {
			c.Problems = append(c.Problems, fmt.Sprintf("incident %d ended in the chain but is open in the ledger: the row was edited", o.ID))
			delete(ended, ref(o.ID))
		}
		return nil
	}, `SELECT id, target, vantage, site, scored, merge_window_ms, started_at, confirmed_at, outcome, first_error,
		ended_at, end_confirmed_at, end_cause, failed_probes FROM incidents ORDER BY id`)
	if err != nil {
		return fmt.Errorf("checking incidents: %w", err)
	}
	missing(c, "incident", ChainIncidentOpened, opened)
	missing(c, "incident", ChainIncidentEnded, ended)
	return nil
}

func (l *Ledger) checkRiskEvents(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	chained := copyOf(latest[ChainRiskEvent])
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var e riskEventContent
		if err := rows.Scan(&e.ID, &e.Target, &e.Vantage, &e.StartedAt, &e.EndedAt, &e.Outcome, &e.FirstError, &e.FailedProbes); err != nil {
			return err
		}
		c.Rows["risk event"]++
		agree(c, "risk event", ChainRiskEvent, ref(e.ID), e, chained)
		return nil
	}, `SELECT id, target, vantage, started_at, ended_at, outcome, first_error, failed_probes FROM risk_events ORDER BY id`)
	if err != nil {
		return fmt.Errorf("checking risk events: %w", err)
	}
	missing(c, "risk event", ChainRiskEvent, chained)
	return nil
}

func (l *Ledger) checkReports(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	chained := copyOf(latest[ChainReportFrozen])
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var e reportEvent
		var data []byte
		if err := rows.Scan(&e.Month, &e.Version, &data, &e.Digest, &e.Meta, &e.FrozenAt, &e.Reason); err != nil {
			return err
		}
		key := e.Month + "/" + strconv.Itoa(e.Version)
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != e.Digest {
			c.Problems = append(c.Problems, fmt.Sprintf("report %s: its data no longer matches its digest: the data was edited", key))
		}
		c.Rows["report"]++
		agree(c, "report", ChainReportFrozen, key, e, chained)
		return nil
	}, `SELECT month, version, data, digest, meta, frozen_at, reason FROM report_versions ORDER BY month, version`)
	if err != nil {
		return fmt.Errorf("checking frozen reports: %w", err)
	}
	missing(c, "report", ChainReportFrozen, chained)
	return nil
}

func (l *Ledger) checkAnnotations(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	chained := copyOf(latest[ChainAnnotation])
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var e annotationEvent
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.Cause, &e.Note, &e.By, &e.At); err != nil {
			return err
		}
		c.Rows["annotation"]++
		agree(c, "annotation", ChainAnnotation, ref(e.ID), e, chained)
		return nil
	}, `SELECT id, incident_id, cause, note, by, at FROM annotations ORDER BY id`)
	if err != nil {
		return fmt.Errorf("checking annotations: %w", err)
	}
	missing(c, "annotation", ChainAnnotation, chained)
	return nil
}

package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The content rows checked against the chain: non-conforming report checks, security
// incidents (when recorded and when they end) and accepted baselines.

func (l *Ledger) checkReportChecks(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	chained := copyOf(latest[ChainReportNonconforming])
	rows, err := l.reportChecks(ctx, `WHERE result = ? ORDER BY id`, ReportNonconforming)
	if err != nil {
		return fmt.Errorf("checking report checks: %w", err)
	}
	for _, r := range rows {
		c.Rows["non-conforming report check"]++
		e := nonconformingEvent{ID: r.ID, Code: r.Code, URL: r.URL, CheckedAt: ms(r.CheckedAt), Edition: r.Edition, Format: r.Format,
			Reasons: nonNil(r.Reasons), BodySHA256: r.BodySHA256}
		agree(c, "non-conforming report check", ChainReportNonconforming, ref(r.ID), e, chained)
	}
	missing(c, "non-conforming report check", ChainReportNonconforming, chained)
	return nil
}

func (l *Ledger) checkSecurityIncidents(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	opened, ended := copyOf(latest[ChainSecurityIncident]), copyOf(latest[ChainSecurityEnded])
	err := l.scanRows(ctx, func(rows *sql.Rows) error {
		var e securityEvent
		var end sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Source, &e.Kind, &e.Target, &e.Site, &e.Scored, &e.Rules, &e.OccurredOn, &e.StartedAt,
			&e.ConfirmedAt, &end, &e.Ref, &e.Note, &e.By, &e.Evidence); err != nil {
			return err
		}
		c.Rows["security incident"]++
		agree(c, "security incident", ChainSecurityIncident, ref(e.ID), e, opened)
		if end.Valid {
			agree(c, "security incident", ChainSecurityEnded, ref(e.ID), securityEndedEvent{ID: e.ID, EndedAt: end.Int64}, ended)
		} else if _, ok := ended[ref(e.ID)]; ok {
			c.Problems = append(c.Problems, fmt.Sprintf("security incident %d ended in the chain but is open in the ledger: the row was edited", e.ID))
			delete(ended, ref(e.ID))
		}
		return nil
	}, `SELECT id, source, kind, target, site, scored, rules, occurred_on, started_at, confirmed_at, ended_at, ref, note, by,
		evidence FROM security_incidents ORDER BY id`)
	if err != nil {
		return fmt.Errorf("checking security incidents: %w", err)
	}
	missing(c, "security incident", ChainSecurityIncident, opened)
	missing(c, "security incident", ChainSecurityEnded, ended)
	return nil
}

func (l *Ledger) checkBaselines(ctx context.Context, c *ChainCheck, latest map[string]map[string]string) error {
	chained := copyOf(latest[ChainBaseline])
	bs, err := l.Baselines(ctx, time.Time{})
	if err != nil {
		return fmt.Errorf("checking baselines: %w", err)
	}
	for _, b := range bs {
		c.Rows["baseline"]++
		e := baselineEvent{ID: b.ID, Target: b.Target, AcceptedAt: ms(b.AcceptedAt), By: b.By, Reason: b.Reason,
			PageSHA256: b.PageSHA256, PageSeenAt: ms(b.PageSeenAt), Title: b.Title, Baseline: b.JSON}
		agree(c, "baseline", ChainBaseline, ref(b.ID), e, chained)
	}
	missing(c, "baseline", ChainBaseline, chained)
	return nil
}

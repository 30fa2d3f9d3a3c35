package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// The checks of enterprise credit reports (docs/domain.md, "Enterprise credit report").

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

// nonconformingEvent is what the chain keeps of a non-conforming check: the evidence of a deduction.
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
		var earlier bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM report_checks WHERE code = ? AND result = ?
			AND checked_at >= ? AND id < ?)`, c.Code, ReportNonconforming, ms(periodStart), c.ID).Scan(&earlier); err != nil {
			return false, err
		}
		first = !earlier
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

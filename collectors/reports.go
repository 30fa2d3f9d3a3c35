package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/creditreport"
	"github.com/creditwatch/creditwatch/internal/deface"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// ReportsTarget is the target label of the credit report collector.
const ReportsTarget = "credit_reports"

// CreditReports checks the enterprise credit reports the portal gives (五(四)2): the fixed
// codes every interval, and a daily sample drawn in rotation from the subject codes of the
// publicity records creditwatch holds, spread over the day. Each check is fetch → read →
// judge → record; a report that cannot be fetched or read is a fetch error, never a
// non-conformance.
type CreditReports struct {
	cfg     config.CreditReports
	allowed map[string]bool
	edition creditreport.Edition
	client  *http.Client
	deps    Deps
	log     *zap.Logger
	// subjects caches the subject codes of one day.
	subjects    []ledger.SubjectCode
	subjectsDay string
}

func reportCollectors(cfg *config.Config, d Deps) ([]Collector, error) {
	if !cfg.CreditReports.Enabled() {
		return nil, nil
	}
	c, err := NewCreditReports(cfg.CreditReports, d)
	if err != nil {
		return nil, err
	}
	return []Collector{c}, nil
}

// NewCreditReports returns the credit report collector.
func NewCreditReports(cfg config.CreditReports, d Deps) (*CreditReports, error) {
	ed, err := creditreport.EditionByName(cfg.Edition)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout.D()}).DialContext,
		TLSHandshakeTimeout: cfg.Timeout.D(),
		DisableKeepAlives:   true,
		// The body is inflated by creditreport under its own limit, not by net/http.
		DisableCompression: true,
	}
	return &CreditReports{cfg: cfg, edition: ed, deps: d,
		client: &http.Client{Transport: tr, Timeout: cfg.Timeout.D()},
		log:    d.Logger.With(zap.String("collector", "credit_report"), zap.String("target", ReportsTarget))}, nil
}

// Kind implements Collector.
func (c *CreditReports) Kind() string { return "credit_report" }

// Target implements Collector.
func (c *CreditReports) Target() string { return ReportsTarget }

// Interval implements Collector.
func (c *CreditReports) Interval() time.Duration { return c.cfg.Interval.D() }

// Jitter implements Collector.
func (c *CreditReports) Jitter() time.Duration { return min(c.cfg.Interval.D()/10, time.Minute) }

// due is one code to check in a run.
type due struct {
	code, name string
	sampled    bool
}

// Collect checks the fixed codes and the sample codes due by now.
func (c *CreditReports) Collect(ctx context.Context) error {
	now := c.deps.now()
	todo, err := c.due(ctx, now)
	if err != nil {
		return err
	}
	read := false
	for _, d := range todo {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		result, err := c.checkOne(ctx, d)
		if err != nil {
			return err
		}
		read = read || result != ledger.ReportFetchError
	}
	if read {
		c.deps.changed()
	}
	return nil
}

func (c *CreditReports) due(ctx context.Context, now time.Time) ([]due, error) {
	subjects, err := c.subjectCodes(ctx, now)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(subjects))
	for _, s := range subjects {
		names[s.Code] = s.Name
	}
	var out []due
	fixed := map[string]bool{}
	for _, code := range c.cfg.Codes {
		fixed[code] = true
		out = append(out, due{code: code, name: names[code]})
	}
	if c.cfg.DailySample == 0 {
		return out, nil
	}
	var pool []ledger.SubjectCode
	for _, s := range subjects {
		if !fixed[s.Code] {
			pool = append(pool, s)
		}
	}
	day := clock.Day(now)
	sample := DailySample(pool, c.cfg.DailySample, day)
	done, err := c.deps.Ledger.CheckedSince(ctx, day, true)
	if err != nil {
		return nil, err
	}
	for i, s := range sample {
		if !SampleDueAt(day, i, len(sample)).After(now) && !done[s.Code] {
			out = append(out, due{code: s.Code, name: s.Name, sampled: true})
		}
	}
	return out, nil
}

// subjectCodes reads the subject codes once a day, so that the day's sample stays the same
// all day; until creditwatch holds any, at every run.
func (c *CreditReports) subjectCodes(ctx context.Context, now time.Time) ([]ledger.SubjectCode, error) {
	if day := clock.Date(now); day != c.subjectsDay || len(c.subjects) == 0 {
		s, err := c.deps.Ledger.SubjectCodes(ctx)
		if err != nil {
			return nil, err
		}
		c.subjects, c.subjectsDay = s, day
	}
	return c.subjects, nil
}

// DailySample draws n codes of the day from the pool (sorted): consecutive days take
// consecutive slices of it, so the sample rotates through every code.
func DailySample(pool []ledger.SubjectCode, n int, day time.Time) []ledger.SubjectCode {
	if len(pool) == 0 || n <= 0 {
		return nil
	}
	n = min(n, len(pool))
	y, m, d := day.In(clock.Shanghai).Date()
	index := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	start := int((index * int64(n)) % int64(len(pool)))
	out := make([]ledger.SubjectCode, n)
	for i := range out {
		out[i] = pool[(start+i)%len(pool)]
	}
	return out
}

// SampleDueAt is when the i-th of n sample codes of a day is due: spread over the day.
func SampleDueAt(day time.Time, i, n int) time.Time {
	return day.Add(time.Duration(i) * (24 * time.Hour / time.Duration(n)))
}

// checkOne fetches, reads, judges and records one report, and returns its result.
func (c *CreditReports) checkOne(ctx context.Context, d due) (string, error) {
	start := c.deps.now()
	chk := ledger.ReportCheck{Code: d.code, Name: d.name, URL: c.cfg.URL(d.code, d.name), Sampled: d.sampled, CheckedAt: start,
		Edition: c.edition.Name}
	body, contentType, fetchErr := c.fetch(ctx, chk.URL)
	if ctx.Err() != nil {
		return "", ctx.Err() // shutdown cut the fetch short: that says nothing of the report
	}
	if fetchErr != nil {
		chk.Result, chk.ErrorClass, chk.Error = ledger.ReportFetchError, fetchErr.class, fetchErr.msg
	} else {
		chk.BodySHA256 = deface.PageSHA256(body)
		judge(&chk, body, contentType, c.edition, c.cfg.MaxBodyBytes)
	}
	counted, err := c.deps.Ledger.RecordReportCheck(context.WithoutCancel(ctx), chk, c.deps.periodStart(start))
	if err != nil {
		return "", err
	}
	c.deps.Store.AddReportCheck(chk.Result, counted)
	switch chk.Result {
	case ledger.ReportFetchError:
		c.deps.Store.AddSourceError(ReportsTarget, chk.ErrorClass)
		c.log.Warn("credit report not checked", zap.String("code", d.code), zap.String("class", chk.ErrorClass), zap.String("error", chk.Error))
	case ledger.ReportNonconforming:
		var codes []string
		for _, r := range chk.Reasons {
			codes = append(codes, r.Code)
		}
		c.log.Warn("credit report non-conforming", zap.String("code", d.code), zap.Strings("reasons", codes), zap.Bool("counted", counted))
	}
	return chk.Result, nil
}

// judge reads a fetched report and judges it: conforming, non-conforming with every reason,
// or, when it cannot be read, a fetch error of the read's class. It is pure.
func judge(chk *ledger.ReportCheck, body []byte, contentType string, ed creditreport.Edition, maxBody int64) {
	doc, err := creditreport.Extract(body, contentType, creditreport.Limits{MaxBodyBytes: maxBody})
	var res creditreport.Result
	if err == nil {
		chk.Format = doc.Format
		res, err = creditreport.Check(doc, creditreport.Request{Code: chk.Code, KnownName: chk.Name, Edition: ed})
	}
	if err != nil {
		chk.Result, chk.ErrorClass, chk.Error = ledger.ReportFetchError, creditreport.ErrorClass(err), err.Error()
		var re *creditreport.ReadError
		if errors.As(err, &re) {
			chk.Error = re.Message()
		}
		return
	}
	chk.Result = ledger.ReportConforming
	if !res.Conforming {
		chk.Result = ledger.ReportNonconforming
	}
	for _, r := range res.Reasons {
		chk.Reasons = append(chk.Reasons, ledger.Reason{Code: r.Code, Message: r.Message})
	}
	chk.Found, _ = json.Marshal(res.Found)
}

// fetchError is a report that could not be fetched, with its class.
type fetchError struct{ class, msg string }

func (c *CreditReports) fetch(ctx context.Context, url string) ([]byte, string, *fetchError) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout.D())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", &fetchError{class: OutcomeConnectError, msg: errorText(err)}
	}
	req.Header.Set("User-Agent", config.DefaultUserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", &fetchError{class: classifyError(err), msg: errorText(err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == StatusPreconditionFailed:
		return nil, "", &fetchError{class: OutcomeChallenged, msg: "HTTP 412: challenged by a web application firewall"}
	case resp.StatusCode != http.StatusOK:
		return nil, "", &fetchError{class: OutcomeHTTPStatus, msg: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	body, err := pagetext.ReadBody(resp.Body, resp.Header.Get("Content-Encoding"), c.cfg.MaxBodyBytes)
	switch {
	case errors.Is(err, pagetext.ErrTooLarge):
		return nil, "", &fetchError{class: creditreport.ClassTooLarge, msg: err.Error()}
	case errors.Is(err, pagetext.ErrEncoding):
		return nil, "", &fetchError{class: creditreport.ClassEncoding, msg: err.Error()}
	case err != nil:
		return nil, "", &fetchError{class: classifyError(err), msg: errorText(err)}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// seedReports continues the report counters from the ledger the first time the collector is
// configured, and drops them when it no longer is.
func seedReports(ctx context.Context, cs []Collector, d Deps) error {
	enabled := false
	for _, c := range cs {
		if _, ok := c.(*CreditReports); ok {
			enabled = true
		}
	}
	if !enabled {
		d.Store.SetReports(nil)
		d.Store.DropRuns("credit_report")
		return nil
	}
	if d.Store.Reports() != nil {
		return nil
	}
	totals, err := d.Ledger.ReportTotals(ctx)
	if err != nil {
		return err
	}
	n, err := d.Ledger.CountNonconforming(ctx, d.periodStart)
	if err != nil {
		return err
	}
	r := &metrics.Reports{Checks: map[string]float64{}, Nonconforming: float64(n)}
	for k, v := range totals {
		r.Checks[k] = float64(v)
	}
	d.Store.SetReports(r)
	return nil
}

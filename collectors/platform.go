package collectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/cases"
	"github.com/creditwatch/creditwatch/internal/clock"
	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/publicity"
)

// PlatformSource is the source label of the platform API.
const PlatformSource = "platform"

// maxPagesPerPoll stops a runaway stream (a cursor that never ends) from holding a poll forever.
const maxPagesPerPoll = 20000

// stream is one change stream of the platform API: publicity records of a kind, or cases.
type stream struct {
	name     string // cursor key, e.g. "publicity/penalty"
	path     string
	kind     publicity.Kind
	caseKind string // "objection" or "repair" for case streams
}

var publicityStreams = []stream{
	{name: "publicity/penalty", path: "/api/v1/publicity/penalty/changes", kind: publicity.Penalty},
	{name: "publicity/licence", path: "/api/v1/publicity/licence/changes", kind: publicity.Licence},
}

var caseStreams = []stream{
	{name: "cases/objection", path: "/api/v1/objections/changes", caseKind: cases.KindObjection},
	{name: "cases/repair", path: "/api/v1/repairs/changes", caseKind: cases.KindRepair},
}

// streamsOf selects the streams of the configured stream groups.
func streamsOf(groups []string) []stream {
	var out []stream
	for _, g := range groups {
		switch g {
		case "publicity":
			out = append(out, publicityStreams...)
		case "cases":
			out = append(out, caseStreams...)
		}
	}
	return out
}

// Platform polls the platform's change streams incrementally from cursors kept in the ledger.
type Platform struct {
	cfg      config.Platform
	pub      config.Publicity
	base     *url.URL
	client   *resty.Client
	deps     Deps
	log      *zap.Logger
	allowed  map[string]bool
	streams  []stream
	maxBytes int64
}

func platformCollectors(cfg *config.Config, d Deps) ([]Collector, error) {
	if cfg.Platform.URL == "" {
		return nil, nil
	}
	p, err := NewPlatform(cfg.Platform, cfg.Publicity, d)
	if err != nil {
		return nil, err
	}
	return []Collector{p}, nil
}

// NewPlatform returns the platform API collector.
func NewPlatform(cfg config.Platform, pub config.Publicity, d Deps) (*Platform, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("platform.url: %w", err)
	}
	c := resty.New().SetTimeout(cfg.Timeout.D()).SetResponseBodyLimit(int(cfg.MaxBodyBytes)).
		SetHeader("Accept", "application/json").SetHeader("User-Agent", config.DefaultUserAgent).
		SetRedirectPolicy(resty.RedirectPolicyFunc(tokenRedirects(10)))
	c.SetLogger(discardLogger{})
	if cfg.TokenFile != "" {
		tok, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("reading platform.token_file: %w", err)
		}
		c.SetAuthToken(strings.TrimSpace(string(tok)))
	}
	allowed := map[string]bool{}
	for _, code := range pub.AllowedCodes {
		allowed[code] = true
	}
	return &Platform{cfg: cfg, pub: pub, base: base, client: c, deps: d, allowed: allowed, streams: streamsOf(cfg.Streams),
		maxBytes: cfg.MaxBodyBytes, log: d.Logger.With(zap.String("collector", "platform"))}, nil
}

// Kind implements Collector.
func (p *Platform) Kind() string { return "platform" }

// Target implements Collector.
func (p *Platform) Target() string { return "api" }

// Interval implements Collector.
func (p *Platform) Interval() time.Duration { return p.cfg.Interval.D() }

// Jitter implements Collector.
func (p *Platform) Jitter() time.Duration { return min(p.cfg.Interval.D(), 10*time.Second) }

// sourceError is a failure of the platform, not of creditwatch.
type sourceError struct {
	reason string
	err    error
}

func (e *sourceError) Error() string { return e.err.Error() }

// Collect polls every stream from its stored cursor until the platform has nothing more.
func (p *Platform) Collect(ctx context.Context) error {
	received := map[string]int{}
	failed := false
	for _, s := range p.streams {
		n, err := p.poll(ctx, s)
		received[s.label()] += n
		var se *sourceError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &se):
			failed = true
			p.deps.Store.AddSourceError(PlatformSource, se.reason)
			p.log.Warn("platform poll failed; will resume from the stored cursor", zap.String("stream", s.name),
				zap.String("reason", se.reason), zap.Error(se.err))
		case err != nil:
			return err
		}
		if n > 0 {
			p.deps.changed()
		}
	}
	if !failed {
		p.deps.Store.SourcePolled(PlatformSource, p.deps.now(), received)
	}
	return nil
}

func (p *Platform) poll(ctx context.Context, s stream) (int, error) {
	cursor, err := p.deps.Ledger.Cursor(ctx, PlatformSource, s.name)
	if err != nil {
		return 0, err
	}
	total := 0
	for pages := 0; pages < maxPagesPerPoll; pages++ {
		body, err := p.fetch(ctx, s, cursor)
		if err != nil {
			return total, err
		}
		page, bad, err := ParsePage(body)
		if err != nil {
			return total, &sourceError{reason: "bad_json", err: fmt.Errorf("%s page after cursor %q: %w", s.name, cursor, err)}
		}
		for _, b := range bad {
			p.deps.Store.AddSourceError(PlatformSource, "bad_record")
			p.log.Warn("record without id, time or fields skipped", zap.String("stream", s.name),
				zap.Int("position", b.Position), zap.String("reason", b.Reason))
		}
		next := &ledger.Cursor{Source: PlatformSource, Stream: s.name, Value: page.NextCursor}
		if err := p.store(context.WithoutCancel(ctx), s, page.Records, next); err != nil {
			return total, err
		}
		total += len(page.Records)
		cursor = page.NextCursor
		if !page.HasMore {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
	return total, &sourceError{reason: "bad_json", err: fmt.Errorf("%s: more than %d pages in one poll", s.name, maxPagesPerPoll)}
}

// label is the kind label of a stream's records.
func (s stream) label() string {
	if s.caseKind != "" {
		return s.caseKind
	}
	return string(s.kind)
}

func (p *Platform) store(ctx context.Context, s stream, recs []APIRecord, next *ledger.Cursor) error {
	if s.caseKind == "" {
		return p.deps.Ledger.StorePublicity(ctx, p.assess(s.kind, recs), next)
	}
	cs := make([]ledger.CaseRecord, len(recs))
	for i, r := range recs {
		cs[i] = ledger.CaseRecord{Kind: s.caseKind, ID: r.ID, Source: PlatformSource, UpdatedAt: r.UpdatedAt, Fields: r.Fields}
	}
	return p.deps.Ledger.StoreCases(ctx, cs, next)
}

func (p *Platform) fetch(ctx context.Context, s stream, cursor string) ([]byte, error) {
	resp, err := p.client.R().SetContext(ctx).
		SetQueryParams(map[string]string{"cursor": cursor, "limit": fmt.Sprint(p.cfg.PageSize)}).
		Get(p.base.String() + s.path)
	switch {
	case errors.Is(err, resty.ErrResponseBodyTooLarge):
		return nil, &sourceError{reason: "body_too_large", err: fmt.Errorf("%s: page larger than %d bytes", s.name, p.maxBytes)}
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &sourceError{reason: classifyError(err), err: fmt.Errorf("%s: %s", s.name, errorText(err))}
	case resp.StatusCode() == http.StatusUnauthorized || resp.StatusCode() == http.StatusForbidden:
		return nil, &sourceError{reason: "unauthorized", err: fmt.Errorf("%s: HTTP %d: check platform.token_file", s.name, resp.StatusCode())}
	case resp.StatusCode() != http.StatusOK:
		return nil, &sourceError{reason: "http_status", err: fmt.Errorf("%s: HTTP %d", s.name, resp.StatusCode())}
	}
	return resp.Body(), nil
}

// headers are the columns an API record is laid out in, per kind.
var headers = map[publicity.Kind]*publicity.Header{
	publicity.Penalty: publicity.NewHeader(publicity.Schemas[publicity.Penalty].Columns()),
	publicity.Licence: publicity.NewHeader(publicity.Schemas[publicity.Licence].Columns()),
}

// AsRecord lays an API record out as a publicity record; reported_at fills 上报日期.
func AsRecord(kind publicity.Kind, r APIRecord, pos int) publicity.Record {
	h := headers[kind]
	vals := make([]string, len(h.Names()))
	for i, name := range h.Names() {
		vals[i] = r.Fields[name]
	}
	if i, ok := h.Index(publicity.FieldReported); ok && r.ReportedAt != "" {
		vals[i] = r.ReportedAt
	}
	return publicity.Record{Kind: kind, Row: pos + 1, Header: h, Values: vals}
}

func (p *Platform) assess(kind publicity.Kind, in []APIRecord) []ledger.PublicityRecord {
	today := today(p.deps.now())
	checker := &publicity.Checker{AsOf: today, Allowed: p.allowed}
	out := make([]ledger.PublicityRecord, 0, len(in))
	for i, r := range in {
		rec := AsRecord(kind, r, i)
		fields := r.Fields
		if r.ReportedAt != "" {
			fields = copyWith(fields, publicity.FieldReported, r.ReportedAt)
		}
		out = append(out, ledger.PublicityRecord{Kind: kind, ID: r.ID, Source: PlatformSource, UpdatedAt: r.UpdatedAt,
			Assessment: publicity.Assess(rec, checker, p.deps.calendar(), p.pub.DeadlineWorkdays, p.warn), Fields: fields})
	}
	return out
}

func (p *Platform) warn(msg string) { p.log.Warn("audit limited", zap.String("reason", msg)) }

func copyWith(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

// today is t's date in Asia/Shanghai, at midnight there.
func today(t time.Time) time.Time {
	y, m, d := t.In(clock.Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, clock.Shanghai)
}

// discardLogger keeps resty from printing warnings on stderr; creditwatch logs results itself.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

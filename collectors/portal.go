package collectors

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/creditwatch/creditwatch/internal/config"
	"github.com/creditwatch/creditwatch/internal/incident"
	"github.com/creditwatch/creditwatch/internal/ledger"
	"github.com/creditwatch/creditwatch/internal/metrics"
	"github.com/creditwatch/creditwatch/internal/pagetext"
)

// Portal probes one credit-portal target over HTTP(S).
type Portal struct {
	target         config.Target
	expect         Expectation
	policy         incident.Policy
	scoring        ledger.Scoring
	challengeFails bool
	client         *http.Client
	header         http.Header // the probe's request headers, read-only
	url            *url.URL    // the target's URL, read-only
	originPrivate  bool        // the target's URL is an IP literal of a non-public address
	deps           Deps
	log            *zap.Logger
	// state is the target's incident state after its latest probe (probes of one target
	// never run at once), read from the ledger before the first: whether the next probe's
	// evidence will be kept.
	state  incident.State
	loaded bool
	// content checks what the page shows (content.go).
	content *contentCheck
}

func portalCollectors(cfg *config.Config, d Deps) ([]Collector, error) {
	var out []Collector
	windows := map[string]time.Duration{} // by site: MergeWindow reads every target
	for _, t := range cfg.Portal.Targets {
		w, ok := windows[t.Site]
		if !ok {
			w = cfg.Portal.MergeWindow(t.Site)
			windows[t.Site] = w
		}
		p, err := newPortal(t, cfg.Portal, w, d)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// NewPortal returns the probe of one target. Its client, transport and headers are made
// here once; a probe allocates none of them.
func NewPortal(t config.Target, pc config.Portal, d Deps) (*Portal, error) {
	return newPortal(t, pc, pc.MergeWindow(t.Site), d)
}

// newPortal is NewPortal with the merge window of the target's site worked out.
func newPortal(t config.Target, pc config.Portal, mergeWindow time.Duration, d Deps) (*Portal, error) {
	client, err := newProbeClient(t)
	if err != nil {
		return nil, fmt.Errorf("setting up probe of %s: %w", t.Name, err)
	}
	log := d.Logger.WithLazy(zap.String("collector", "portal"), zap.String("target", t.Name))
	h := http.Header{}
	h.Set("User-Agent", UserAgent(t.UserAgent, d.Vantage))
	h.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "zh-CN,zh;q=0.9")
	// Asked for here rather than by the transport, and undone by readBody, under the limit.
	h.Set("Accept-Encoding", "gzip")
	u, err := url.Parse(t.URL)
	if err != nil {
		return nil, fmt.Errorf("setting up probe of %s: %w", t.Name, err)
	}
	return &Portal{
		content:        newContentCheck(t, d, log),
		target:         t,
		expect:         expectationOf(t, pc.ChallengeMarkers),
		policy:         incident.Policy{OpenAfter: pc.Incident.OpenAfter, CloseAfter: pc.Incident.CloseAfter},
		scoring:        ledger.Scoring{Site: t.Site, Scored: t.IsScored(), MergeWindow: mergeWindow},
		challengeFails: pc.Incident.ChallengeFails(),
		client:         client,
		header:         h,
		url:            u,
		originPrivate:  newGuard(t.URL, nil).originPrivate,
		deps:           d,
		log:            log,
	}, nil
}

func newProbeClient(t config.Target) (*http.Client, error) {
	tlsCfg := &tls.Config{InsecureSkipVerify: t.TLS.InsecureSkipVerify, ServerName: t.TLS.ServerName} //nolint:gosec // the operator's choice
	if t.TLS.CAFile != "" {
		pem, err := os.ReadFile(t.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s holds no PEM certificate", t.TLS.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	// A fresh connection per probe by default, as a visitor would open one, so that DNS,
	// connect and TLS are measured every time; keep_alive reuses one between probes.
	dialer := &net.Dialer{Timeout: t.Timeout.D(), ControlContext: guardedControl}
	tr := &http.Transport{
		Proxy:               guardedProxy,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsCfg,
		TLSHandshakeTimeout: t.Timeout.D(),
		DisableKeepAlives:   !t.KeepAlive,
		DisableCompression:  false,
	}
	var rt http.RoundTripper = tr
	if t.KeepAlive {
		// One connection to the target (and one to a redirect's host), kept while probes
		// come: past two intervals without one it is closed.
		tr.MaxIdleConnsPerHost = 1
		tr.MaxIdleConns = 2
		tr.IdleConnTimeout = 2*t.Interval.D() + 30*time.Second
	} else {
		// A connection used once needs no TCP keep-alive probes (nor the system calls
		// setting them up), nor the Transport's goroutines.
		once := *dialer
		once.KeepAlive = -1
		rt = &oneShot{dialer: &once, tls: tlsCfg, proxy: guardedProxy, viaProxy: tr}
	}
	// The fetch's context bounds the whole probe, body included: no Client.Timeout.
	return &http.Client{Transport: statusRecorder{rt}, CheckRedirect: checkRedirect(*t.MaxRedirects)}, nil
}

// Kind implements Collector.
func (p *Portal) Kind() string { return "portal" }

// Target implements Collector.
func (p *Portal) Target() string { return p.target.Name }

// Interval implements Collector.
func (p *Portal) Interval() time.Duration { return p.target.Interval.D() }

// Jitter implements Collector.
func (p *Portal) Jitter() time.Duration { return p.target.Jitter.D() }

// Collect implements Collector: fetch, classify, emit.
func (p *Portal) Collect(ctx context.Context) error {
	obs := p.fetch(ctx)
	defer obs.release()
	if err := ctx.Err(); err != nil {
		// Shutdown cut the probe short: that says nothing about the portal.
		return err
	}
	v := Classify(obs.answer, p.expect)
	return p.emit(ctx, obs, v)
}

// Check probes once and judges the answer without recording anything: `creditwatch probe`.
func (p *Portal) Check(ctx context.Context) (v Verdict, status int, bodyBytes int64) {
	obs := p.fetch(ctx)
	defer obs.release()
	return Classify(obs.answer, p.expect), obs.answer.StatusCode, obs.bodyBytes
}

// observation is what one fetch saw.
type observation struct {
	start      time.Time
	raw        *http.Response // nil without a response
	answer     Answer
	trace      traceInfo
	total      time.Duration
	bodyBytes  int64
	certExpiry time.Time
	// buf is the pooled buffer the body was read into (answer.Body), given back by release
	// when the probe is done with the body.
	buf *[]byte
}

func (o *observation) release() {
	pagetext.PutBuffer(o.buf)
	o.buf, o.answer.Body = nil, nil
}

func (p *Portal) fetch(ctx context.Context) observation {
	ctx, cancel := context.WithTimeout(ctx, p.target.Timeout.D())
	defer cancel()
	o := observation{start: p.deps.now()}
	guard := &redirectGuard{allow: p.target.AllowPrivateRedirects, originPrivate: p.originPrivate}
	tr := &probeTrace{}
	resp, err := p.do(httptrace.WithClientTrace(withGuard(ctx, guard), tr.hooks()))
	// A refused or malformed redirect leaves no response: the status is the redirect's.
	o.answer = Answer{Err: err, BodyLimit: p.target.MaxBodyBytes, StatusCode: guard.lastStatus()}
	if resp != nil {
		o.raw = resp
		o.answer.StatusCode = resp.StatusCode
		o.answer.ContentType = resp.Header.Get("Content-Type")
		o.answer.Compressed = resp.Uncompressed || strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip")
		if resp.TLS != nil {
			for _, c := range resp.TLS.PeerCertificates {
				if o.certExpiry.IsZero() || c.NotAfter.Before(o.certExpiry) {
					o.certExpiry = c.NotAfter
				}
			}
		}
		if err == nil {
			o.buf, o.answer.Err = readBody(resp, p.target.MaxBodyBytes)
			if o.answer.Err == nil {
				o.answer.Body = *o.buf
			}
		}
		resp.Body.Close()
	}
	o.total = p.deps.now().Sub(o.start)
	o.trace = tr.info()
	o.bodyBytes = int64(len(o.answer.Body))
	return o
}

// do sends the probe's GET.
func (p *Portal) do(ctx context.Context) (*http.Response, error) {
	// The URL and the headers are the target's, read-only: the client copies them before
	// changing any (a redirect's request is a new one).
	req := (&http.Request{Method: http.MethodGet, URL: p.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: p.header, Host: p.url.Host}).WithContext(ctx)
	return p.client.Do(req)
}

// readBody reads a response's body into a pooled buffer, at most limit bytes once
// decompressed (net/http undoes the gzip it asked for; a server's unasked gzip is undone
// here).
func readBody(resp *http.Response, limit int64) (*[]byte, error) {
	body, hint := io.Reader(resp.Body), resp.ContentLength
	if resp.Uncompressed {
		hint = -1
	}
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && resp.ContentLength != 0 && !resp.Uncompressed {
		zr, err := gunzip(body)
		if err != nil {
			return nil, err
		}
		defer gzipReaders.Put(zr)
		body, hint = zr, -1
	}
	buf, err := pagetext.ReadPooled(body, limit, hint)
	if err != nil {
		pagetext.PutBuffer(buf)
		return nil, err
	}
	return buf, nil
}

// gzipReaders are gzip readers to reuse: a reader's decompressor is some 40 KB.
var gzipReaders sync.Pool

func gunzip(r io.Reader) (*gzip.Reader, error) {
	zr, ok := gzipReaders.Get().(*gzip.Reader)
	if !ok {
		return gzip.NewReader(r)
	}
	if err := zr.Reset(r); err != nil {
		gzipReaders.Put(zr)
		return nil, err
	}
	return zr, nil
}

// phases splits the probe's total time into phases that add up to it.
func phases(ti traceInfo, total time.Duration) map[string]float64 {
	pos := func(d time.Duration) time.Duration { return max(d, 0) }
	dns, tlsT := pos(ti.DNSLookup), pos(ti.TLSHandshake)
	connect := pos(ti.ConnTime - dns - tlsT)
	firstByte := pos(ti.ServerTime)
	transfer := pos(total - dns - tlsT - connect - firstByte)
	return map[string]float64{
		"dns": dns.Seconds(), "connect": connect.Seconds(), "tls": tlsT.Seconds(),
		"first_byte": firstByte.Seconds(), "transfer": transfer.Seconds(),
	}
}

func (p *Portal) emit(ctx context.Context, o observation, v Verdict) error {
	failed := v.Outcome != OutcomeOK && (v.Outcome != OutcomeChallenged || p.challengeFails)
	ph := phases(o.trace, o.total)
	rec := ledger.Probe{
		Target: p.target.Name, Vantage: p.deps.Vantage, StartedAt: o.start, Duration: o.total,
		Outcome: v.Outcome, Failed: failed, StatusCode: o.answer.StatusCode, Error: v.Error,
		DNS: secs(ph["dns"]), Connect: secs(ph["connect"]), TLS: secs(ph["tls"]), FirstByte: secs(ph["first_byte"]),
		BodyBytes: o.bodyBytes, CertExpiry: o.certExpiry, Interval: p.target.Interval.D(),
	}
	// A probe that completed is written even while shutting down.
	ctx = context.WithoutCancel(ctx)
	if !p.loaded {
		st, err := p.deps.Ledger.TargetState(ctx, p.target.Name, p.deps.Vantage)
		if err != nil {
			return err
		}
		p.state, p.loaded = st, true
	}
	if ledger.NeedsEvidence(p.state, failed) {
		rec.Evidence = evidenceOf(o, v, p.target.URL, p.deps.Vantage)
	}
	recorded, err := p.deps.Ledger.RecordPortalProbe(ctx, rec, p.policy, p.scoring)
	if err != nil {
		return err
	}
	st, tr := recorded.State, recorded.Transition
	p.state = st
	p.publish(rec, ph, st, tr)
	if failed {
		p.log.Warn("probe failed", zap.String("outcome", v.Outcome), zap.String("error", v.Error),
			zap.Int("status_code", o.answer.StatusCode), zap.Int("fail_streak", st.FailStreak), zap.Bool("incident_open", st.Open()))
	}
	switch {
	case tr.Opened != nil:
		p.log.Warn("incident opened", zap.Time("started_at", tr.Opened.Start), zap.String("outcome", tr.Opened.Outcome),
			zap.Int("failed_probes", tr.Opened.Failed))
	case !tr.ClosedAt.IsZero():
		p.log.Info("incident closed", zap.Time("ended_at", tr.ClosedAt))
	case tr.Risk != nil:
		p.log.Info("risk event recorded", zap.Int("failed_probes", tr.Risk.Failed), zap.String("outcome", tr.Risk.Outcome))
	}
	if tr.Opened != nil || !tr.ClosedAt.IsZero() || tr.Risk != nil {
		p.deps.changed()
	}
	// What the page shows is looked at only on an HTML answer with an expected status: a
	// failed fetch says nothing of the content. A page without the expected text (a
	// maintenance page, or one a defacer replaced) is looked at for its own signs.
	if (v.Outcome == OutcomeOK || v.Outcome == OutcomeContentMismatch && o.answer.Err == nil &&
		slices.Contains(p.expect.Status, o.answer.StatusCode)) && isHTML(o.answer.ContentType, o.answer.Body) {
		return p.content.check(ctx, o, v.Outcome == OutcomeOK, recorded.BaselineID)
	}
	return nil
}

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func (p *Portal) publish(rec ledger.Probe, ph map[string]float64, st incident.State, tr incident.Transition) {
	prev, _ := p.deps.Store.Portal(p.target.Name)
	snap := &metrics.Portal{Target: p.target.Name, OutcomeTotals: map[string]float64{}}
	if prev != nil {
		for k, v := range prev.OutcomeTotals {
			snap.OutcomeTotals[k] = v
		}
		snap.IncidentsTotal, snap.RiskTotal, snap.OpenSince = prev.IncidentsTotal, prev.RiskTotal, prev.OpenSince
		snap.OpenOutcome = prev.OpenOutcome
	}
	snap.OutcomeTotals[rec.Outcome]++
	if tr.Opened != nil {
		snap.IncidentsTotal++
		snap.OpenSince, snap.OpenOutcome = tr.Opened.Start, tr.Opened.Outcome
	}
	if tr.Risk != nil {
		snap.RiskTotal++
	}
	snap.IncidentOpen = st.Open()
	if !snap.IncidentOpen {
		snap.OpenOutcome = ""
	}
	snap.Probed, snap.Success, snap.Outcome = true, !rec.Failed, rec.Outcome
	snap.StatusCode, snap.PhaseSeconds, snap.CertExpiry = rec.StatusCode, ph, rec.CertExpiry
	snap.LastProbe, snap.LastError = rec.StartedAt, rec.Error
	p.deps.Store.SetPortal(snap)
}

// seedPortals continues the portal targets' counters from the ledger, so that they never
// go back to zero with a restart or a reload, and forgets targets no longer configured.
func seedPortals(ctx context.Context, cs []Collector, d Deps) error {
	names := map[string]bool{}
	var fresh []*Portal
	var targets []metrics.TargetInfo
	for _, c := range cs {
		p, ok := c.(*Portal)
		if !ok {
			continue
		}
		names[p.target.Name] = true
		targets = append(targets, metrics.TargetInfo{Target: p.target.Name, URL: p.target.URL, Site: p.target.Site, Scored: p.target.IsScored()})
		if _, ok := d.Store.Portal(p.target.Name); !ok {
			fresh = append(fresh, p)
		}
	}
	d.Store.KeepPortals(names)
	d.Store.SetTargets(targets)
	if len(fresh) == 0 {
		return nil
	}
	totals, err := d.Ledger.Totals(ctx)
	if err != nil {
		return err
	}
	snaps := make([]*metrics.Portal, 0, len(fresh))
	for _, p := range fresh {
		snap := &metrics.Portal{Target: p.target.Name, OutcomeTotals: map[string]float64{}}
		if tt := totals[p.target.Name]; tt != nil {
			for k, v := range tt.Outcomes {
				snap.OutcomeTotals[k] = float64(v)
			}
			snap.IncidentsTotal, snap.RiskTotal = tt.Incidents, tt.RiskEvents
			if tt.Open != nil {
				snap.IncidentOpen, snap.OpenSince, snap.OpenOutcome = true, tt.Open.StartedAt, tt.Open.Outcome
			}
		}
		snaps = append(snaps, snap)
	}
	d.Store.SetPortals(snaps)
	return nil
}

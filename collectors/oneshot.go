package collectors

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
)

// oneShot is the probe's transport when each probe opens a fresh connection (the
// default): it dials, writes the request and reads the answer on the probe's own goroutine,
// and closes the connection with the body, where net/http's Transport would start a dial
// goroutine and a reader and a writer goroutine for a connection used once. It speaks
// HTTP/1.1 (the Transport does too with a TLS config of its own), asks for gzip and undoes
// it as the Transport does, tells the request's httptrace hooks what happened, and hands a
// request that goes through a proxy to the Transport.
type oneShot struct {
	dialer *net.Dialer
	tls    *tls.Config
	proxy  func(*http.Request) (*url.URL, error)
	// viaProxy takes the requests that go through a proxy.
	viaProxy http.RoundTripper
}

// maxHeaderBytes bounds a response's status line and headers, as the Transport's default.
const maxHeaderBytes = 10 << 20

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
)

func (o *oneShot) RoundTrip(req *http.Request) (*http.Response, error) {
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return nil, fmt.Errorf("unsupported protocol scheme %q", s)
	}
	if p, err := o.proxy(req); err != nil || p != nil {
		if err != nil {
			return nil, err
		}
		return o.viaProxy.RoundTrip(req)
	}
	ctx := req.Context()
	resp, err := o.roundTrip(ctx, req)
	if err != nil && ctx.Err() != nil {
		// The probe's time ran out: that, not what it did to the connection, is the error.
		return nil, ctx.Err()
	}
	return resp, err
}

func (o *oneShot) roundTrip(ctx context.Context, req *http.Request) (*http.Response, error) {
	trace := httptrace.ContextClientTrace(ctx)
	host := req.URL.Hostname()
	port := req.URL.Port()
	if port == "" {
		port = "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
	}
	addr := net.JoinHostPort(host, port)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(addr)
	}
	raw, err := o.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// Whatever blocks on the connection ends when the probe's time does.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	conn := raw
	var state *tls.ConnectionState
	if req.URL.Scheme == "https" {
		cfg := o.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		tc := tls.Client(raw, cfg)
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		err := tc.HandshakeContext(ctx)
		cs := tc.ConnectionState()
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(cs, err)
		}
		if err != nil {
			stop()
			raw.Close()
			return nil, err
		}
		conn, state = tc, &cs
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: conn})
	}
	fail := func(err error) (*http.Response, error) {
		stop()
		conn.Close()
		return nil, err
	}

	// The request as the Transport would write it for a connection used once.
	out := *req
	out.Close = true
	gzipped := false
	if req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && req.Method != http.MethodHead {
		out.Header = req.Header.Clone()
		out.Header.Set("Accept-Encoding", "gzip")
		gzipped = true
	}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(conn)
	err = out.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writers.Put(bw)
	if err != nil {
		return fail(err)
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}

	lim := &headerLimit{r: conn, n: maxHeaderBytes}
	br := readers.Get().(*bufio.Reader)
	br.Reset(lim)
	release := func() {
		br.Reset(nil)
		readers.Put(br)
	}
	if trace != nil && trace.GotFirstResponseByte != nil {
		if peek, err := br.Peek(1); err == nil && len(peek) == 1 {
			trace.GotFirstResponseByte()
		}
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, &out)
		if err != nil {
			release()
			if lim.n <= 0 {
				err = fmt.Errorf("server response headers exceeded %d bytes; aborted", maxHeaderBytes)
			}
			return fail(err)
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		resp.Body.Close() // an interim answer (103 Early Hints): the real one follows
	}
	lim.n = -1 // the body is bounded by the probe's max_body_bytes
	resp.Request, resp.TLS = req, state
	body := &oneShotBody{ReadCloser: resp.Body, ctx: ctx, conn: conn, stop: stop, release: release}
	resp.Body = body
	if gzipped && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		resp.Body = &gunzipBody{body: body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	return resp, nil
}

// headerLimit bounds what is read through it while n > 0 is counting; n < 0 lifts the bound.
type headerLimit struct {
	r io.Reader
	n int64
}

func (l *headerLimit) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errors.New("response headers too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// oneShotBody is a response body whose Close closes its connection (first, so that
// closing the body does not read the rest of it) and gives the connection's reader back.
type oneShotBody struct {
	io.ReadCloser
	ctx     context.Context
	conn    net.Conn
	stop    func() bool
	release func()
	once    sync.Once
}

func (b *oneShotBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		// The probe's time ran out and closed the connection under the read.
		err = b.ctx.Err()
	}
	return n, err
}

func (b *oneShotBody) Close() error {
	b.once.Do(func() {
		b.stop()
		b.conn.Close()
		b.ReadCloser.Close()
		b.release()
	})
	return nil
}

// gunzipBody undoes the gzip the probe asked for, as the Transport does.
type gunzipBody struct {
	body *oneShotBody
	zr   *gzip.Reader
	err  error
}

func (g *gunzipBody) Read(p []byte) (int, error) {
	if g.zr == nil {
		if g.err == nil {
			g.zr, g.err = gzip.NewReader(g.body)
		}
		if g.err != nil {
			return 0, g.err
		}
	}
	return g.zr.Read(p)
}

func (g *gunzipBody) Close() error { return g.body.Close() }

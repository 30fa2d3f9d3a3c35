package collectors

import (
	"crypto/tls"
	"net"
	"net/http/httptrace"
	"sync"
	"time"
)

// probeTrace notes when each step of a probe happened, as net/http reports them. Through
// redirects each hop's times replace the last's: the figures are those of the last hop,
// the one that answered.
type probeTrace struct {
	mu                   sync.Mutex
	getConn, gotConn     time.Time
	dnsStart, dnsDone    time.Time
	tlsStart, tlsDone    time.Time
	gotFirstResponseByte time.Time
	remote               net.Addr
}

// traceInfo is what a probe's trace tells: the durations of its steps.
type traceInfo struct {
	DNSLookup    time.Duration // resolving the name
	ConnTime     time.Duration // from asking for a connection to having it: DNS, connect and TLS
	TLSHandshake time.Duration
	ServerTime   time.Duration // from having the connection to the first byte of the answer
	RemoteAddr   net.Addr      // the address answering, nil without a connection
}

func (t *probeTrace) hooks() *httptrace.ClientTrace {
	at := func(f *time.Time) {
		t.mu.Lock()
		*f = time.Now()
		t.mu.Unlock()
	}
	return &httptrace.ClientTrace{
		GetConn:  func(string) { at(&t.getConn) },
		DNSStart: func(httptrace.DNSStartInfo) { at(&t.dnsStart) },
		DNSDone:  func(httptrace.DNSDoneInfo) { at(&t.dnsDone) },
		ConnectStart: func(string, string) {
			// An IP literal is not resolved: no time spent on DNS.
			t.mu.Lock()
			if t.dnsDone.IsZero() {
				t.dnsDone = time.Now()
			}
			if t.dnsStart.IsZero() {
				t.dnsStart = t.dnsDone
			}
			t.mu.Unlock()
		},
		TLSHandshakeStart: func() { at(&t.tlsStart) },
		TLSHandshakeDone:  func(tls.ConnectionState, error) { at(&t.tlsDone) },
		GotConn: func(ci httptrace.GotConnInfo) {
			t.mu.Lock()
			t.gotConn = time.Now()
			if ci.Conn != nil {
				t.remote = ci.Conn.RemoteAddr()
			}
			t.mu.Unlock()
		},
		GotFirstResponseByte: func() { at(&t.gotFirstResponseByte) },
	}
}

func (t *probeTrace) info() traceInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	ti := traceInfo{RemoteAddr: t.remote}
	if !t.dnsStart.IsZero() && !t.dnsDone.IsZero() {
		ti.DNSLookup = t.dnsDone.Sub(t.dnsStart)
	}
	if !t.tlsStart.IsZero() && !t.tlsDone.IsZero() {
		ti.TLSHandshake = t.tlsDone.Sub(t.tlsStart)
	}
	if !t.gotFirstResponseByte.IsZero() && !t.gotConn.IsZero() {
		ti.ServerTime = t.gotFirstResponseByte.Sub(t.gotConn)
	}
	if !t.gotConn.IsZero() {
		ti.ConnTime = t.gotConn.Sub(t.getConn)
	}
	return ti
}

package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

	"github.com/creditwatch/creditwatch/internal/logging"
)

func TestSplitWebConfig(t *testing.T) {
	tests := map[string]struct {
		in, out     string
		open, users bool
		err         string
	}{
		"open":         {in: "health_without_auth: true\nbasic_auth_users: {ops: x}\n", out: "basic_auth_users: {ops: x}\n", open: true, users: true},
		"closed":       {in: "basic_auth_users: {ops: x}\nhealth_without_auth: false\n", out: "basic_auth_users: {ops: x}\n", users: true},
		"absent":       {in: "basic_auth_users: {ops: x}\n", out: "basic_auth_users: {ops: x}\n", users: true},
		"no users":     {in: "basic_auth_users: {}\n", out: "basic_auth_users: {}\n"},
		"not a bool":   {in: "health_without_auth: sometimes\n", err: `line 1: health_without_auth: "sometimes" is not true or false`},
		"not yaml":     {in: "\tbad: [\n", out: "\tbad: [\n"},
		"empty":        {in: "", out: ""},
		"relative tls": {in: "tls_server_config:\n  cert_file: c.pem\n  key_file: /etc/k.pem\n  client_ca_file: ca/ca.pem\n", out: "tls_server_config:\n    cert_file: /srv/web/c.pem\n    key_file: /etc/k.pem\n    client_ca_file: /srv/web/ca/ca.pem\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out, open, users, err := splitWebConfig([]byte(tc.in), "/srv/web")
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil || string(out) != tc.out || open != tc.open || users != tc.users {
				t.Errorf("got %q, open=%t, users=%t, %v; want %q, open=%t, users=%t", out, open, users, err, tc.out, tc.open, tc.users)
			}
		})
	}
}

// TestHealthWithoutAuth serves over TLS (certificate paths relative to the web config) with
// a bcrypt user, and toggles health_without_auth in the running server's file.
func TestHealthWithoutAuth(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir)
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	base := "tls_server_config: {cert_file: cert.pem, key_file: key.pem}\nbasic_auth_users:\n  ops: " + string(hash) + "\n"
	cfgPath := filepath.Join(dir, "web.yml")
	os.WriteFile(cfgPath, []byte(base+"health_without_auth: true\n"), 0o600)
	mux := http.NewServeMux()
	for _, p := range []string{"/-/healthy", "/-/ready", "/metrics"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	}
	addr := serveForTest(t, mux, cfgPath)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(path, user, pass string) int {
		req, _ := http.NewRequest("GET", "https://"+addr+path, nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		file string // new content of the web config, if any
		path string
		user string
		pass string // the right one when empty
		want int
	}{
		{path: "/-/healthy", want: 200},
		{path: "/-/ready", want: 200},
		{path: "/-/ready", user: "ops", pass: "wrong", want: 200},
		{path: "/metrics", want: 401},
		{path: "/metrics", user: "ops", want: 200},
		{path: "/-/healthy/", want: 401},
		{file: base + "health_without_auth: false # liveness probes need credentials again\n", path: "/-/healthy", want: 401},
		{path: "/-/healthy", user: "ops", want: 200},
		{file: base, path: "/-/ready", want: 401},
	}
	for i, s := range steps {
		if s.file != "" {
			os.WriteFile(cfgPath, []byte(s.file), 0o600)
		}
		pass := "s3cret"
		if s.user != "" && s.pass != "" {
			pass = s.pass
		}
		if got := get(s.path, s.user, pass); got != s.want {
			t.Errorf("step %d: GET %s as %q: HTTP %d, want %d", i, s.path, s.user, got, s.want)
		}
	}
}

func serveForTest(t *testing.T, h http.Handler, webConfig string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(h, &web.FlagConfig{WebConfigFile: &webConfig}, logging.Slog(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve([]net.Listener{l}) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-done
		if _, err := os.Stat(srv.cfg.copy); !os.IsNotExist(err) {
			t.Errorf("the copy of the web config is left behind: %v", err)
		}
	})
	return l.Addr().String()
}

func writeCert(t *testing.T, dir string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "creditwatch"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

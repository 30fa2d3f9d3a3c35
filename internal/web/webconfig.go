package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"
)

// webConfig is the --web.config.file as creditwatch reads it. One key is creditwatch's own,
// health_without_auth, which exporter-toolkit's strict parser rejects; so the toolkit reads a
// private copy without it, rewritten whenever the file changes. Everything else in the file
// (TLS, basic auth, headers, rate limit) is the toolkit's, and means what it documents.
type webConfig struct {
	path string // the operator's file
	copy string // what exporter-toolkit reads

	mu         sync.Mutex
	stamp      fileStamp // of path when copy was written
	healthOpen atomic.Bool
	authUsers  atomic.Bool // the file asks for basic auth: requests past it are a user's
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// healthPaths are the liveness and readiness endpoints health_without_auth opens.
var healthPaths = map[string]bool{"/-/healthy": true, "/-/ready": true}

// loadWebConfig reads path, failing on a bad health_without_auth, and writes the copy.
func loadWebConfig(path string) (*webConfig, error) {
	dir, err := os.MkdirTemp("", "creditwatch-web-")
	if err != nil {
		return nil, fmt.Errorf("preparing the web config: %w", err)
	}
	c := &webConfig{path: path, copy: filepath.Join(dir, "web-config.yml")}
	if err := c.sync(true); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// sync rewrites the copy if the file changed since. Once serving, a file that cannot be
// read leaves the last copy in place, and a bad health_without_auth is handed to the
// toolkit, which then refuses every request as it does for any broken web config.
func (c *webConfig) sync(strict bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := os.Stat(c.path)
	if err != nil {
		return fmt.Errorf("reading the web config: %w", err)
	}
	stamp := fileStamp{mod: st.ModTime(), size: st.Size()}
	if stamp == c.stamp {
		return nil
	}
	data, err := os.ReadFile(c.path)
	if err != nil {
		return fmt.Errorf("reading the web config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(c.path))
	if err != nil {
		return fmt.Errorf("reading the web config: %w", err)
	}
	out, open, users, err := splitWebConfig(data, dir)
	if err != nil && strict {
		return fmt.Errorf("%s: %w", c.path, err)
	}
	tmp := c.copy + ".new"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return fmt.Errorf("writing the web config for exporter-toolkit: %w", err)
	}
	if err := os.Rename(tmp, c.copy); err != nil {
		return fmt.Errorf("writing the web config for exporter-toolkit: %w", err)
	}
	c.stamp = stamp
	c.healthOpen.Store(open)
	c.authUsers.Store(users)
	return nil
}

// close removes the copy.
func (c *webConfig) close() error { return os.RemoveAll(filepath.Dir(c.copy)) }

// healthFirst answers GET /-/healthy and /-/ready with health, ahead of next (the toolkit's
// authentication), when the web config sets health_without_auth: true. Liveness probes
// carry no credentials.
func (c *webConfig) healthFirst(health, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.sync(false) // keeps the toolkit's "edits apply on the next request"
		if c.healthOpen.Load() && (r.Method == http.MethodGet || r.Method == http.MethodHead) && healthPaths[r.URL.Path] {
			health.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authKey{}, c.authUsers.Load())))
	})
}

type authKey struct{}

// authEnforced reports whether the request passed the web config's basic auth, so that its
// user name is the authenticated one.
func authEnforced(r *http.Request) bool {
	ok, _ := r.Context().Value(authKey{}).(bool)
	return ok
}

// splitWebConfig takes health_without_auth out of a web config and makes the relative TLS
// file paths absolute against dir, as the copy lives elsewhere; it reports whether the file
// asks for basic auth. A document that is not a YAML mapping is returned as it is, for the
// toolkit to report.
func splitWebConfig(data []byte, dir string) (out []byte, healthOpen, authUsers bool, err error) {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return data, false, false, nil
	}
	doc := root.Content[0]
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		switch k.Value {
		case "health_without_auth":
			if v.Decode(&healthOpen) != nil {
				return data, false, false, fmt.Errorf("line %d: health_without_auth: %q is not true or false", v.Line, v.Value)
			}
			doc.Content = append(doc.Content[:i], doc.Content[i+2:]...)
			i -= 2
		case "tls_server_config":
			absolutePaths(v, dir)
		case "basic_auth_users":
			authUsers = v.Kind == yaml.MappingNode && len(v.Content) > 0
		}
	}
	out, err = yaml.Marshal(&root)
	return out, healthOpen, authUsers, err
}

// absolutePaths joins the relative file paths of tls_server_config with dir, as
// exporter-toolkit does with the directory of the file it reads.
func absolutePaths(tlsCfg *yaml.Node, dir string) {
	if tlsCfg.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(tlsCfg.Content); i += 2 {
		switch k, v := tlsCfg.Content[i], tlsCfg.Content[i+1]; k.Value {
		case "cert_file", "key_file", "client_ca_file":
			if v.Kind == yaml.ScalarNode && v.Value != "" && !filepath.IsAbs(v.Value) {
				v.Value = filepath.Join(dir, v.Value)
			}
		}
	}
}

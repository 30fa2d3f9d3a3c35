// Package pgtest gives tests PostgreSQL databases of their own, on the server named by
// CREDITWATCH_TEST_POSTGRES (a postgres:// URL of a user who may create databases;
// scripts/postgres.sh starts one and sets it). Without it a test is skipped, saying so,
// or fails under CI=true, where the test command provides the server.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the server of the tests.
const Env = "CREDITWATCH_TEST_POSTGRES"

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// Server is the URL of the tests' server; without one the test is skipped, or fails
// under CI=true.
func Server(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is unset: the PostgreSQL tests cannot run (scripts/test.sh starts a PostgreSQL and sets it)", Env)
		}
		tb.Skipf("%s is unset: no PostgreSQL to test on (source scripts/postgres.sh to start one)", Env)
	}
	return u
}

// Database makes a new database for the test on server, named after key (unique among
// the test binary's databases), as a copy of template ("template0" for an empty one), and
// drops it when the test ends.
func Database(tb testing.TB, server, key, template string) string {
	tb.Helper()
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", server)
		if adminErr == nil {
			adminErr = admin.Ping()
		}
	})
	if adminErr != nil {
		tb.Fatalf("the PostgreSQL of %s: %v", Env, adminErr)
	}
	sum := sha256.Sum256([]byte(key))
	name := "cw_test_" + hex.EncodeToString(sum[:8])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template); err != nil {
		tb.Fatalf("creating test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatalf("%s does not parse: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Name is the database name of a URL Database made.
func Name(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Path[1:]
}

// Shared makes a database on server that outlives the tests, such as a template for
// Database, and prepares it with prepare (given its URL); Drop drops it.
func Shared(server, name string, prepare func(url string) error) (string, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", server)
		if adminErr == nil {
			adminErr = admin.Ping()
		}
	})
	if adminErr != nil {
		return "", adminErr
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
		return "", err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	if err := prepare(u.String()); err != nil {
		Drop(name)
		return "", err
	}
	return u.String(), nil
}

// Drop drops a database Shared made.
func Drop(name string) error {
	if admin == nil {
		return nil
	}
	_, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	return err
}

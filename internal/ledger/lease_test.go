package ledger

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One holder at a time: a second instance cannot take the lease while it is renewed, takes
// it once it has expired, and at once when it is released.
func TestLease(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	const ttl = 10 * time.Second
	steps := []struct {
		name   string
		holder string
		at     time.Duration
		want   string // holder afterwards
		since  time.Duration
	}{
		{"a takes the free lease", "a", 0, "a", 0},
		{"b cannot take it", "b", 3 * time.Second, "a", 0},
		{"a renews it", "a", 6 * time.Second, "a", 0},
		{"b still cannot, a renewed it", "b", 12 * time.Second, "a", 0},
		{"a is gone: b takes it when it expires", "b", 16 * time.Second, "b", 16 * time.Second},
		{"a comes back: too late", "a", 17 * time.Second, "b", 16 * time.Second},
		{"b renews: held since it took it", "b", 20 * time.Second, "b", 16 * time.Second},
	}
	for _, s := range steps {
		ls, err := l.AcquireLease(ctx, "jobs", s.holder, t0.Add(s.at), ttl)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if ls.Holder != s.want || !ls.AcquiredAt.Equal(t0.Add(s.since)) {
			t.Errorf("%s: lease %+v, want held by %s since %s", s.name, ls, s.want, t0.Add(s.since))
		}
	}
	if err := l.ReleaseLease(ctx, "jobs", "a"); err != nil {
		t.Fatal(err)
	}
	if ls, _ := l.CurrentLease(ctx, "jobs"); ls.Holder != "b" {
		t.Errorf("a released a lease it does not hold: %+v", ls)
	}
	if err := l.ReleaseLease(ctx, "jobs", "b"); err != nil {
		t.Fatal(err)
	}
	if ls, _ := l.AcquireLease(ctx, "jobs", "a", t0.Add(21*time.Second), ttl); ls.Holder != "a" {
		t.Errorf("after b released it, a got %+v", ls)
	}
	if _, err := l.AcquireLease(ctx, "jobs", "a", t0, 0); err == nil {
		t.Error("a zero ttl was accepted")
	}
}

// The first key is the ledger's; another is refused, naming its file.
func TestPersonalDataKeyMustAgree(t *testing.T) {
	ctx := context.Background()
	l := openTemp(t, filepath.Join(t.TempDir(), "l.db"))
	a, b := []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210")
	for i, tc := range []struct {
		key []byte
		ok  bool
	}{{a, true}, {a, true}, {b, false}} {
		err := l.CheckPersonalDataKey(ctx, tc.key, "/etc/creditwatch/k")
		if (err == nil) != tc.ok {
			t.Errorf("check %d: %v, want ok %t", i, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "/etc/creditwatch/k") {
			t.Errorf("the error does not name the key file: %v", err)
		}
	}
}

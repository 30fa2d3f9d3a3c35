package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/creditwatch/creditwatch/internal/clock"
)

// Lock is a running creditwatch's claim on a ledger file, so that two services never probe
// and write into one ledger. It is an advisory lock on a file beside the ledger, which the
// kernel releases when the process ends however it ends: a killed process leaves no stale
// lock behind.
type Lock struct {
	f *os.File
}

// Holder says who holds a ledger.
type Holder struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	StartedAt time.Time `json:"started_at"`
	Version   string    `json:"version"`
}

// LockPath is the lock file of a ledger.
func LockPath(ledgerPath string) string { return ledgerPath + ".lock" }

// Acquire takes the ledger at path for this process, or fails naming the process that holds
// it.
func Acquire(path, version string, now time.Time) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating ledger directory: %w", err)
	}
	name := LockPath(path)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, heldError(path, f)
		}
		return nil, fmt.Errorf("locking %s: %w", name, err)
	}
	host, _ := os.Hostname()
	info, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, StartedAt: now.UTC(), Version: version})
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(info, '\n'), 0)
	}
	return &Lock{f: f}, nil
}

func heldError(path string, f *os.File) error {
	var h Holder
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	if json.Unmarshal(buf[:n], &h) != nil || h.PID == 0 {
		return fmt.Errorf("ledger %s is in use by another creditwatch (lock file %s); stop it first", path, LockPath(path))
	}
	return fmt.Errorf("ledger %s is in use by creditwatch pid %d on host %s, running since %s (lock file %s); stop it first, or give this one another --storage.path",
		path, h.PID, h.Host, h.StartedAt.In(clock.Shanghai).Format("2006-01-02 15:04:05 MST"), LockPath(path))
}

// Release gives the ledger up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the lock
	l.f = nil
	return err
}

func nowUTC() time.Time { return time.Now().UTC() }

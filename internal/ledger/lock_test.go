package ledger

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSecondHolderIsRefusedByName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	first, err := Acquire(path, "v1", time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path, "v1", time.Now())
	if err == nil {
		t.Fatal("a second holder got the ledger")
	}
	host, _ := os.Hostname()
	for _, want := range []string{path + " is in use by creditwatch pid " + strconv.Itoa(os.Getpid()), "on host " + host,
		"running since 2026-11-27 09:00:00 CST", "stop it first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := Acquire(path, "v1", time.Now())
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
	if st, err := os.Stat(LockPath(path)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode = %v, %v; want 0600", st.Mode(), err)
	}
}

// A lock held by a process that was killed (SIGKILL: no chance to clean up) does not block
// the next start.
func TestKilledHolderLeavesNoStaleLock(t *testing.T) {
	if path := os.Getenv("CREDITWATCH_HOLD_LOCK"); path != "" {
		if _, err := Acquire(path, "child", time.Now()); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Minute)
		return
	}
	path := filepath.Join(t.TempDir(), "l.db")
	child := exec.Command(os.Args[0], "-test.run=^TestKilledHolderLeavesNoStaleLock$")
	// The lock is a file next to a SQLite ledger: the child runs the SQLite half only.
	child.Env = append(os.Environ(), "CREDITWATCH_HOLD_LOCK="+path, "CREDITWATCH_TEST_BACKENDS=sqlite")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		t.Fatalf("child did not take the lock: %q", line)
	}
	if _, err := Acquire(path, "parent", time.Now()); err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(child.Process.Pid)) {
		t.Fatalf("while the child holds it: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	l, err := Acquire(path, "parent", time.Now())
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// exposedWarning is the start of what serve and migrate say about a
// database file that others than its owner can read or write.
const exposedWarning = "the database file, which holds password hashes, can be read or written by other users"

// TestFileModes checks the files a real server makes beside its SQLite
// database: the database, its -wal and -shm and the secret file are for
// their owner only, even under the usual umask 0022. A database that is
// already readable by others is left so, and said once.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022) // the server inherits it
	defer syscall.Umask(old)

	s := start(t, "")
	// A write, so that the -wal and -shm files are there to look at.
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}), 201, "")
	for _, name := range []string{s.db, s.db + "-wal", s.db + "-shm", s.db + ".secret"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Errorf("with the server running: %v", err)
		} else if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %#o, want 0600", filepath.Base(name), mode)
		}
	}
	if strings.Contains(s.logs.String(), exposedWarning) {
		t.Errorf("the server warned about its own new database:\n%s", s.logs)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// The operator opened the database to others: a server on it says so
	// once, at start, and leaves the mode alone.
	if err := os.Chmod(s.db, 0o644); err != nil {
		t.Fatal(err)
	}
	s = start(t, s.db)
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": "bob@example.com", "password": password}), 201, "")
	if n := strings.Count(s.logs.String(), exposedWarning); n != 1 {
		t.Errorf("a server on a database of mode 0644 warned %d times, want once:\n%s", n, s.logs)
	}
	for _, line := range lines(s.logs.String()) {
		if strings.Contains(line, exposedWarning) && (!strings.Contains(line, "level=WARN") || !strings.Contains(line, "mode=0644")) {
			t.Errorf("the warning %q is not at level WARN with mode=0644", line)
		}
	}
	if info, err := os.Stat(s.db); err != nil {
		t.Fatal(err)
	} else if mode := info.Mode().Perm(); mode != 0o644 {
		t.Errorf("the database's mode after a server ran on it = %#o, want 0644 as the operator left it", mode)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// So does migrate, on standard error.
	out, errOut, code := cli(t, "", nil, "migrate", "--db", s.db)
	if code != 0 || !strings.Contains(errOut, exposedWarning) {
		t.Errorf("migrate on a database of mode 0644: exit %d, stdout %q, stderr %q; want 0 and the warning", code, out, errOut)
	}
}

//go:build unix

package sqlite_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/storetest"
)

// The database holds password hashes: a new one and its -wal and -shm
// files are for their owner only, whatever the umask lets through, whether
// Open or Migrate made it.
func TestNewDatabaseIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022) // the umask is the process's: not parallel
	defer syscall.Umask(old)
	for _, migrateFirst := range []bool{false, true} {
		path := newPath(t)
		if migrateFirst {
			if err := sqlite.Migrate(t.Context(), path); err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, path)
		u := storetest.User("user-alice")
		if err := s.CreateUser(t.Context(), u, storetest.Event(gatehouse.EventUserCreated, u.ID)); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			info, err := os.Stat(name)
			if err != nil {
				t.Errorf("migrate first %t, after a write: %v", migrateFirst, err)
			} else if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("migrate first %t: %s has mode %#o, want 0600", migrateFirst, info.Name(), mode)
			}
		}
	}
}

// Open leaves the mode of an existing database alone: an operator may have
// opened it to a group on purpose.
func TestExistingDatabaseKeepsItsMode(t *testing.T) {
	path := newPath(t)
	open(t, path).Close()
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	u := storetest.User("user-alice")
	if err := s.CreateUser(t.Context(), u, storetest.Event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if mode := info.Mode().Perm(); mode != 0o640 {
		t.Errorf("mode after Open = %#o, want 0640 as it was", mode)
	}
}

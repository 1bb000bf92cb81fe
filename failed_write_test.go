package gatehouse_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// failingWrites is a store whose user updates and revocations fail, as
// on a full disk: the one thing here that cannot be made real.
type failingWrites struct {
	gatehouse.Store
	down atomic.Bool
}

var errDisk = gatehouse.Unavailable(errors.New("disk full"))

func (f *failingWrites) UpdateUser(ctx context.Context, c gatehouse.UserChange) ([]string, error) {
	if f.down.Load() {
		return nil, errDisk
	}
	return f.Store.UpdateUser(ctx, c)
}

func (f *failingWrites) RevokeLogins(ctx context.Context, r gatehouse.Revocation, ev gatehouse.AuditEvent) ([]string, error) {
	if f.down.Load() {
		return nil, errDisk
	}
	return f.Store.RevokeLogins(ctx, r, ev)
}

// countingNotifier counts the rings.
type countingNotifier struct{ rings atomic.Int64 }

func (n *countingNotifier) Notify(context.Context) error { n.rings.Add(1); return nil }
func (n *countingNotifier) Changes() <-chan struct{}     { return nil }
func (n *countingNotifier) Ping(context.Context) error   { return nil }

// A write that fails changes nothing anywhere: the session stays usable
// here, other servers are not rung, and the error reaches the caller.
func TestFailedWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := &failingWrites{Store: st}
	ring := &countingNotifier{}
	svc, err := gatehouse.NewService(f, gatehouse.Config{
		Notifier: ring,
		Hasher:   password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "ada@example.com", testPassword, []string{gatehouse.RoleCustomer}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: gatehouse.ModeSession})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.AuthenticateSession(ctx, res.Secret)
	if err != nil {
		t.Fatal(err)
	}
	f.down.Store(true)
	before := ring.rings.Load()
	for name, change := range map[string]func() error{
		"disable": func() error { _, err := svc.SetDisabled(ctx, u.ID, true, gatehouse.Client{}); return err },
		"change password": func() error {
			return svc.ChangePassword(ctx, p, testPassword, "another long passphrase", gatehouse.Client{})
		},
		"logout":     func() error { return svc.Logout(ctx, p, gatehouse.Client{}) },
		"revoke all": func() error { _, err := svc.RevokeUserSessions(ctx, u.ID, gatehouse.Client{}); return err },
	} {
		if err := change(); gatehouse.ErrorCode(err) != gatehouse.CodeUnavailable {
			t.Errorf("%s with the disk full: %v, want unavailable", name, err)
		}
		if _, err := svc.AuthenticateSession(ctx, res.Secret); err != nil {
			t.Errorf("after a failed %s the session is refused: %v", name, err)
		}
	}
	if n := ring.rings.Load() - before; n != 0 {
		t.Errorf("failed writes rang the other servers %d times", n)
	}
}

package gatehouse_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// These tests run two services on one SQLite file, as two servers (or a
// server and the CLI) do: "here" checks sessions and caches them, "there"
// changes them. They share a settable clock and call Sync where Run would,
// so nothing sleeps.

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// spyStore counts the session reads that reach the store, and fails reads
// of the revocation feed while feedDown is set.
type spyStore struct {
	gatehouse.Store
	reads    atomic.Int64
	feedDown atomic.Bool
}

func (s *spyStore) SessionBySecretHash(ctx context.Context, hash []byte) (gatehouse.Login, gatehouse.User, error) {
	s.reads.Add(1)
	return s.Store.SessionBySecretHash(ctx, hash)
}

func (s *spyStore) RevocationsAfter(ctx context.Context, after int64, since time.Time, limit int) ([]gatehouse.RevocationEvent, error) {
	if s.feedDown.Load() {
		return nil, gatehouse.Unavailable(errors.New("the feed is down"))
	}
	return s.Store.RevocationsAfter(ctx, after, since, limit)
}

// twoServers is a pair of services on one store file and one clock.
type twoServers struct {
	t           *testing.T
	ctx         context.Context
	clock       *clock
	spy         *spyStore // under here
	here, there *gatehouse.Service
}

const testPassword = "correct horse battery staple 42"

func newTwoServers(t *testing.T) *twoServers {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	clk := &clock{t: time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)}
	open := func(st gatehouse.Store) *gatehouse.Service {
		svc, err := gatehouse.NewService(st, gatehouse.Config{
			Now:    clk.Now,
			Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return svc
	}
	stores := make([]*sqlite.Store, 2)
	for i := range stores {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	spy := &spyStore{Store: stores[0]}
	return &twoServers{t: t, ctx: ctx, clock: clk, spy: spy, here: open(spy), there: open(stores[1])}
}

// signIn creates a customer (through there) and returns the secrets of n
// sessions of theirs.
func (s *twoServers) signIn(email string, n int) (gatehouse.User, []string) {
	s.t.Helper()
	u, err := s.there.CreateUser(s.ctx, email, testPassword, []string{gatehouse.RoleCustomer}, gatehouse.Client{})
	if err != nil {
		s.t.Fatal(err)
	}
	secrets := make([]string, n)
	for i := range secrets {
		res, err := s.there.Login(s.ctx, gatehouse.LoginRequest{Email: email, Password: testPassword, Mode: gatehouse.ModeSession})
		if err != nil {
			s.t.Fatal(err)
		}
		secrets[i] = res.Secret
	}
	return u, secrets
}

// check checks a secret here and says how many store reads it took.
func (s *twoServers) check(secret string) (gatehouse.Principal, int64, error) {
	before := s.spy.reads.Load()
	p, err := s.here.AuthenticateSession(s.ctx, secret)
	return p, s.spy.reads.Load() - before, err
}

// sync applies the revocation feed here, as Run does every second.
func (s *twoServers) sync() {
	s.t.Helper()
	if err := s.here.Sync(s.ctx); err != nil {
		s.t.Fatal(err)
	}
}

// A session checked again is answered from the cache, without a store
// read, for as long as CacheTTL while the feed is current, and the same
// principal comes back.
func TestCachedSessionIsTrustedForCacheTTL(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	first, reads, err := s.check(secrets[0])
	if err != nil || reads != 1 {
		t.Fatalf("first check = %v with %d store reads, want nil and 1", err, reads)
	}
	// The entry lives CacheTTL less up to a quarter.
	elapsed := time.Duration(0)
	for ; elapsed+time.Second < gatehouse.DefaultCacheTTL*3/4; elapsed += time.Second {
		s.clock.Advance(time.Second)
		s.sync()
		p, reads, err := s.check(secrets[0])
		if err != nil || reads != 0 {
			t.Fatalf("check %v later = %v with %d store reads, want nil and none", elapsed+time.Second, err, reads)
		}
		if p.User.ID != first.User.ID || p.Login.ID != first.Login.ID || !p.Login.ExpiresAt.Equal(first.Login.ExpiresAt) ||
			!slices.Equal(p.Permissions, first.Permissions) || !slices.Equal(p.User.Roles, first.User.Roles) {
			t.Fatalf("cached principal = %+v, want %+v", p, first)
		}
	}
	s.clock.Advance(gatehouse.DefaultCacheTTL - elapsed)
	s.sync()
	if _, reads, err := s.check(secrets[0]); err != nil || reads != 1 {
		t.Fatalf("check past CacheTTL = %v with %d store reads, want nil and 1", err, reads)
	}
}

// Every change made by another process that a session check must honour
// reaches this server through the revocation feed: at the next poll, the
// cached session is refused or shows the change, long before CacheTTL.
func TestChangesElsewhereReachTheCacheThroughTheFeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		// change makes the change through there, given the user and the
		// secrets of their two sessions; the first is the one checked.
		change func(s *twoServers, u gatehouse.User, secrets []string)
		// refused says the checked session must then be refused; else it
		// must show the user as an admin.
		refused bool
	}{
		{name: "logout", refused: true, change: func(s *twoServers, _ gatehouse.User, secrets []string) {
			p, err := s.there.AuthenticateSession(s.ctx, secrets[0])
			if err != nil {
				s.t.Fatal(err)
			}
			if err := s.there.Logout(s.ctx, p, gatehouse.Client{}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{name: "revoked from another session", refused: true, change: func(s *twoServers, _ gatehouse.User, secrets []string) {
			p, err := s.there.AuthenticateSession(s.ctx, secrets[1])
			if err != nil {
				s.t.Fatal(err)
			}
			if err := s.there.RevokeSessions(s.ctx, p, true, gatehouse.Client{}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{name: "revoked by the CLI", refused: true, change: func(s *twoServers, u gatehouse.User, _ []string) {
			if _, err := s.there.RevokeUserSessions(s.ctx, u.ID, gatehouse.Client{IP: "cli"}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{name: "password changed from another session", refused: true, change: func(s *twoServers, _ gatehouse.User, secrets []string) {
			p, err := s.there.AuthenticateSession(s.ctx, secrets[1])
			if err != nil {
				s.t.Fatal(err)
			}
			if err := s.there.ChangePassword(s.ctx, p, testPassword, "another horse battery staple 43", gatehouse.Client{}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{name: "user disabled", refused: true, change: func(s *twoServers, u gatehouse.User, _ []string) {
			if _, err := s.there.SetDisabled(s.ctx, u.ID, true, gatehouse.Client{IP: "cli"}); err != nil {
				s.t.Fatal(err)
			}
		}},
		{name: "roles changed", change: func(s *twoServers, u gatehouse.User, _ []string) {
			if _, err := s.there.SetRoles(s.ctx, u.ID, []string{gatehouse.RoleAdmin}, gatehouse.Client{IP: "cli"}); err != nil {
				s.t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTwoServers(t)
			u, secrets := s.signIn("ada@example.com", 2)
			if _, _, err := s.check(secrets[0]); err != nil {
				t.Fatal(err)
			}
			tc.change(s, u, secrets)
			// Until this server reads the feed, its cache answers: the
			// change is honoured within a poll, not at once.
			if p, reads, err := s.check(secrets[0]); err != nil || reads != 0 || p.Can("users:admin") {
				t.Fatalf("check before the poll = %v (admin %v) with %d store reads, want the cached principal", err, p.Can("users:admin"), reads)
			}
			s.clock.Advance(time.Second)
			s.sync()
			p, _, err := s.check(secrets[0])
			switch {
			case tc.refused && gatehouse.ErrorCode(err) != gatehouse.CodeUnauthenticated:
				t.Fatalf("check after the poll = %v, want unauthenticated", err)
			case !tc.refused && (err != nil || !p.Can("users:admin") || !slices.Equal(p.User.Roles, []string{gatehouse.RoleAdmin})):
				t.Fatalf("check after the poll = %v, roles %v, permissions %v; want the admin role", err, p.User.Roles, p.Permissions)
			}
		})
	}
}

// A session read from the store just before another process revoked it
// is not cached by a check that finishes after the feed dropped it, which
// would trust it for CacheTTL: the next check reads the store again.
func TestCheckRacingTheFeedDoesNotCacheARevokedSession(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	p, err := s.there.AuthenticateSession(s.ctx, secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	// The store read of the check happens, then the revocation and the
	// poll that applies it, then the check caches what it read.
	s.spy.Store = &racingStore{Store: s.spy.Store, before: func() {
		if err := s.there.Logout(s.ctx, p, gatehouse.Client{}); err != nil {
			t.Error(err)
		}
		s.sync()
	}}
	if _, _, err := s.check(secrets[0]); err != nil {
		t.Fatalf("racing check = %v, want the session it read", err)
	}
	if _, reads, err := s.check(secrets[0]); gatehouse.ErrorCode(err) != gatehouse.CodeUnauthenticated || reads != 1 {
		t.Fatalf("next check = %v with %d store reads, want unauthenticated from a store read", err, reads)
	}
}

// A session revoked elsewhere between the read of a check that records
// its activity and that write is refused, not reported missing.
func TestCheckRacingARevocationBeforeItsTouch(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	p, err := s.there.AuthenticateSession(s.ctx, secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Minute) // the next check records activity
	s.sync()
	s.spy.Store = &racingStore{Store: s.spy.Store, before: func() {
		if err := s.there.Logout(s.ctx, p, gatehouse.Client{}); err != nil {
			t.Error(err)
		}
	}}
	if _, _, err := s.check(secrets[0]); gatehouse.ErrorCode(err) != gatehouse.CodeUnauthenticated {
		t.Fatalf("check whose touch found the session revoked = %v, want unauthenticated", err)
	}
}

// racingStore runs before once, after the first session read.
type racingStore struct {
	gatehouse.Store
	before func()
	once   sync.Once
}

func (s *racingStore) SessionBySecretHash(ctx context.Context, hash []byte) (gatehouse.Login, gatehouse.User, error) {
	l, u, err := s.Store.SessionBySecretHash(ctx, hash)
	s.once.Do(s.before)
	return l, u, err
}

// When the feed cannot be read, this server would not hear of a
// revocation made elsewhere: a cached session is then trusted for a
// second at most, as before the feed, and is refused once the store says
// so.
func TestFeedDownFailsClosed(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 2)
	for _, secret := range secrets {
		if _, _, err := s.check(secret); err != nil {
			t.Fatal(err)
		}
	}
	s.spy.feedDown.Store(true)
	if err := s.here.Sync(s.ctx); err == nil {
		t.Fatal("Sync with the feed down = nil, want an error")
	}
	p, err := s.there.AuthenticateSession(s.ctx, secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.there.Logout(s.ctx, p, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(time.Second)
	if _, reads, err := s.check(secrets[0]); gatehouse.ErrorCode(err) != gatehouse.CodeUnauthenticated || reads != 1 {
		t.Fatalf("revoked session a second later, feed down = %v with %d store reads, want unauthenticated from a store read", err, reads)
	}
	if _, reads, err := s.check(secrets[1]); err != nil || reads != 1 {
		t.Fatalf("live session a second later, feed down = %v with %d store reads, want nil from a store read", err, reads)
	}
	if _, reads, err := s.check(secrets[1]); err != nil || reads != 0 {
		t.Fatalf("live session checked again = %v with %d store reads, want nil from the cache", err, reads)
	}
	// The feed back, entries are trusted for CacheTTL again.
	s.spy.feedDown.Store(false)
	s.sync()
	s.clock.Advance(2 * time.Second)
	if _, reads, err := s.check(secrets[1]); err != nil || reads != 0 {
		t.Fatalf("live session two seconds later, feed back = %v with %d store reads, want nil from the cache", err, reads)
	}
}

// A service whose feed is not read (one that is not Run, or whose poll
// hangs) stops trusting cached sessions beyond a second once its last
// read of the feed is three seconds old.
func TestFeedNotReadFailsClosed(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	s.sync()
	if _, _, err := s.check(secrets[0]); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(2 * time.Second)
	if _, reads, err := s.check(secrets[0]); err != nil || reads != 0 {
		t.Fatalf("check 2 s after the last poll = %v with %d store reads, want nil from the cache", err, reads)
	}
	s.clock.Advance(time.Second)
	if _, reads, err := s.check(secrets[0]); err != nil || reads != 1 {
		t.Fatalf("check 3 s after the last poll = %v with %d store reads, want nil from a store read", err, reads)
	}
}

// Run applies the feed by itself: a session revoked through another
// service is refused here without any call to Sync. The clock stands
// still, so the feed stays current and only the feed can refuse it.
func TestRunAppliesTheFeed(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	if _, _, err := s.check(secrets[0]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	go func() { s.here.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	p, err := s.there.AuthenticateSession(s.ctx, secrets[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.there.Logout(s.ctx, p, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, _, err := s.check(secrets[0])
		if gatehouse.ErrorCode(err) == gatehouse.CodeUnauthenticated {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("check of a session revoked elsewhere = %v after 10 s of Run, want unauthenticated", err)
		}
	}
}

// A cached check allocates nothing.
func TestCachedCheckDoesNotAllocate(t *testing.T) {
	s := newTwoServers(t)
	_, secrets := s.signIn("ada@example.com", 1)
	if _, _, err := s.check(secrets[0]); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := s.here.AuthenticateSession(s.ctx, secrets[0]); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a cached check allocates %v times, want none", n)
	}
}

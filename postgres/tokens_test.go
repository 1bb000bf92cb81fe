package postgres_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/postgres"
	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// TestRefreshTokensGoWithTheirLogin checks under the store that every way
// a login goes takes all its refresh tokens, used ones included, with it:
// the store's reads could not tell, as they join the login.
func TestRefreshTokensGoWithTheirLogin(t *testing.T) {
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	db := rawDB(t, url)
	u := user("user-alice")
	createUser(t, s, u)
	// Each login has a used token and its unused successor.
	ids := []string{"login-revoked", "login-password", "login-expired", "login-kept"}
	for _, id := range ids {
		l := tokenLogin(id, u.ID)
		if id == "login-expired" {
			l.ExpiresAt = t0.Add(time.Hour)
		} else {
			l.ExpiresAt = t0.Add(48 * time.Hour)
		}
		first := refresh(id+" first", id, t0)
		if err := s.CreateTokenLogin(ctx, l, first, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
			t.Fatalf("CreateTokenLogin(%q) = %v, want nil", id, err)
		}
		next := refresh(id+" next", id, t0.Add(time.Minute))
		if ok, err := s.RotateRefreshToken(ctx, first.Hash, next, event(gatehouse.EventTokenRefreshed, u.ID)); err != nil || !ok {
			t.Fatalf("RotateRefreshToken(%q) = %t, %v; want true, nil", id, ok, err)
		}
	}
	tokens := func(loginID string) int {
		t.Helper()
		return count(t, db, `SELECT count(*) FROM refresh_tokens WHERE login_id = $1`, loginID)
	}
	for _, id := range ids {
		if n := tokens(id); n != 2 {
			t.Fatalf("refresh tokens of %s = %d, want 2", id, n)
		}
	}

	r := gatehouse.Revocation{UserID: u.ID, LoginID: "login-revoked", Reason: gatehouse.ReasonRevoked, At: t0}
	if _, err := s.RevokeLogins(ctx, r, event(gatehouse.EventSessionRevoked, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	r = gatehouse.Revocation{UserID: u.ID, LoginID: "login-password", Reason: gatehouse.ReasonPasswordChanged, At: t0}
	if _, err := s.UpdateUser(ctx, u, &r, event(gatehouse.EventPasswordChanged, u.ID)); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	if n, err := s.DeleteExpiredLogins(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredLogins = %d, %v; want 1, nil", n, err)
	}
	for _, id := range []string{"login-revoked", "login-password", "login-expired"} {
		if n := tokens(id); n != 0 {
			t.Errorf("refresh tokens of %s after it went = %d, want 0", id, n)
		}
	}
	if n := tokens("login-kept"); n != 2 {
		t.Errorf("refresh tokens of login-kept = %d, want 2", n)
	}
}

// TestRotateAcrossStores rotates one token from two stores on one
// database at once, as two servers would: exactly one rotation wins.
func TestRotateAcrossStores(t *testing.T) {
	const workers = 20
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	stores := []*postgres.Store{open(t, url), open(t, url)}
	u := user("user-alice")
	createUser(t, stores[0], u)
	l := tokenLogin("login-token", u.ID)
	first := refresh("first", l.ID, t0)
	if err := stores[0].CreateTokenLogin(ctx, l, first, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
		t.Fatalf("CreateTokenLogin = %v, want nil", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			next := refresh(fmt.Sprintf("next-%02d", i), l.ID, t0.Add(time.Duration(i+1)*time.Second))
			ok, err := stores[i%2].RotateRefreshToken(ctx, first.Hash, next, event(gatehouse.EventTokenRefreshed, u.ID))
			if err != nil {
				t.Errorf("RotateRefreshToken = %v, want nil", err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if got := wins.Load(); got != 1 {
		t.Errorf("%d of %d rotations won, want 1", got, workers)
	}
	if n := count(t, rawDB(t, url), `SELECT count(*) FROM refresh_tokens`); n != 2 {
		t.Errorf("refresh tokens = %d, want 2 (the used one and one successor)", n)
	}
}

// TestRacingWrites runs writes that touch the same rows in different
// orders at once: rotations of a login's token racing its revocation (as
// when a stolen token is presented while its owner refreshes), and
// revocations of every login of a user racing the deletion of expired
// ones. None may fail: PostgreSQL would abort one of two deadlocked
// transactions, which the store must avoid or run again.
func TestRacingWrites(t *testing.T) {
	const rounds = 30
	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	a, b := open(t, url), open(t, url)
	u := user("user-alice")
	createUser(t, a, u)

	for i := range rounds {
		l := tokenLogin(fmt.Sprintf("login-%02d", i), u.ID)
		first := refresh(l.ID, l.ID, t0)
		if err := a.CreateTokenLogin(ctx, l, first, event(gatehouse.EventLoginSucceeded, u.ID)); err != nil {
			t.Fatalf("CreateTokenLogin = %v, want nil", err)
		}
		// Sessions, half of them expired, for the revoke-all and the
		// deletion of expired logins to fight over.
		for j := range 6 {
			sl := session(fmt.Sprintf("login-%02d-s%d", i, j), u.ID)
			if j%2 == 0 {
				sl.ExpiresAt = t0.Add(-time.Minute)
			}
			createLogin(t, a, sl)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			next := refresh(l.ID+" next", l.ID, t0.Add(time.Minute))
			if _, err := a.RotateRefreshToken(ctx, first.Hash, next, event(gatehouse.EventTokenRefreshed, u.ID)); err != nil {
				t.Errorf("RotateRefreshToken racing a revocation = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			r := gatehouse.Revocation{UserID: u.ID, LoginID: l.ID, Reason: gatehouse.ReasonRefreshTokenReused, At: t0}
			if _, err := b.RevokeLogins(ctx, r, event(gatehouse.EventRefreshTokenReused, u.ID)); err != nil {
				t.Errorf("RevokeLogins racing a rotation = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: t0}
			if _, err := a.UpdateUser(ctx, u, &r, event(gatehouse.EventPasswordChanged, u.ID)); err != nil {
				t.Errorf("UpdateUser revoking all racing DeleteExpiredLogins = %v, want nil", err)
			}
		})
		wg.Go(func() {
			<-start
			if _, err := b.DeleteExpiredLogins(ctx, t0); err != nil {
				t.Errorf("DeleteExpiredLogins racing a revocation = %v, want nil", err)
			}
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
		if _, err := a.LoginByID(ctx, l.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Fatalf("LoginByID of the revoked login = %v, want CodeNotFound", err)
		}
	}
}

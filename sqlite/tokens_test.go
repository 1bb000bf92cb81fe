package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/pressly/goose/v3"
)

// TestRefreshTokensGoWithTheirLogin checks under the store that every way
// a login goes takes all its refresh tokens, used ones included, with it:
// the store's reads could not tell, as they join the login.
func TestRefreshTokensGoWithTheirLogin(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	s := open(t, path)
	db := rawDB(t, path)
	u := user("user-alice")
	if err := s.CreateUser(ctx, u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
	// Each login has a used token and its unused successor.
	logins := map[string]gatehouse.Login{}
	for _, id := range []string{"login-revoked", "login-password", "login-expired", "login-kept"} {
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
		logins[id] = l
	}
	tokens := func(loginID string) int {
		t.Helper()
		return count(t, db, `SELECT count(*) FROM refresh_tokens WHERE login_id = ?`, loginID)
	}
	for id := range logins {
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

func checkUnavailable(t *testing.T, call string, err error) {
	t.Helper()
	if got := gatehouse.ErrorCode(err); got != gatehouse.CodeUnavailable {
		t.Errorf("%s: error %v has code %q, want %q", call, err, got, gatehouse.CodeUnavailable)
	}
}

// TestRotateAcrossStores rotates one token from two stores on one file at
// once, as two processes would: exactly one rotation wins.
func TestRotateAcrossStores(t *testing.T) {
	const workers = 20
	ctx := t.Context()
	path := newPath(t)
	stores := []*sqlite.Store{open(t, path), open(t, path)}
	u := user("user-alice")
	if err := stores[0].CreateUser(ctx, u, event(gatehouse.EventUserCreated, u.ID)); err != nil {
		t.Fatalf("CreateUser = %v, want nil", err)
	}
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
	if n := count(t, rawDB(t, path), `SELECT count(*) FROM refresh_tokens`); n != 2 {
		t.Errorf("refresh tokens = %d, want 2 (the used one and one successor)", n)
	}
}

// TestRevocationsAfterPlan checks that each form of the feed's query reads
// the index it is meant to, rather than the whole feed.
func TestRevocationsAfterPlan(t *testing.T) {
	path := newPath(t)
	open(t, path)
	db := rawDB(t, path)
	for _, tt := range []struct {
		name, query, want string
	}{
		{name: "by seq", query: sqlite.RevocationsBySeq, want: "USING INTEGER PRIMARY KEY"},
		{name: "by since", query: sqlite.RevocationsBySince, want: "USING INDEX revocations_at"},
	} {
		rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+tt.query, 1, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan, "; "); !strings.Contains(got, "SEARCH revocations "+tt.want) {
			t.Errorf("plan %s = %q, want a search of revocations %s", tt.name, got, tt.want)
		}
	}
}

// TestMigrateFromVersion1 opens a database with data in the first schema,
// as a running deployment has it: 00002 applies and the data is kept.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	path := newPath(t)
	db := rawDB(t, path)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, os.DirFS("migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrating to version 1: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO users (id, email, password_hash, created_at) VALUES ('user-alice', 'alice@example.com', 'hash', 1)`,
		`INSERT INTO logins (id, user_id, mode, created_at, expires_at) VALUES ('login-1', 'user-alice', 'token', 1, 9000000000000000000)`,
		`INSERT INTO revocations (login_id, user_id, reason, at) VALUES ('login-0', 'user-alice', 'logout', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	l, err := s.LoginByID(ctx, "login-1")
	if err != nil {
		t.Fatalf("LoginByID after migrating = %v, want nil", err)
	}
	feed, err := s.RevocationsAfter(ctx, 0, time.Time{}, 10)
	if err != nil || len(feed) != 1 || feed[0].LoginID != "login-0" {
		t.Errorf("RevocationsAfter after migrating = %+v, %v; want the one entry of version 1", feed, err)
	}
	rt := refresh("first", l.ID, t0)
	next := refresh("next", l.ID, t0.Add(time.Minute))
	// A login of version 1 has no refresh token: there is nothing to rotate.
	if ok, err := s.RotateRefreshToken(ctx, rt.Hash, next, event(gatehouse.EventTokenRefreshed, l.UserID)); err != nil || ok {
		t.Errorf("RotateRefreshToken = %t, %v; want false, nil", ok, err)
	}
}

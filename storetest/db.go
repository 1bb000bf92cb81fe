package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// DB is one database, for the tests that open more than one store on it
// or look under the store. Statements given to Exec and Int number their
// placeholders ($1, $2, …), which both engines take.
type DB struct {
	// Open opens a store on the database, and closes it at cleanup.
	Open func(t testing.TB) gatehouse.Store
	// Exec runs a statement on the database, not through a store.
	Exec func(t testing.TB, query string, args ...any)
	// Int runs a query whose result is one integer on the database, not
	// through a store.
	Int func(t testing.TB, query string, args ...any) int64
}

// RunDB runs the tests that need a DB, one subtest each. newDB must
// return a new, empty database.
func RunDB(t *testing.T, newDB func(t *testing.T) DB) {
	tests := []struct {
		name string
		test func(t *testing.T, db DB)
	}{
		{"Reopen", testReopen},
		{"Closed", testClosed},
		{"RotateAcrossStores", testRotateAcrossStores},
		{"RefreshTokensGoWithTheirLogin", testRefreshTokensGoWithTheirLogin},
		{"DeleteUser", testDeleteUser},
		{"DeleteUserConsents", testDeleteUserConsents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newDB(t)) })
	}
}

// Opened returns the store s that an Open returned with err, and closes
// it at cleanup; it ends the test when err is not nil.
func Opened[S io.Closer](t testing.TB, s S, err error) S {
	t.Helper()
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
	return s
}

// closeStore closes a store that DB.Open opened before its cleanup does.
func closeStore(t testing.TB, s gatehouse.Store) {
	t.Helper()
	if err := s.(io.Closer).Close(); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
}

// LastMigration returns the number of the last migration file in
// migrations/, where the stores keep theirs: the schema version a
// migrated database has.
func LastMigration(t testing.TB) int64 {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files = %q, %v", files, err)
	}
	last, _, _ := strings.Cut(filepath.Base(files[len(files)-1]), "_")
	v, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Call is one call of a Store method.
type Call struct {
	Name  string
	Write bool
	Do    func(ctx context.Context, s gatehouse.Store) error
}

// Fill gives s one user with a session, a token login and its refresh
// token, a signing key, a feed entry and audit events. It returns one
// call of every Store method, reads first, each of which succeeds on s
// (the writes once).
func Fill(t testing.TB, s gatehouse.Store) []Call {
	t.Helper()
	u, l := User("user-alice"), Session("login-1", "user-alice", T0)
	CreateUser(t, s, u)
	CreateLogin(t, s, l)
	tok := Token("login-token", u.ID, T0)
	first := RefreshToken("first", tok.ID, T0)
	CreateTokenLogin(t, s, tok, first)
	k := gatehouse.SigningKey{ID: "key-1", Alg: "EdDSA", Sealed: []byte("sealed"), CreatedAt: T0}
	if err := s.CreateKey(t.Context(), k, Event(gatehouse.EventKeysRotated, "")); err != nil {
		t.Fatalf("CreateKey = %v, want nil", err)
	}
	feed := &gatehouse.RevocationEvent{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: T0}
	if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Feed: feed, Events: []gatehouse.AuditEvent{Event(gatehouse.EventUserRolesChanged, u.ID)}}); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}

	CreateApp(t, s, App("app-1"))
	exchanged, pending := completedAuthRequest(t, s, "req-exchanged"), completedAuthRequest(t, s, "req-pending")
	appLogin := AppLogin("login-app", u.ID, T0)
	grant := gatehouse.AppGrant{LoginID: appLogin.ID, AppID: "app-1", Scopes: exchanged.Scopes, AuthTime: T0}
	if won, err := s.ExchangeAuthCode(t.Context(), exchanged.CodeHash, appLogin, nil, grant, Event(gatehouse.EventLoginSucceeded, u.ID)); !won || err != nil {
		t.Fatalf("ExchangeAuthCode = %t, %v; want true, nil", won, err)
	}

	type S = gatehouse.Store
	return []Call{
		{"Ping", false, func(ctx context.Context, s S) error { return s.Ping(ctx) }},
		{"UserByID", false, func(ctx context.Context, s S) error { _, err := s.UserByID(ctx, u.ID); return err }},
		{"UserByEmail", false, func(ctx context.Context, s S) error { _, err := s.UserByEmail(ctx, u.Email); return err }},
		{"ListUsers", false, func(ctx context.Context, s S) error {
			_, err := s.ListUsers(ctx, gatehouse.UserQuery{Limit: 10})
			return err
		}},
		{"SessionBySecretHash", false, func(ctx context.Context, s S) error {
			_, _, err := s.SessionBySecretHash(ctx, l.SecretHash)
			return err
		}},
		{"LoginByID", false, func(ctx context.Context, s S) error { _, err := s.LoginByID(ctx, l.ID); return err }},
		{"ListLogins", false, func(ctx context.Context, s S) error { _, err := s.ListLogins(ctx, u.ID, T0); return err }},
		{"CountLiveLogins", false, func(ctx context.Context, s S) error { _, err := s.CountLiveLogins(ctx, T0); return err }},
		{"ListAudit", false, func(ctx context.Context, s S) error {
			_, err := s.ListAudit(ctx, gatehouse.AuditQuery{Limit: 10})
			return err
		}},
		{"RefreshToken", false, func(ctx context.Context, s S) error { _, _, _, err := s.RefreshToken(ctx, first.Hash); return err }},
		{"ListKeys", false, func(ctx context.Context, s S) error { _, err := s.ListKeys(ctx); return err }},
		{"RevocationsAfter", false, func(ctx context.Context, s S) error {
			_, err := s.RevocationsAfter(ctx, 1, T0, 10)
			return err
		}},
		{"RevocationsAfter without a position", false, func(ctx context.Context, s S) error {
			_, err := s.RevocationsAfter(ctx, 0, T0, 10)
			return err
		}},
		{"AuthRequest", false, func(ctx context.Context, s S) error { _, err := s.AuthRequest(ctx, pending.ID); return err }},
		{"AuthRequestByCode", false, func(ctx context.Context, s S) error {
			_, err := s.AuthRequestByCode(ctx, exchanged.CodeHash)
			return err
		}},
		{"AppGrant", false, func(ctx context.Context, s S) error { _, err := s.AppGrant(ctx, appLogin.ID); return err }},
		{"CreateUser", true, func(ctx context.Context, s S) error {
			return s.CreateUser(ctx, User("user-new"), Event(gatehouse.EventUserCreated, "user-new"))
		}},
		{"UpdateUser", true, func(ctx context.Context, s S) error {
			_, err := s.UpdateUser(ctx, gatehouse.UserChange{User: u, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, u.ID)}})
			return err
		}},
		{"CreateLogin", true, func(ctx context.Context, s S) error {
			return s.CreateLogin(ctx, Session("login-new", u.ID, T0), Event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"TouchLogin", true, func(ctx context.Context, s S) error {
			return s.TouchLogin(ctx, l.ID, T0.Add(time.Minute), T0.Add(time.Hour))
		}},
		{"RotateRefreshToken", true, func(ctx context.Context, s S) error {
			next := RefreshToken("next", tok.ID, T0.Add(time.Minute))
			_, err := s.RotateRefreshToken(ctx, first.Hash, next, Event(gatehouse.EventTokenRefreshed, u.ID))
			return err
		}},
		{"RevokeLogins", true, func(ctx context.Context, s S) error {
			r := gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRevoked, At: T0}
			_, err := s.RevokeLogins(ctx, r, Event(gatehouse.EventSessionRevoked, u.ID))
			return err
		}},
		{"DeleteExpiredLogins", true, func(ctx context.Context, s S) error {
			_, err := s.DeleteExpiredLogins(ctx, T0.Add(365*24*time.Hour))
			return err
		}},
		{"RecordAudit", true, func(ctx context.Context, s S) error {
			return s.RecordAudit(ctx, Event(gatehouse.EventLoginFailed, u.ID))
		}},
		{"CreateTokenLogin", true, func(ctx context.Context, s S) error {
			l := Token("login-token-new", u.ID, T0)
			return s.CreateTokenLogin(ctx, l, RefreshToken("new", l.ID, T0), Event(gatehouse.EventLoginSucceeded, u.ID))
		}},
		{"CreateKey", true, func(ctx context.Context, s S) error {
			k := gatehouse.SigningKey{ID: "key-new", Alg: "EdDSA", Sealed: []byte("sealed"), CreatedAt: T0}
			return s.CreateKey(ctx, k, Event(gatehouse.EventKeysRotated, ""))
		}},
		{"DeleteKey", true, func(ctx context.Context, s S) error { return s.DeleteKey(ctx, k.ID) }},
		{"CreateAuthRequest", true, func(ctx context.Context, s S) error { return s.CreateAuthRequest(ctx, AuthRequest("req-new", T0)) }},
		{"CompleteAuthRequest", true, func(ctx context.Context, s S) error {
			r := AuthRequest("req-new", T0)
			r.UserID, r.AuthTime = u.ID, T0
			return s.CompleteAuthRequest(ctx, r)
		}},
		{"ExchangeAuthCode", true, func(ctx context.Context, s S) error {
			l := AppLogin("login-app-new", u.ID, T0)
			g := gatehouse.AppGrant{LoginID: l.ID, AppID: "app-1", Scopes: pending.Scopes, AuthTime: T0}
			won, err := s.ExchangeAuthCode(ctx, pending.CodeHash, l, nil, g, Event(gatehouse.EventLoginSucceeded, u.ID))
			if err == nil && !won {
				err = errors.New("ExchangeAuthCode of a pending code lost")
			}
			return err
		}},
		{"DeleteExpiredAuthRequests", true, func(ctx context.Context, s S) error {
			_, err := s.DeleteExpiredAuthRequests(ctx, T0.Add(time.Hour))
			return err
		}},
	}
}

func testReopen(t *testing.T, db DB) {
	s := db.Open(t)
	u := User("user-alice")
	CreateUser(t, s, u)
	closeStore(t, s)

	got, err := db.Open(t).UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID after reopening = %v, want nil", err)
	}
	checkUser(t, "UserByID after reopening", got, u)
}

// testClosed: every method of a closed store fails with CodeUnavailable.
func testClosed(t *testing.T, db DB) {
	s := db.Open(t)
	calls := Fill(t, s)
	closeStore(t, s)
	for _, c := range calls {
		CheckCode(t, c.Name+" on a closed store", c.Do(t.Context(), s), gatehouse.CodeUnavailable)
	}
}

// testRotateAcrossStores rotates one token from two stores on one
// database at once, as two servers would: exactly one rotation wins.
func testRotateAcrossStores(t *testing.T, db DB) {
	stores := []gatehouse.Store{db.Open(t), db.Open(t)}
	rotateConcurrently(t, stores, "alice", func(i int) string { return fmt.Sprintf("next-%02d", i) })
}

// testRefreshTokensGoWithTheirLogin checks under the store that every way
// a login goes takes all its refresh tokens, used ones included, with it:
// the store's reads could not tell, as they join the login.
func testRefreshTokensGoWithTheirLogin(t *testing.T, db DB) {
	ctx := t.Context()
	s := db.Open(t)
	u := User("user-alice")
	CreateUser(t, s, u)
	// Each login has a used token and its unused successor.
	ids := []string{"login-revoked", "login-password", "login-expired", "login-kept"}
	for _, id := range ids {
		l := Token(id, u.ID, T0)
		if id == "login-expired" {
			l.ExpiresAt = T0.Add(time.Hour)
		}
		first := RefreshToken(id+" first", id, T0)
		CreateTokenLogin(t, s, l, first)
		next := RefreshToken(id+" next", id, T0.Add(time.Minute))
		if ok, err := s.RotateRefreshToken(ctx, first.Hash, next, Event(gatehouse.EventTokenRefreshed, u.ID)); err != nil || !ok {
			t.Fatalf("RotateRefreshToken(%q) = %t, %v; want true, nil", id, ok, err)
		}
	}
	tokens := func(loginID string) int64 {
		t.Helper()
		return db.Int(t, `SELECT count(*) FROM refresh_tokens WHERE login_id = $1`, loginID)
	}
	for _, id := range ids {
		if n := tokens(id); n != 2 {
			t.Fatalf("refresh tokens of %s = %d, want 2", id, n)
		}
	}

	r := gatehouse.Revocation{UserID: u.ID, LoginID: "login-revoked", Reason: gatehouse.ReasonRevoked, At: T0}
	if _, err := s.RevokeLogins(ctx, r, Event(gatehouse.EventSessionRevoked, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	r = gatehouse.Revocation{UserID: u.ID, LoginID: "login-password", Reason: gatehouse.ReasonPasswordChanged, At: T0}
	if _, err := s.UpdateUser(ctx, gatehouse.UserChange{User: u, Revoke: &r, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, u.ID)}}); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	if n, err := s.DeleteExpiredLogins(ctx, T0.Add(2*time.Hour)); err != nil || n != 1 {
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

// testDeleteUser deletes a user under the store, as only an operator
// does: the user's logins and their refresh tokens go with it.
func testDeleteUser(t *testing.T, db DB) {
	s := db.Open(t)
	u, sess, tok, rt := aliceWithLogins(t, s)

	db.Exec(t, `DELETE FROM users WHERE id = $1`, u.ID)
	checkGone(t, s, sess)
	checkGone(t, s, tok)
	checkTokenGone(t, s, "RefreshToken of the deleted user's login", rt.Hash)
	if n := db.Int(t, `SELECT count(*) FROM refresh_tokens`); n != 0 {
		t.Errorf("refresh tokens = %d, want 0", n)
	}
}

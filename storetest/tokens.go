package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// newRefreshToken returns an unused refresh token of a login, created at
// created and live for a week; name tells its hash apart.
func newRefreshToken(name, loginID string, created time.Time) gatehouse.RefreshToken {
	return gatehouse.RefreshToken{
		Hash:      secretHash("refresh token " + name),
		LoginID:   loginID,
		CreatedAt: created,
		ExpiresAt: created.Add(7 * 24 * time.Hour),
	}
}

func createTokenLogin(t *testing.T, s gatehouse.Store, l gatehouse.Login, rt gatehouse.RefreshToken) {
	t.Helper()
	if err := s.CreateTokenLogin(t.Context(), l, rt, newEvent(gatehouse.EventLoginSucceeded, l.UserID)); err != nil {
		t.Fatalf("CreateTokenLogin(%q) = %v, want nil", l.ID, err)
	}
}

func checkRefreshToken(t *testing.T, call string, got, want gatehouse.RefreshToken) {
	t.Helper()
	same := bytes.Equal(got.Hash, want.Hash) && got.LoginID == want.LoginID &&
		got.CreatedAt.Equal(want.CreatedAt) && got.ExpiresAt.Equal(want.ExpiresAt) &&
		got.UsedAt.Equal(want.UsedAt)
	if !same {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" CreatedAt", got.CreatedAt)
	checkUTC(t, call+" ExpiresAt", got.ExpiresAt)
	checkUTC(t, call+" UsedAt", got.UsedAt)
}

// checkFound checks that RefreshToken finds rt with its login and user as
// given.
func checkFound(t *testing.T, s gatehouse.Store, rt gatehouse.RefreshToken, l gatehouse.Login, u gatehouse.User) {
	t.Helper()
	gotToken, gotLogin, gotUser, err := s.RefreshToken(t.Context(), rt.Hash)
	if err != nil {
		t.Errorf("RefreshToken(hash of token of %q created at %v) = %v, want nil", rt.LoginID, rt.CreatedAt, err)
		return
	}
	checkRefreshToken(t, "RefreshToken token", gotToken, rt)
	checkLogin(t, "RefreshToken login", gotLogin, l)
	checkUser(t, "RefreshToken user", gotUser, u)
}

func checkTokenGone(t *testing.T, s gatehouse.Store, call string, hash []byte) {
	t.Helper()
	_, _, _, err := s.RefreshToken(t.Context(), hash)
	checkCode(t, call, err, gatehouse.CodeNotFound)
}

// checkNewestEvent checks that the newest audit event of everyone is want.
func checkNewestEvent(t *testing.T, s gatehouse.Store, want gatehouse.AuditEvent) {
	t.Helper()
	events, err := s.ListAudit(t.Context(), "", 1)
	if err != nil || len(events) != 1 {
		t.Fatalf("ListAudit(\"\", 1) = %+v, %v; want one event", events, err)
	}
	checkEvent(t, "newest audit event", events[0], want)
}

func testCreateTokenLogin(t *testing.T, s gatehouse.Store) {
	u := newUser("user-alice")
	u.Roles = []string{"admin", "member"}
	createUser(t, s, u)
	l := newToken("login-token", u.ID, t0)
	rt := newRefreshToken("first", l.ID, t0)
	ev := newEvent(gatehouse.EventLoginSucceeded, u.ID)
	ev.Detail = "token login"
	if err := s.CreateTokenLogin(t.Context(), l, rt, ev); err != nil {
		t.Fatalf("CreateTokenLogin = %v, want nil", err)
	}
	checkKept(t, s, l)
	checkFound(t, s, rt, l, u)
	checkNewestEvent(t, s, ev)
	before := auditTypes(t, s, "")

	// All or nothing: a login id in use stores no token, a token hash in
	// use no login, and neither records its event.
	taken := newToken(l.ID, u.ID, t0.Add(time.Minute))
	takenRT := newRefreshToken("second", l.ID, t0.Add(time.Minute))
	if err := s.CreateTokenLogin(t.Context(), taken, takenRT, newEvent(gatehouse.EventLoginSucceeded, u.ID)); err == nil {
		t.Error("CreateTokenLogin with a login id in use = nil, want an error")
	}
	checkTokenGone(t, s, "RefreshToken of the token of a refused login", takenRT.Hash)
	checkKept(t, s, l)

	other := newToken("login-other", u.ID, t0.Add(time.Minute))
	otherRT := newRefreshToken("first", other.ID, t0.Add(time.Minute)) // the same hash as rt
	if err := s.CreateTokenLogin(t.Context(), other, otherRT, newEvent(gatehouse.EventLoginSucceeded, u.ID)); err == nil {
		t.Error("CreateTokenLogin with a refresh token hash in use = nil, want an error")
	}
	checkGone(t, s, other)
	checkFound(t, s, rt, l, u)
	checkIDs(t, "audit types after the refused logins", auditTypes(t, s, ""), before)
}

func testRefreshToken(t *testing.T, s gatehouse.Store) {
	alice, bob := newUser("user-alice"), newUser("user-bob")
	createUser(t, s, alice)
	createUser(t, s, bob)
	l1, l2 := newToken("login-1", alice.ID, t0), newToken("login-2", alice.ID, t0.Add(time.Minute))
	b1 := newToken("login-b1", bob.ID, t0)
	rt1 := newRefreshToken("1", l1.ID, t0)
	rt2 := newRefreshToken("2", l2.ID, t0.Add(time.Minute))
	rtb := newRefreshToken("b1", b1.ID, t0)
	createTokenLogin(t, s, l1, rt1)
	createTokenLogin(t, s, l2, rt2)
	createTokenLogin(t, s, b1, rtb)
	checkFound(t, s, rt1, l1, alice)
	checkFound(t, s, rt2, l2, alice)
	checkFound(t, s, rtb, b1, bob)

	// Deadlines are the caller's to check: an expired token is returned.
	expired := newToken("login-expired", alice.ID, t0.Add(-30*24*time.Hour))
	expiredRT := newRefreshToken("expired", expired.ID, expired.CreatedAt)
	createTokenLogin(t, s, expired, expiredRT)
	checkFound(t, s, expiredRT, expired, alice)

	for _, tt := range []struct {
		name string
		hash []byte
	}{
		{name: "an unknown hash", hash: secretHash("unknown")},
		{name: "no hash", hash: nil},
		{name: "an empty hash", hash: []byte{}},
	} {
		checkTokenGone(t, s, "RefreshToken of "+tt.name, tt.hash)
	}

	// Revoking a login takes its refresh tokens with it.
	r := gatehouse.Revocation{UserID: alice.ID, LoginID: l1.ID, Reason: gatehouse.ReasonLogout, At: t0}
	if _, err := s.RevokeLogins(t.Context(), r, newEvent(gatehouse.EventLogout, alice.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	checkTokenGone(t, s, "RefreshToken after RevokeLogins", rt1.Hash)
	checkFound(t, s, rt2, l2, alice)

	r = gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonPasswordChanged, At: t0}
	if _, err := s.UpdateUser(t.Context(), alice, &r, newEvent(gatehouse.EventPasswordChanged, alice.ID)); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	checkTokenGone(t, s, "RefreshToken after UpdateUser with revoke", rt2.Hash)
	checkTokenGone(t, s, "RefreshToken of an expired login after UpdateUser with revoke", expiredRT.Hash)
	checkFound(t, s, rtb, b1, bob)
}

// rotation is the state of a token login after its first refresh token.
type rotation struct {
	u     gatehouse.User
	l     gatehouse.Login
	first gatehouse.RefreshToken
}

// newRotation creates a user and her token login, whose ids and first
// token's hash are told apart by name.
func newRotation(t *testing.T, s gatehouse.Store, name string) rotation {
	t.Helper()
	u := newUser("user-" + name)
	createUser(t, s, u)
	l := newToken("login-"+name, u.ID, t0)
	first := newRefreshToken("first of "+name, l.ID, t0)
	createTokenLogin(t, s, l, first)
	return rotation{u: u, l: l, first: first}
}

func testRotateRefreshToken(t *testing.T, s gatehouse.Store) {
	r := newRotation(t, s, "alice")
	next := newRefreshToken("next", r.l.ID, t0.Add(10*time.Minute))
	ev := newEvent(gatehouse.EventTokenRefreshed, r.u.ID)
	ev.At = next.CreatedAt
	before := auditTypes(t, s, "")

	ok, err := s.RotateRefreshToken(t.Context(), r.first.Hash, next, ev)
	if err != nil || !ok {
		t.Fatalf("RotateRefreshToken = %t, %v; want true, nil", ok, err)
	}
	// The old token is kept, used; the login was seen at the rotation; its
	// deadlines did not move.
	used := r.first
	used.UsedAt = next.CreatedAt
	seen := r.l
	seen.LastSeenAt = next.CreatedAt
	checkFound(t, s, used, seen, r.u)
	checkFound(t, s, next, seen, r.u)
	checkKept(t, s, seen)
	checkNewestEvent(t, s, ev)
	if after := auditTypes(t, s, ""); len(after) != len(before)+1 {
		t.Errorf("RotateRefreshToken recorded %d events, want 1", len(after)-len(before))
	}

	// Nothing changes when a rotation loses, whatever the reason.
	wantAudit := auditTypes(t, s, "")
	unchanged := func(t *testing.T, tried gatehouse.RefreshToken) {
		t.Helper()
		checkFound(t, s, used, seen, r.u)
		checkFound(t, s, next, seen, r.u)
		checkKept(t, s, seen)
		if !bytes.Equal(tried.Hash, r.first.Hash) {
			checkTokenGone(t, s, "RefreshToken of the successor of a lost rotation", tried.Hash)
		}
		checkIDs(t, "audit types after a lost rotation", auditTypes(t, s, ""), wantAudit)
	}
	t.Run("second rotation of the same token", func(t *testing.T) {
		again := newRefreshToken("again", r.l.ID, t0.Add(20*time.Minute))
		ok, err := s.RotateRefreshToken(t.Context(), r.first.Hash, again, newEvent(gatehouse.EventTokenRefreshed, r.u.ID))
		if err != nil || ok {
			t.Errorf("RotateRefreshToken of a used token = %t, %v; want false, nil", ok, err)
		}
		unchanged(t, again)
	})
	t.Run("unknown token", func(t *testing.T) {
		stray := newRefreshToken("stray", r.l.ID, t0.Add(20*time.Minute))
		for _, hash := range [][]byte{secretHash("unknown"), nil} {
			ok, err := s.RotateRefreshToken(t.Context(), hash, stray, newEvent(gatehouse.EventTokenRefreshed, r.u.ID))
			if err != nil || ok {
				t.Errorf("RotateRefreshToken of an unknown hash %x = %t, %v; want false, nil", hash, ok, err)
			}
		}
		unchanged(t, stray)
	})
	t.Run("successor hash in use", func(t *testing.T) {
		// The claim on next is undone with the insert that failed: next
		// stays unused.
		clash := r.first
		clash.CreatedAt = t0.Add(20 * time.Minute)
		ok, err := s.RotateRefreshToken(t.Context(), next.Hash, clash, newEvent(gatehouse.EventTokenRefreshed, r.u.ID))
		if err == nil || ok {
			t.Errorf("RotateRefreshToken to a hash in use = %t, %v; want false and an error", ok, err)
		}
		unchanged(t, clash)
	})
	t.Run("after the login is revoked", func(t *testing.T) {
		rev := gatehouse.Revocation{UserID: r.u.ID, LoginID: r.l.ID, Reason: gatehouse.ReasonRevoked, At: t0}
		if _, err := s.RevokeLogins(t.Context(), rev, newEvent(gatehouse.EventSessionRevoked, r.u.ID)); err != nil {
			t.Fatalf("RevokeLogins = %v, want nil", err)
		}
		late := newRefreshToken("late", r.l.ID, t0.Add(30*time.Minute))
		ok, err := s.RotateRefreshToken(t.Context(), next.Hash, late, newEvent(gatehouse.EventTokenRefreshed, r.u.ID))
		if err != nil || ok {
			t.Errorf("RotateRefreshToken after revocation = %t, %v; want false, nil", ok, err)
		}
		checkTokenGone(t, s, "RefreshToken of the successor", late.Hash)
		checkTokenGone(t, s, "RefreshToken of a revoked login's token", next.Hash)
		checkGone(t, s, r.l)
	})
}

// testRotateRefreshTokenConcurrently rotates one token from many
// goroutines at once, each with a successor of its own, and then, as the
// service does when it derives the successor from the token, all with the
// same one.
func testRotateRefreshTokenConcurrently(t *testing.T, s gatehouse.Store) {
	t.Run("different successors", func(t *testing.T) {
		rotateConcurrently(t, s, "alice", func(i int) string { return fmt.Sprintf("next-%02d", i) })
	})
	t.Run("one successor", func(t *testing.T) {
		rotateConcurrently(t, s, "bob", func(int) string { return "next" })
	})
}

// rotateConcurrently rotates the token of a new login of user from 20 goroutines at
// once; the successor of the i-th is named name(i).
func rotateConcurrently(t *testing.T, s gatehouse.Store, user string, name func(i int) string) {
	const workers = 20
	r := newRotation(t, s, user)
	before := auditTypes(t, s, "")
	nexts := make([]gatehouse.RefreshToken, workers)
	for i := range nexts {
		nexts[i] = newRefreshToken(r.l.ID+" "+name(i), r.l.ID, t0.Add(time.Duration(i+1)*time.Second))
	}

	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			ok, err := s.RotateRefreshToken(t.Context(), r.first.Hash, nexts[i], newEvent(gatehouse.EventTokenRefreshed, r.u.ID))
			if err != nil {
				t.Errorf("RotateRefreshToken (worker %d) = %v, want nil", i, err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()

	if got := wins.Load(); got != 1 {
		t.Errorf("%d of %d concurrent rotations of one token won, want 1", got, workers)
	}
	// The winner is the successor stored, with its own CreatedAt.
	var stored []gatehouse.RefreshToken
	seenHash := map[string]bool{}
	for _, next := range nexts {
		if seenHash[string(next.Hash)] {
			continue
		}
		seenHash[string(next.Hash)] = true
		got, _, _, err := s.RefreshToken(t.Context(), next.Hash)
		if err != nil {
			checkCode(t, "RefreshToken of a losing successor", err, gatehouse.CodeNotFound)
			continue
		}
		stored = append(stored, got)
	}
	if len(stored) != 1 {
		t.Fatalf("%d successors stored, want 1", len(stored))
	}
	i := slices.IndexFunc(nexts, func(n gatehouse.RefreshToken) bool { return n.CreatedAt.Equal(stored[0].CreatedAt) })
	if i < 0 {
		t.Fatalf("stored successor %+v is none of those given", stored[0])
	}
	winner := nexts[i]
	used := r.first
	used.UsedAt = winner.CreatedAt
	seen := r.l
	seen.LastSeenAt = winner.CreatedAt
	checkFound(t, s, used, seen, r.u)
	checkFound(t, s, winner, seen, r.u)
	if after := auditTypes(t, s, ""); len(after) != len(before)+1 {
		t.Errorf("concurrent rotations recorded %d events, want 1", len(after)-len(before))
	}
}

func testListTokenLogins(t *testing.T, s gatehouse.Store) {
	u := newUser("user-alice")
	createUser(t, s, u)
	sess := newSession("login-a", u.ID, t0.Add(-2*time.Hour))
	createLogin(t, s, sess)
	tok := newToken("login-b", u.ID, t0.Add(-time.Hour))
	createTokenLogin(t, s, tok, newRefreshToken("b", tok.ID, tok.CreatedAt))

	got, err := s.ListLogins(t.Context(), u.ID, t0)
	if err != nil {
		t.Fatalf("ListLogins = %v, want nil", err)
	}
	want := []gatehouse.Login{tok, sess}
	checkIDs(t, "ListLogins ids", loginIDs(got), loginIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkLogin(t, fmt.Sprintf("ListLogins[%d]", i), got[i], want[i])
		}
		if got[0].Mode != gatehouse.ModeToken || len(got[0].SecretHash) != 0 {
			t.Errorf("ListLogins[0] has mode %q and secret hash %x, want %q and none", got[0].Mode, got[0].SecretHash, gatehouse.ModeToken)
		}
	}
}

func testDeleteExpiredTokenLogins(t *testing.T, s gatehouse.Store) {
	u := newUser("user-alice")
	createUser(t, s, u)
	now := t0
	live := newToken("login-live", u.ID, now.Add(-time.Hour))
	liveRT := newRefreshToken("live", live.ID, live.CreatedAt)
	createTokenLogin(t, s, live, liveRT)
	expired := newToken("login-expired", u.ID, now.Add(-8*24*time.Hour))
	expiredRT := newRefreshToken("expired", expired.ID, expired.CreatedAt)
	createTokenLogin(t, s, expired, expiredRT)
	// A rotated login keeps its used token until the login goes.
	expiredNext := newRefreshToken("expired-next", expired.ID, expired.CreatedAt.Add(time.Hour))
	if ok, err := s.RotateRefreshToken(t.Context(), expiredRT.Hash, expiredNext, newEvent(gatehouse.EventTokenRefreshed, u.ID)); err != nil || !ok {
		t.Fatalf("RotateRefreshToken = %t, %v; want true, nil", ok, err)
	}

	n, err := s.DeleteExpiredLogins(t.Context(), now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredLogins = %d, %v; want 1, nil", n, err)
	}
	checkGone(t, s, expired)
	checkTokenGone(t, s, "RefreshToken of an expired login's used token", expiredRT.Hash)
	checkTokenGone(t, s, "RefreshToken of an expired login's token", expiredNext.Hash)
	checkKept(t, s, live)
	checkFound(t, s, liveRT, live, u)
	ok, err := s.RotateRefreshToken(t.Context(), expiredNext.Hash,
		newRefreshToken("expired-late", expired.ID, now), newEvent(gatehouse.EventTokenRefreshed, u.ID))
	if err != nil || ok {
		t.Errorf("RotateRefreshToken of an expired login's token after DeleteExpiredLogins = %t, %v; want false, nil", ok, err)
	}
}

// testTokenLoginRefusals: a store refuses token writes that would tie a
// token to the wrong login (a session given as a token login, a first
// token of another login, a successor without a time or of another
// login), with CodeUnavailable, and changes nothing.
func testTokenLoginRefusals(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	u := newUser("user-alice")
	createUser(t, s, u)
	other := newToken("login-other", u.ID, t0)
	first := newRefreshToken("other", other.ID, t0)
	createTokenLogin(t, s, other, first)
	second := newToken("login-second", u.ID, t0)
	createTokenLogin(t, s, second, newRefreshToken("second", second.ID, t0))
	state := func() string {
		t.Helper()
		logins, err1 := s.ListLogins(ctx, u.ID, t0)
		events, err2 := s.ListAudit(ctx, u.ID, 100)
		rt, l, _, err3 := s.RefreshToken(ctx, first.Hash)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(logins), len(events), rt.UsedAt, l.LastSeenAt)
	}
	before := state()

	sess := newSession("login-session", u.ID, t0)
	err := s.CreateTokenLogin(ctx, sess, newRefreshToken("session", sess.ID, t0), newEvent(gatehouse.EventLoginSucceeded, u.ID))
	checkCode(t, "CreateTokenLogin of a session", err, gatehouse.CodeUnavailable)
	l := newToken("login-new", u.ID, t0)
	err = s.CreateTokenLogin(ctx, l, newRefreshToken("new", other.ID, t0), newEvent(gatehouse.EventLoginSucceeded, u.ID))
	checkCode(t, "CreateTokenLogin with another login's token", err, gatehouse.CodeUnavailable)
	for _, tt := range []struct {
		name string
		next gatehouse.RefreshToken
	}{
		{name: "a successor without CreatedAt", next: newRefreshToken("zero", other.ID, time.Time{})},
		{name: "a successor of another login", next: newRefreshToken("elsewhere", second.ID, t0.Add(time.Minute))},
	} {
		ok, err := s.RotateRefreshToken(ctx, first.Hash, tt.next, newEvent(gatehouse.EventTokenRefreshed, u.ID))
		if ok {
			t.Errorf("RotateRefreshToken to %s = true, want false", tt.name)
		}
		checkCode(t, "RotateRefreshToken to "+tt.name, err, gatehouse.CodeUnavailable)
	}
	for _, name := range []string{"session", "new", "zero", "elsewhere"} {
		checkTokenGone(t, s, "a refused token "+name, newRefreshToken(name, "", t0).Hash)
	}
	if got := state(); got != before {
		t.Errorf("logins, events, first token's use, login seen after the refusals = %s, want %s", got, before)
	}
	// The token is still unused: its rotation works.
	ok, err := s.RotateRefreshToken(ctx, first.Hash, newRefreshToken("next", other.ID, t0.Add(time.Minute)), newEvent(gatehouse.EventTokenRefreshed, u.ID))
	if err != nil || !ok {
		t.Errorf("RotateRefreshToken after the refusals = %t, %v; want true, nil", ok, err)
	}
}

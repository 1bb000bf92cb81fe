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

// RefreshToken returns an unused refresh token of a login, created at
// created and live for a week; name tells its hash apart.
func RefreshToken(name, loginID string, created time.Time) gatehouse.RefreshToken {
	return gatehouse.RefreshToken{
		Hash:      secretHash("refresh token " + name),
		LoginID:   loginID,
		CreatedAt: created,
		ExpiresAt: created.Add(7 * 24 * time.Hour),
	}
}

// CreateTokenLogin creates the token login l with its refresh token rt,
// or ends the test.
func CreateTokenLogin(t testing.TB, s gatehouse.Store, l gatehouse.Login, rt gatehouse.RefreshToken) {
	t.Helper()
	if err := s.CreateTokenLogin(t.Context(), l, rt, Event(gatehouse.EventLoginSucceeded, l.UserID)); err != nil {
		t.Fatalf("CreateTokenLogin(%q) = %v, want nil", l.ID, err)
	}
}

// aliceWithLogins gives s the user alice with a session, login-1, and a
// token login, login-2, with its refresh token.
func aliceWithLogins(t *testing.T, s gatehouse.Store) (u gatehouse.User, sess, tok gatehouse.Login, rt gatehouse.RefreshToken) {
	t.Helper()
	u = User("user-alice")
	CreateUser(t, s, u)
	sess = Session("login-1", u.ID, T0)
	CreateLogin(t, s, sess)
	tok = Token("login-2", u.ID, T0)
	rt = RefreshToken("2", tok.ID, T0)
	CreateTokenLogin(t, s, tok, rt)
	return u, sess, tok, rt
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
	CheckCode(t, call, err, gatehouse.CodeNotFound)
}

// checkNewestEvent checks that the newest audit event of everyone is want.
func checkNewestEvent(t *testing.T, s gatehouse.Store, want gatehouse.AuditEvent) {
	t.Helper()
	events, err := s.ListAudit(t.Context(), gatehouse.AuditQuery{Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("ListAudit(\"\", 1) = %+v, %v; want one event", events, err)
	}
	checkEvent(t, "newest audit event", events[0], want)
}

func testCreateTokenLogin(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	u.Roles = []string{"admin", "member"}
	CreateUser(t, s, u)
	l := Token("login-token", u.ID, T0)
	rt := RefreshToken("first", l.ID, T0)
	ev := Event(gatehouse.EventLoginSucceeded, u.ID)
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
	taken := Token(l.ID, u.ID, T0.Add(time.Minute))
	takenRT := RefreshToken("second", l.ID, T0.Add(time.Minute))
	if err := s.CreateTokenLogin(t.Context(), taken, takenRT, Event(gatehouse.EventLoginSucceeded, u.ID)); err == nil {
		t.Error("CreateTokenLogin with a login id in use = nil, want an error")
	}
	checkTokenGone(t, s, "RefreshToken of the token of a refused login", takenRT.Hash)
	checkKept(t, s, l)

	other := Token("login-other", u.ID, T0.Add(time.Minute))
	otherRT := RefreshToken("first", other.ID, T0.Add(time.Minute)) // the same hash as rt
	if err := s.CreateTokenLogin(t.Context(), other, otherRT, Event(gatehouse.EventLoginSucceeded, u.ID)); err == nil {
		t.Error("CreateTokenLogin with a refresh token hash in use = nil, want an error")
	}
	checkGone(t, s, other)
	checkFound(t, s, rt, l, u)
	checkIDs(t, "audit types after the refused logins", auditTypes(t, s, ""), before)
}

func testRefreshToken(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	l1, l2 := Token("login-1", alice.ID, T0), Token("login-2", alice.ID, T0.Add(time.Minute))
	b1 := Token("login-b1", bob.ID, T0)
	rt1 := RefreshToken("1", l1.ID, T0)
	rt2 := RefreshToken("2", l2.ID, T0.Add(time.Minute))
	rtb := RefreshToken("b1", b1.ID, T0)
	CreateTokenLogin(t, s, l1, rt1)
	CreateTokenLogin(t, s, l2, rt2)
	CreateTokenLogin(t, s, b1, rtb)
	checkFound(t, s, rt1, l1, alice)
	checkFound(t, s, rt2, l2, alice)
	checkFound(t, s, rtb, b1, bob)

	// Deadlines are the caller's to check: an expired token is returned.
	expired := Token("login-expired", alice.ID, T0.Add(-30*24*time.Hour))
	expiredRT := RefreshToken("expired", expired.ID, expired.CreatedAt)
	CreateTokenLogin(t, s, expired, expiredRT)
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
	r := gatehouse.Revocation{UserID: alice.ID, LoginID: l1.ID, Reason: gatehouse.ReasonLogout, At: T0}
	if _, err := s.RevokeLogins(t.Context(), r, Event(gatehouse.EventLogout, alice.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	checkTokenGone(t, s, "RefreshToken after RevokeLogins", rt1.Hash)
	checkFound(t, s, rt2, l2, alice)

	r = gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonPasswordChanged, At: T0}
	if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: alice, Revoke: &r, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, alice.ID)}}); err != nil {
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
	u := User("user-" + name)
	CreateUser(t, s, u)
	l := Token("login-"+name, u.ID, T0)
	first := RefreshToken("first of "+name, l.ID, T0)
	CreateTokenLogin(t, s, l, first)
	return rotation{u: u, l: l, first: first}
}

func testRotateRefreshToken(t *testing.T, s gatehouse.Store) {
	r := newRotation(t, s, "alice")
	next := RefreshToken("next", r.l.ID, T0.Add(10*time.Minute))
	ev := Event(gatehouse.EventTokenRefreshed, r.u.ID)
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
		again := RefreshToken("again", r.l.ID, T0.Add(20*time.Minute))
		ok, err := s.RotateRefreshToken(t.Context(), r.first.Hash, again, Event(gatehouse.EventTokenRefreshed, r.u.ID))
		if err != nil || ok {
			t.Errorf("RotateRefreshToken of a used token = %t, %v; want false, nil", ok, err)
		}
		unchanged(t, again)
	})
	t.Run("unknown token", func(t *testing.T) {
		stray := RefreshToken("stray", r.l.ID, T0.Add(20*time.Minute))
		for _, hash := range [][]byte{secretHash("unknown"), nil} {
			ok, err := s.RotateRefreshToken(t.Context(), hash, stray, Event(gatehouse.EventTokenRefreshed, r.u.ID))
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
		clash.CreatedAt = T0.Add(20 * time.Minute)
		ok, err := s.RotateRefreshToken(t.Context(), next.Hash, clash, Event(gatehouse.EventTokenRefreshed, r.u.ID))
		if err == nil || ok {
			t.Errorf("RotateRefreshToken to a hash in use = %t, %v; want false and an error", ok, err)
		}
		unchanged(t, clash)
	})
	t.Run("after the login is revoked", func(t *testing.T) {
		rev := gatehouse.Revocation{UserID: r.u.ID, LoginID: r.l.ID, Reason: gatehouse.ReasonRevoked, At: T0}
		if _, err := s.RevokeLogins(t.Context(), rev, Event(gatehouse.EventSessionRevoked, r.u.ID)); err != nil {
			t.Fatalf("RevokeLogins = %v, want nil", err)
		}
		late := RefreshToken("late", r.l.ID, T0.Add(30*time.Minute))
		ok, err := s.RotateRefreshToken(t.Context(), next.Hash, late, Event(gatehouse.EventTokenRefreshed, r.u.ID))
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
		rotateConcurrently(t, []gatehouse.Store{s}, "alice", func(i int) string { return fmt.Sprintf("next-%02d", i) })
	})
	t.Run("one successor", func(t *testing.T) {
		rotateConcurrently(t, []gatehouse.Store{s}, "bob", func(int) string { return "next" })
	})
}

// rotateConcurrently rotates the token of a new login of user from 20
// goroutines at once, on the stores in turn (several stores on one
// database stand for several servers); the successor of the i-th is named
// name(i).
func rotateConcurrently(t *testing.T, stores []gatehouse.Store, user string, name func(i int) string) {
	const workers = 20
	s := stores[0]
	r := newRotation(t, s, user)
	before := auditTypes(t, s, "")
	nexts := make([]gatehouse.RefreshToken, workers)
	for i := range nexts {
		nexts[i] = RefreshToken(r.l.ID+" "+name(i), r.l.ID, T0.Add(time.Duration(i+1)*time.Second))
	}

	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Go(func() {
			<-start
			ok, err := stores[i%len(stores)].RotateRefreshToken(t.Context(), r.first.Hash, nexts[i], Event(gatehouse.EventTokenRefreshed, r.u.ID))
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
			CheckCode(t, "RefreshToken of a losing successor", err, gatehouse.CodeNotFound)
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
	u := User("user-alice")
	CreateUser(t, s, u)
	sess := Session("login-a", u.ID, T0.Add(-2*time.Hour))
	CreateLogin(t, s, sess)
	tok := Token("login-b", u.ID, T0.Add(-time.Hour))
	CreateTokenLogin(t, s, tok, RefreshToken("b", tok.ID, tok.CreatedAt))

	got, err := s.ListLogins(t.Context(), u.ID, T0)
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
	u := User("user-alice")
	CreateUser(t, s, u)
	now := T0
	live := Token("login-live", u.ID, now.Add(-time.Hour))
	liveRT := RefreshToken("live", live.ID, live.CreatedAt)
	CreateTokenLogin(t, s, live, liveRT)
	expired := Token("login-expired", u.ID, now.Add(-8*24*time.Hour))
	expiredRT := RefreshToken("expired", expired.ID, expired.CreatedAt)
	CreateTokenLogin(t, s, expired, expiredRT)
	// A rotated login keeps its used token until the login goes.
	expiredNext := RefreshToken("expired-next", expired.ID, expired.CreatedAt.Add(time.Hour))
	if ok, err := s.RotateRefreshToken(t.Context(), expiredRT.Hash, expiredNext, Event(gatehouse.EventTokenRefreshed, u.ID)); err != nil || !ok {
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
		RefreshToken("expired-late", expired.ID, now), Event(gatehouse.EventTokenRefreshed, u.ID))
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
	u := User("user-alice")
	CreateUser(t, s, u)
	other := Token("login-other", u.ID, T0)
	first := RefreshToken("other", other.ID, T0)
	CreateTokenLogin(t, s, other, first)
	second := Token("login-second", u.ID, T0)
	CreateTokenLogin(t, s, second, RefreshToken("second", second.ID, T0))
	state := func() string {
		t.Helper()
		logins, err1 := s.ListLogins(ctx, u.ID, T0)
		events, err2 := s.ListAudit(ctx, gatehouse.AuditQuery{UserID: u.ID, Limit: 100})
		rt, l, _, err3 := s.RefreshToken(ctx, first.Hash)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(len(logins), len(events), rt.UsedAt, l.LastSeenAt)
	}
	before := state()

	sess := Session("login-session", u.ID, T0)
	err := s.CreateTokenLogin(ctx, sess, RefreshToken("session", sess.ID, T0), Event(gatehouse.EventLoginSucceeded, u.ID))
	CheckCode(t, "CreateTokenLogin of a session", err, gatehouse.CodeUnavailable)
	l := Token("login-new", u.ID, T0)
	err = s.CreateTokenLogin(ctx, l, RefreshToken("new", other.ID, T0), Event(gatehouse.EventLoginSucceeded, u.ID))
	CheckCode(t, "CreateTokenLogin with another login's token", err, gatehouse.CodeUnavailable)
	for _, tt := range []struct {
		name string
		next gatehouse.RefreshToken
	}{
		{name: "a successor without CreatedAt", next: RefreshToken("zero", other.ID, time.Time{})},
		{name: "a successor of another login", next: RefreshToken("elsewhere", second.ID, T0.Add(time.Minute))},
	} {
		ok, err := s.RotateRefreshToken(ctx, first.Hash, tt.next, Event(gatehouse.EventTokenRefreshed, u.ID))
		if ok {
			t.Errorf("RotateRefreshToken to %s = true, want false", tt.name)
		}
		CheckCode(t, "RotateRefreshToken to "+tt.name, err, gatehouse.CodeUnavailable)
	}
	for _, name := range []string{"session", "new", "zero", "elsewhere"} {
		checkTokenGone(t, s, "a refused token "+name, RefreshToken(name, "", T0).Hash)
	}
	if got := state(); got != before {
		t.Errorf("logins, events, first token's use, login seen after the refusals = %s, want %s", got, before)
	}
	// The token is still unused: its rotation works.
	ok, err := s.RotateRefreshToken(ctx, first.Hash, RefreshToken("next", other.ID, T0.Add(time.Minute)), Event(gatehouse.EventTokenRefreshed, u.ID))
	if err != nil || !ok {
		t.Errorf("RotateRefreshToken after the refusals = %t, %v; want true, nil", ok, err)
	}
}

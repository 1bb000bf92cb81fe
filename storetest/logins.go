package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testCreateLogin(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	for _, l := range []gatehouse.Login{Session("login-session", u.ID, T0), Token("login-token", u.ID, T0)} {
		CreateLogin(t, s, l)
		checkKept(t, s, l)
	}
	checkIDs(t, "audit types", auditTypes(t, s, u.ID), []string{
		gatehouse.EventLoginSucceeded, gatehouse.EventLoginSucceeded, gatehouse.EventUserCreated,
	})
}

func testSessionBySecretHash(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	u.Roles = []string{"admin", "member"}
	CreateUser(t, s, u)
	l := Session("login-session", u.ID, T0)
	CreateLogin(t, s, l)

	gotLogin, gotUser, err := s.SessionBySecretHash(t.Context(), l.SecretHash)
	if err != nil {
		t.Fatalf("SessionBySecretHash = %v, want nil", err)
	}
	checkLogin(t, "SessionBySecretHash login", gotLogin, l)
	checkUser(t, "SessionBySecretHash user", gotUser, u)

	// Deadlines are the caller's to check: an expired session is returned.
	expired := Session("login-expired", u.ID, T0.Add(-60*24*time.Hour))
	CreateLogin(t, s, expired)
	gotLogin, _, err = s.SessionBySecretHash(t.Context(), expired.SecretHash)
	if err != nil {
		t.Fatalf("SessionBySecretHash of an expired session = %v, want nil", err)
	}
	checkLogin(t, "SessionBySecretHash of an expired session", gotLogin, expired)

	// Only sessions are found, even if a token login had a hash.
	tok := Token("login-token", u.ID, T0)
	tok.SecretHash = secretHash(tok.ID)
	CreateLogin(t, s, tok)
	CreateLogin(t, s, Token("login-token-without-hash", u.ID, T0))
	for _, tt := range []struct {
		name string
		hash []byte
	}{
		{name: "a token login's hash", hash: tok.SecretHash},
		{name: "an unknown hash", hash: secretHash("unknown")},
		{name: "no hash", hash: nil},
		{name: "an empty hash", hash: []byte{}},
	} {
		_, _, err := s.SessionBySecretHash(t.Context(), tt.hash)
		CheckCode(t, "SessionBySecretHash of "+tt.name, err, gatehouse.CodeNotFound)
	}
}

func testLoginNotFound(t *testing.T, s gatehouse.Store) {
	_, err := s.LoginByID(t.Context(), "login-nobody")
	CheckCode(t, "LoginByID", err, gatehouse.CodeNotFound)
}

func testSecretHashUnique(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	first := Session("login-1", u.ID, T0)
	CreateLogin(t, s, first)

	second := Session("login-2", u.ID, T0.Add(time.Minute))
	second.SecretHash = first.SecretHash
	if err := s.CreateLogin(t.Context(), second, Event(gatehouse.EventLoginSucceeded, u.ID)); err == nil {
		t.Fatal("CreateLogin with a secret hash in use = nil, want an error")
	}
	checkGone(t, s, gatehouse.Login{ID: second.ID})
	got, _, err := s.SessionBySecretHash(t.Context(), first.SecretHash)
	if err != nil {
		t.Fatalf("SessionBySecretHash = %v, want nil", err)
	}
	checkLogin(t, "SessionBySecretHash", got, first)
	checkIDs(t, "audit types", auditTypes(t, s, u.ID), []string{gatehouse.EventLoginSucceeded, gatehouse.EventUserCreated})
}

func testListLogins(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	now := T0
	login := func(id string, created, expires, idle time.Time) gatehouse.Login {
		l := Session(id, alice.ID, created)
		l.ExpiresAt, l.IdleExpiresAt = expires, idle
		if idle.IsZero() {
			l.Mode, l.SecretHash = gatehouse.ModeToken, nil
		}
		return l
	}
	var (
		live        = login("login-a", now.Add(-3*time.Hour), now.Add(time.Hour), now.Add(time.Hour))
		token       = login("login-b", now.Add(-2*time.Hour), now.Add(time.Hour), time.Time{})
		sameTime    = login("login-f", now.Add(-2*time.Hour), now.Add(time.Hour), now.Add(time.Hour))
		newest      = login("login-g", now.Add(-30*time.Minute), now.Add(time.Hour), now.Add(time.Nanosecond))
		expired     = login("login-c", now.Add(-time.Hour), now.Add(-time.Nanosecond), now.Add(time.Hour))
		expiresNow  = login("login-e", now.Add(-time.Hour), now, time.Time{})
		idleExpired = login("login-d", now.Add(-time.Hour), now.Add(time.Hour), now)
	)
	for _, l := range []gatehouse.Login{live, token, sameTime, newest, expired, expiresNow, idleExpired} {
		CreateLogin(t, s, l)
	}
	CreateLogin(t, s, Session("login-bob", bob.ID, now))

	got, err := s.ListLogins(t.Context(), alice.ID, now)
	if err != nil {
		t.Fatalf("ListLogins = %v, want nil", err)
	}
	// Newest first; logins created at the same time in descending id order.
	want := []gatehouse.Login{newest, sameTime, token, live}
	checkIDs(t, "ListLogins ids", loginIDs(got), loginIDs(want))
	if len(got) == len(want) {
		for i := range got {
			checkLogin(t, fmt.Sprintf("ListLogins[%d]", i), got[i], want[i])
			if !got[i].Live(now) {
				t.Errorf("ListLogins[%d] = %q, which is not Live at now", i, got[i].ID)
			}
		}
	}

	got, err = s.ListLogins(t.Context(), "user-carol", now)
	if err != nil || len(got) != 0 {
		t.Errorf("ListLogins of a user without logins = %q, %v; want none, nil", loginIDs(got), err)
	}
}

func testTouchLogin(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	l := Session("login-1", u.ID, T0)
	CreateLogin(t, s, l)
	other := Session("login-2", u.ID, T0)
	CreateLogin(t, s, other)

	seen := T0.Add(10 * time.Minute)
	if err := s.TouchLogin(t.Context(), l.ID, seen, seen.Add(24*time.Hour)); err != nil {
		t.Fatalf("TouchLogin = %v, want nil", err)
	}
	// Activity never moves the absolute deadline.
	l.LastSeenAt, l.IdleExpiresAt = seen, seen.Add(24*time.Hour)
	checkKept(t, s, l)
	checkKept(t, s, other)

	err := s.TouchLogin(t.Context(), "login-nobody", seen, seen.Add(time.Hour))
	CheckCode(t, "TouchLogin of a missing login", err, gatehouse.CodeNotFound)
}

func testRevokeLogins(t *testing.T, s gatehouse.Store) {
	tests := []struct {
		name string
		// The revocation selects, by key, among alice's logins l1, l2
		// and l3 (unless she has none) and bob's b1.
		loginID, keepLoginID string
		none                 bool // alice has no logins
		want                 []string
	}{
		{name: "one", loginID: "l2", want: []string{"l2"}},
		{name: "one of another user's", loginID: "b1", want: nil},
		{name: "one that does not exist", loginID: "nobody", want: nil},
		{name: "all", want: []string{"l1", "l2", "l3"}},
		{name: "all but one", keepLoginID: "l2", want: []string{"l1", "l3"}},
		{name: "all but another user's", keepLoginID: "b1", want: []string{"l1", "l2", "l3"}},
		{name: "all of a user without logins", none: true, want: nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case has users and logins of its own.
			id := func(key string) string { return fmt.Sprintf("case%d-%s", i, key) }
			alice, bob := User(id("alice")), User(id("bob"))
			CreateUser(t, s, alice)
			CreateUser(t, s, bob)
			logins := map[string]gatehouse.Login{
				"b1": Session(id("b1"), bob.ID, T0),
			}
			if !tt.none {
				logins["l1"] = Session(id("l1"), alice.ID, T0)
				logins["l2"] = Token(id("l2"), alice.ID, T0.Add(time.Minute))
				logins["l3"] = Session(id("l3"), alice.ID, T0.Add(2*time.Minute))
			}
			for _, l := range logins {
				CreateLogin(t, s, l)
			}
			r := gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonRevoked, At: T0}
			if tt.loginID != "" {
				r.LoginID = id(tt.loginID)
			}
			if tt.keepLoginID != "" {
				r.KeepLoginID = id(tt.keepLoginID)
			}
			ev := Event(gatehouse.EventSessionRevoked, alice.ID)
			ev.Detail = tt.name
			before := auditTypes(t, s, "")

			revoked, err := s.RevokeLogins(t.Context(), r, ev)
			if err != nil {
				t.Fatalf("RevokeLogins = %v, want nil", err)
			}
			var want []string
			for _, w := range tt.want {
				want = append(want, id(w))
			}
			checkSameIDs(t, "RevokeLogins", revoked, want)
			for key, l := range logins {
				if slices.Contains(tt.want, key) {
					checkGone(t, s, l)
				} else {
					checkKept(t, s, l)
				}
			}

			after := auditTypes(t, s, "")
			if len(tt.want) == 0 {
				checkIDs(t, "audit types after revoking none", after, before)
				return
			}
			events, err := s.ListAudit(t.Context(), gatehouse.AuditQuery{UserID: alice.ID, Limit: 1})
			if err != nil || len(events) != 1 {
				t.Fatalf("ListAudit(alice, 1) = %+v, %v; want one event", events, err)
			}
			checkEvent(t, "newest audit event", events[0], ev)
			if len(after) != len(before)+1 {
				t.Errorf("RevokeLogins recorded %d events, want 1", len(after)-len(before))
			}
		})
	}
}

func testDeleteExpiredLogins(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	now := T0
	live := Session("login-live", u.ID, now.Add(-time.Hour))
	token := Token("login-token", u.ID, now.Add(-time.Hour))
	expired := Session("login-expired", u.ID, now.Add(-time.Hour))
	expired.ExpiresAt = now.Add(-time.Nanosecond)
	expiresNow := Token("login-expires-now", u.ID, now.Add(-time.Hour))
	expiresNow.ExpiresAt = now
	idle := Session("login-idle", u.ID, now.Add(-time.Hour))
	idle.IdleExpiresAt = now
	for _, l := range []gatehouse.Login{live, token, expired, expiresNow, idle} {
		CreateLogin(t, s, l)
	}
	if n, err := s.CountLiveLogins(t.Context(), now); err != nil || n != 2 {
		t.Errorf("CountLiveLogins = %d, %v; want 2 (the live session and the token), nil", n, err)
	}

	n, err := s.DeleteExpiredLogins(t.Context(), now)
	if err != nil || n != 3 {
		t.Fatalf("DeleteExpiredLogins = %d, %v; want 3, nil", n, err)
	}
	for _, l := range []gatehouse.Login{expired, expiresNow, idle} {
		checkGone(t, s, l)
	}
	for _, l := range []gatehouse.Login{live, token} {
		checkKept(t, s, l)
	}
	if n, err := s.DeleteExpiredLogins(t.Context(), now); err != nil || n != 0 {
		t.Errorf("DeleteExpiredLogins again = %d, %v; want 0, nil", n, err)
	}
}

func testTimestamps(t *testing.T, s gatehouse.Store) {
	// Times given in any zone come back as the same instant in UTC.
	india := time.FixedZone("IST", 5*3600+1800)
	west := time.FixedZone("", -7*3600)
	u := User("user-alice")
	u.CreatedAt = time.Date(2029, time.March, 4, 5, 6, 7, 999999999, india)
	CreateUser(t, s, u)
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID", got, u)

	l := Session("login-1", u.ID, time.Date(2029, time.March, 4, 5, 6, 7, 1, west))
	l.LastSeenAt = time.Time{} // the zero time stays zero
	l.IdleExpiresAt = time.Date(2029, time.March, 5, 5, 6, 7, 2, india)
	CreateLogin(t, s, l)
	checkKept(t, s, l)

	ev := gatehouse.AuditEvent{At: time.Date(2029, time.March, 4, 5, 6, 7, 3, west), Type: gatehouse.EventLogout, UserID: "user-bob"}
	if err := s.RecordAudit(t.Context(), ev); err != nil {
		t.Fatalf("RecordAudit = %v, want nil", err)
	}
	events, err := s.ListAudit(t.Context(), gatehouse.AuditQuery{UserID: ev.UserID, Limit: 1})
	if err != nil || len(events) != 1 {
		t.Fatalf("ListAudit = %+v, %v; want one event", events, err)
	}
	checkEvent(t, "ListAudit[0]", events[0], ev)
}

func testConcurrency(t *testing.T, s gatehouse.Store) {
	const users, workers = 5, 50
	for i := range users {
		CreateUser(t, s, User(fmt.Sprintf("user-%d", i)))
	}
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			userID := fmt.Sprintf("user-%d", i%users)
			l := Session(fmt.Sprintf("login-%02d", i), userID, T0)
			if err := s.CreateLogin(t.Context(), l, Event(gatehouse.EventLoginSucceeded, userID)); err != nil {
				t.Errorf("CreateLogin(%q) = %v, want nil", l.ID, err)
				return
			}
			if _, _, err := s.SessionBySecretHash(t.Context(), l.SecretHash); err != nil {
				t.Errorf("SessionBySecretHash(hash of %q) = %v, want nil", l.ID, err)
			}
			if err := s.TouchLogin(t.Context(), l.ID, T0.Add(time.Minute), T0.Add(time.Hour)); err != nil {
				t.Errorf("TouchLogin(%q) = %v, want nil", l.ID, err)
			}
			r := gatehouse.Revocation{UserID: userID, LoginID: l.ID, Reason: gatehouse.ReasonLogout, At: T0}
			revoked, err := s.RevokeLogins(t.Context(), r, Event(gatehouse.EventLogout, userID))
			if err != nil {
				t.Errorf("RevokeLogins(%q) = %v, want nil", l.ID, err)
				return
			}
			checkIDs(t, "RevokeLogins", revoked, []string{l.ID})
		})
	}
	wg.Wait()

	for i := range users {
		userID := fmt.Sprintf("user-%d", i)
		logins, err := s.ListLogins(t.Context(), userID, T0)
		if err != nil || len(logins) != 0 {
			t.Errorf("ListLogins(%q) = %q, %v; want none, nil", userID, loginIDs(logins), err)
		}
	}
	logouts := 0
	for _, typ := range auditTypes(t, s, "") {
		if typ == gatehouse.EventLogout {
			logouts++
		}
	}
	if logouts != workers {
		t.Errorf("audit log has %d logout events, want %d", logouts, workers)
	}
}

// testLoginOfMissingUser: a login belongs to a user who exists.
func testLoginOfMissingUser(t *testing.T, s gatehouse.Store) {
	l := Session("login-ghost", "user-ghost", T0)
	err := s.CreateLogin(t.Context(), l, Event(gatehouse.EventLoginSucceeded, l.UserID))
	CheckCode(t, "CreateLogin for a missing user", err, gatehouse.CodeUnavailable)
	checkGone(t, s, l)
	if types := auditTypes(t, s, ""); len(types) != 0 {
		t.Errorf("audit types = %q, want none", types)
	}
}

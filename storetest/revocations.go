package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testRevokeRolesChanged(t *testing.T, s gatehouse.Store) {
	u := newUser("user-alice")
	createUser(t, s, u)
	sess := newSession("login-1", u.ID, t0)
	createLogin(t, s, sess)
	tok := newToken("login-2", u.ID, t0)
	rt := newRefreshToken("2", tok.ID, t0)
	createTokenLogin(t, s, tok, rt)

	// Whatever else it names, a roles_changed revocation revokes no login
	// but is recorded.
	for _, r := range []gatehouse.Revocation{
		{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: t0},
		{UserID: u.ID, LoginID: sess.ID, Reason: gatehouse.ReasonRolesChanged, At: t0},
		{UserID: u.ID, KeepLoginID: sess.ID, Reason: gatehouse.ReasonRolesChanged, At: t0},
	} {
		ev := newEvent(gatehouse.EventUserRolesChanged, u.ID)
		ev.Detail = fmt.Sprintf("%+v", r)
		revoked, err := s.RevokeLogins(t.Context(), r, ev)
		if err != nil {
			t.Fatalf("RevokeLogins(%+v) = %v, want nil", r, err)
		}
		checkIDs(t, fmt.Sprintf("RevokeLogins(%+v)", r), revoked, nil)
		checkNewestEvent(t, s, ev)
	}

	u.Roles = []string{"admin"}
	r := &gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: t0}
	ev := newEvent(gatehouse.EventUserRolesChanged, u.ID)
	revoked, err := s.UpdateUser(t.Context(), u, r, ev)
	if err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	checkIDs(t, "UpdateUser revoked", revoked, nil)
	checkNewestEvent(t, s, ev)
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID", got, u)

	checkKept(t, s, sess)
	checkKept(t, s, tok)
	checkFound(t, s, rt, tok, u)
	feed, err := s.RevocationsAfter(t.Context(), 0, time.Time{}, 100)
	if err != nil {
		t.Fatalf("RevocationsAfter = %v, want nil", err)
	}
	if len(feed) != 4 {
		t.Fatalf("RevocationsAfter = %+v, want 4 entries", feed)
	}
	for i, e := range feed {
		want := gatehouse.RevocationEvent{Seq: e.Seq, UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: t0}
		checkRevocation(t, fmt.Sprintf("RevocationsAfter[%d]", i), e, want)
	}
}

func checkRevocation(t *testing.T, call string, got, want gatehouse.RevocationEvent) {
	t.Helper()
	if got.Seq != want.Seq || got.LoginID != want.LoginID || got.UserID != want.UserID ||
		got.Reason != want.Reason || !got.At.Equal(want.At) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" At", got.At)
}

func testRevocationsAfter(t *testing.T, s gatehouse.Store) {
	alice, bob := newUser("user-alice"), newUser("user-bob")
	createUser(t, s, alice)
	createUser(t, s, bob)
	l1, l2 := newSession("login-1", alice.ID, t0), newSession("login-2", alice.ID, t0)
	createLogin(t, s, l1)
	createLogin(t, s, l2)
	tok := newToken("login-3", alice.ID, t0)
	createTokenLogin(t, s, tok, newRefreshToken("3", tok.ID, t0))
	b1 := newSession("login-b1", bob.ID, t0)
	createLogin(t, s, b1)

	feed := func(t *testing.T, after int64, since time.Time, limit int) []gatehouse.RevocationEvent {
		t.Helper()
		got, err := s.RevocationsAfter(t.Context(), after, since, limit)
		if err != nil {
			t.Fatalf("RevocationsAfter(%d, %v, %d) = %v, want nil", after, since, limit, err)
		}
		return got
	}
	if got := feed(t, 0, time.Time{}, 100); len(got) != 0 {
		t.Fatalf("RevocationsAfter of a store without revocations = %+v, want none", got)
	}

	// Each step revokes one login at most, so the feed's order is known.
	revoke := func(r gatehouse.Revocation, want []string) {
		t.Helper()
		got, err := s.RevokeLogins(t.Context(), r, newEvent(gatehouse.EventSessionRevoked, r.UserID))
		if err != nil {
			t.Fatalf("RevokeLogins(%+v) = %v, want nil", r, err)
		}
		checkIDs(t, "RevokeLogins", got, want)
	}
	update := func(u gatehouse.User, r gatehouse.Revocation, want []string) {
		t.Helper()
		got, err := s.UpdateUser(t.Context(), u, &r, newEvent(gatehouse.EventPasswordChanged, u.ID))
		if err != nil {
			t.Fatalf("UpdateUser(%q, %+v) = %v, want nil", u.ID, r, err)
		}
		checkIDs(t, "UpdateUser revoked", got, want)
	}
	at := func(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }
	revoke(gatehouse.Revocation{UserID: alice.ID, LoginID: l1.ID, Reason: gatehouse.ReasonLogout, At: at(0)}, []string{l1.ID})
	update(alice, gatehouse.Revocation{UserID: alice.ID, KeepLoginID: l2.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)}, []string{tok.ID})
	revoke(gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonRolesChanged, At: at(2)}, nil)
	update(bob, gatehouse.Revocation{UserID: bob.ID, Reason: gatehouse.ReasonRolesChanged, At: at(3)}, nil)
	revoke(gatehouse.Revocation{UserID: alice.ID, LoginID: b1.ID, Reason: gatehouse.ReasonRevoked, At: at(4)}, nil) // not hers
	revoke(gatehouse.Revocation{UserID: bob.ID, LoginID: b1.ID, Reason: gatehouse.ReasonUserDisabled, At: at(4)}, []string{b1.ID})
	// Expiry is not revocation.
	if _, err := s.DeleteExpiredLogins(t.Context(), t0.Add(365*24*time.Hour)); err != nil {
		t.Fatalf("DeleteExpiredLogins = %v, want nil", err)
	}

	all := feed(t, 0, time.Time{}, 100)
	want := []gatehouse.RevocationEvent{
		{LoginID: l1.ID, UserID: alice.ID, Reason: gatehouse.ReasonLogout, At: at(0)},
		{LoginID: tok.ID, UserID: alice.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)},
		{LoginID: "", UserID: alice.ID, Reason: gatehouse.ReasonRolesChanged, At: at(2)},
		{LoginID: "", UserID: bob.ID, Reason: gatehouse.ReasonRolesChanged, At: at(3)},
		{LoginID: b1.ID, UserID: bob.ID, Reason: gatehouse.ReasonUserDisabled, At: at(4)},
	}
	if len(all) != len(want) {
		t.Fatalf("RevocationsAfter(0, zero, 100) = %+v, want %+v", all, want)
	}
	for i := range all {
		if i > 0 && all[i].Seq <= all[i-1].Seq {
			t.Errorf("RevocationsAfter[%d].Seq = %d after %d, want it strictly greater", i, all[i].Seq, all[i-1].Seq)
		}
		want[i].Seq = all[i].Seq
		checkRevocation(t, fmt.Sprintf("RevocationsAfter[%d]", i), all[i], want[i])
	}

	tests := []struct {
		name  string
		after int64
		since time.Time
		limit int
		want  []gatehouse.RevocationEvent
	}{
		{name: "after the first", after: all[0].Seq, limit: 100, want: all[1:]},
		{name: "after the last", after: all[4].Seq, limit: 100, want: nil},
		{name: "after a seq between entries", after: all[1].Seq + (all[2].Seq-all[1].Seq)/2, limit: 100, want: all[2:]},
		{name: "since, inclusive", since: at(2), limit: 100, want: all[2:]},
		{name: "since a time between entries", since: at(1).Add(time.Nanosecond), limit: 100, want: all[2:]},
		{name: "since after all", since: at(5), limit: 100, want: nil},
		{name: "since, in another zone", since: at(3).In(time.FixedZone("", -7*3600)), limit: 100, want: all[3:]},
		{name: "limited", limit: 2, want: all[:2]},
		{name: "after and limited", after: all[0].Seq, limit: 2, want: all[1:3]},
		{name: "after and since", after: all[2].Seq, since: at(1), limit: 100, want: all[3:]},
		{name: "since and limited", since: at(1), limit: 1, want: all[1:2]},
		{name: "a limit of zero", limit: 0, want: nil},
		{name: "a negative limit", limit: -1, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(t, tt.after, tt.since, tt.limit)
			if len(got) != len(tt.want) {
				t.Fatalf("RevocationsAfter(%d, %v, %d) = %+v, want %+v", tt.after, tt.since, tt.limit, got, tt.want)
			}
			for i := range got {
				checkRevocation(t, fmt.Sprintf("RevocationsAfter[%d]", i), got[i], tt.want[i])
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var got []gatehouse.RevocationEvent
		for after := int64(0); ; {
			page := feed(t, after, time.Time{}, 2)
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if len(got) != len(all) {
			t.Fatalf("pages of two = %+v, want %+v", got, all)
		}
		for i := range got {
			checkRevocation(t, fmt.Sprintf("pages of two[%d]", i), got[i], all[i])
		}
	})
}

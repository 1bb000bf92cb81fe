package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// testUpdateUserFeed: UpdateUser adds the feed entry it is given and
// revokes nothing for it, as when the service changes a user's roles.
func testUpdateUserFeed(t *testing.T, s gatehouse.Store) {
	u, sess, tok, rt := aliceWithLogins(t, s)

	u.Roles = []string{"admin"}
	feed := &gatehouse.RevocationEvent{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: T0}
	ev := Event(gatehouse.EventUserRolesChanged, u.ID)
	revoked, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Feed: feed, Events: []gatehouse.AuditEvent{ev}})
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
	entries, err := s.RevocationsAfter(t.Context(), 0, time.Time{}, 100)
	if err != nil {
		t.Fatalf("RevocationsAfter = %v, want nil", err)
	}
	if len(entries) != 1 {
		t.Fatalf("RevocationsAfter = %+v, want 1 entry", entries)
	}
	want := *feed
	want.Seq = entries[0].Seq
	checkRevocation(t, "RevocationsAfter[0]", entries[0], want)
}

// testFeedEntries checks every entry that each way of revoking adds to the
// feed: one per login, in id order within a revocation, and nothing for
// expiry.
func testFeedEntries(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	for _, id := range []string{"login-3", "login-1", "login-2"} {
		CreateLogin(t, s, Session(id, u.ID, T0))
	}
	at := func(seconds int) time.Time { return T0.Add(time.Duration(seconds) * time.Second) }
	r := gatehouse.Revocation{UserID: u.ID, LoginID: "login-2", Reason: gatehouse.ReasonLogout, At: at(0)}
	if _, err := s.RevokeLogins(t.Context(), r, Event(gatehouse.EventLogout, u.ID)); err != nil {
		t.Fatalf("RevokeLogins = %v, want nil", err)
	}
	r = gatehouse.Revocation{UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)}
	if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Revoke: &r, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, u.ID)}}); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	feed := &gatehouse.RevocationEvent{UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: at(2)}
	if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Feed: feed, Events: []gatehouse.AuditEvent{Event(gatehouse.EventUserRolesChanged, u.ID)}}); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	CreateLogin(t, s, Session("login-4", u.ID, T0))
	if _, err := s.DeleteExpiredLogins(t.Context(), T0.Add(365*24*time.Hour)); err != nil {
		t.Fatalf("DeleteExpiredLogins = %v, want nil", err)
	}

	got, err := s.RevocationsAfter(t.Context(), 0, time.Time{}, 100)
	if err != nil {
		t.Fatalf("RevocationsAfter = %v, want nil", err)
	}
	want := []gatehouse.RevocationEvent{
		{LoginID: "login-2", UserID: u.ID, Reason: gatehouse.ReasonLogout, At: at(0)},
		{LoginID: "login-1", UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)},
		{LoginID: "login-3", UserID: u.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)},
		{LoginID: "", UserID: u.ID, Reason: gatehouse.ReasonRolesChanged, At: at(2)},
	}
	if len(got) != len(want) {
		t.Fatalf("RevocationsAfter = %+v, want %+v", got, want)
	}
	for i := range got {
		want[i].Seq = got[i].Seq
		checkRevocation(t, fmt.Sprintf("RevocationsAfter[%d]", i), got[i], want[i])
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
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	l1, l2 := Session("login-1", alice.ID, T0), Session("login-2", alice.ID, T0)
	CreateLogin(t, s, l1)
	CreateLogin(t, s, l2)
	tok := Token("login-3", alice.ID, T0)
	CreateTokenLogin(t, s, tok, RefreshToken("3", tok.ID, T0))
	b1 := Session("login-b1", bob.ID, T0)
	CreateLogin(t, s, b1)

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
		got, err := s.RevokeLogins(t.Context(), r, Event(gatehouse.EventSessionRevoked, r.UserID))
		if err != nil {
			t.Fatalf("RevokeLogins(%+v) = %v, want nil", r, err)
		}
		checkIDs(t, "RevokeLogins", got, want)
	}
	update := func(u gatehouse.User, r *gatehouse.Revocation, feed *gatehouse.RevocationEvent, want []string) {
		t.Helper()
		got, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Revoke: r, Feed: feed, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, u.ID)}})
		if err != nil {
			t.Fatalf("UpdateUser(%q, %+v, %+v) = %v, want nil", u.ID, r, feed, err)
		}
		checkIDs(t, "UpdateUser revoked", got, want)
	}
	at := func(seconds int) time.Time { return T0.Add(time.Duration(seconds) * time.Second) }
	revoke(gatehouse.Revocation{UserID: alice.ID, LoginID: l1.ID, Reason: gatehouse.ReasonLogout, At: at(0)}, []string{l1.ID})
	update(alice, &gatehouse.Revocation{UserID: alice.ID, KeepLoginID: l2.ID, Reason: gatehouse.ReasonPasswordChanged, At: at(1)}, nil, []string{tok.ID})
	update(alice, nil, &gatehouse.RevocationEvent{UserID: alice.ID, Reason: gatehouse.ReasonRolesChanged, At: at(2)}, nil)
	update(bob, nil, &gatehouse.RevocationEvent{UserID: bob.ID, Reason: gatehouse.ReasonRolesChanged, At: at(3)}, nil)
	revoke(gatehouse.Revocation{UserID: alice.ID, LoginID: b1.ID, Reason: gatehouse.ReasonRevoked, At: at(4)}, nil) // not hers
	revoke(gatehouse.Revocation{UserID: bob.ID, LoginID: b1.ID, Reason: gatehouse.ReasonUserDisabled, At: at(4)}, []string{b1.ID})
	// Expiry is not revocation.
	if _, err := s.DeleteExpiredLogins(t.Context(), T0.Add(365*24*time.Hour)); err != nil {
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

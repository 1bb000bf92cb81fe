package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func testCreateUser(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	u.Roles = []string{"admin", "member"}
	CreateUser(t, s, u)

	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID", got, u)
	got, err = s.UserByEmail(t.Context(), u.Email)
	if err != nil {
		t.Fatalf("UserByEmail = %v, want nil", err)
	}
	checkUser(t, "UserByEmail", got, u)
	checkIDs(t, "audit types", auditTypes(t, s, u.ID), []string{gatehouse.EventUserCreated})
}

func testUserNotFound(t *testing.T, s gatehouse.Store) {
	CreateUser(t, s, User("user-alice"))
	_, err := s.UserByID(t.Context(), "user-nobody")
	CheckCode(t, "UserByID", err, gatehouse.CodeNotFound)
	_, err = s.UserByEmail(t.Context(), "nobody@example.com")
	CheckCode(t, "UserByEmail", err, gatehouse.CodeNotFound)
}

func testEmailTaken(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	// The domain lower-cases addresses first, so the store only ever sees
	// an exact duplicate.
	other := User("user-other")
	other.Email = alice.Email
	err := s.CreateUser(t.Context(), other, Event(gatehouse.EventUserCreated, other.ID))
	CheckCode(t, "CreateUser with a taken email", err, gatehouse.CodeEmailTaken)

	_, err = s.UserByID(t.Context(), other.ID)
	CheckCode(t, "UserByID of the refused user", err, gatehouse.CodeNotFound)
	checkIDs(t, "audit types of the refused user", auditTypes(t, s, other.ID), []string{})
	got, err := s.UserByEmail(t.Context(), alice.Email)
	if err != nil {
		t.Fatalf("UserByEmail = %v, want nil", err)
	}
	checkUser(t, "UserByEmail", got, alice)
}

func testRoles(t *testing.T, s gatehouse.Store) {
	tests := []struct {
		name  string
		roles []string
	}{
		{name: "none", roles: nil},
		{name: "one", roles: []string{"admin"}},
		{name: "several in order", roles: []string{"viewer", "admin", "editor"}},
		{name: "odd characters", roles: []string{`quote"back\slash`, "ünïcode", "with space"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := User(fmt.Sprintf("user-%d", i))
			u.Roles = tt.roles
			CreateUser(t, s, u)
			got, err := s.UserByID(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("UserByID = %v, want nil", err)
			}
			checkUser(t, "UserByID after CreateUser", got, u)

			u.Roles = []string{"changed"}
			if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u}); err != nil {
				t.Fatalf("UpdateUser = %v, want nil", err)
			}
			u.Roles = tt.roles
			if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u}); err != nil {
				t.Fatalf("UpdateUser = %v, want nil", err)
			}
			got, err = s.UserByID(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("UserByID = %v, want nil", err)
			}
			checkUser(t, "UserByID after UpdateUser", got, u)
		})
	}
}

func testDisabled(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	u.Disabled = true
	CreateUser(t, s, u)
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID of a disabled user", got, u)

	u.Disabled = false
	if _, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: u, Events: []gatehouse.AuditEvent{Event(gatehouse.EventUserEnabled, u.ID)}}); err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	got, err = s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID of an enabled user", got, u)
}

func testListUsers(t *testing.T, s gatehouse.Store) {
	// Inserted out of order: the list is in id order.
	for _, id := range []string{"user-3", "user-1", "user-5", "user-2", "user-4"} {
		CreateUser(t, s, User(id))
	}
	userIDs := func(after string, limit int) []string {
		t.Helper()
		users, err := s.ListUsers(t.Context(), gatehouse.UserQuery{After: after, Limit: limit})
		if err != nil {
			t.Fatalf("ListUsers(%q, %d) = %v, want nil", after, limit, err)
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		return ids
	}
	checkIDs(t, "ListUsers(\"\", 10)", userIDs("", 10), []string{"user-1", "user-2", "user-3", "user-4", "user-5"})

	var pages [][]string
	for after := ""; ; {
		page := userIDs(after, 2)
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		after = page[len(page)-1]
	}
	if got, want := fmt.Sprint(pages), "[[user-1 user-2] [user-3 user-4] [user-5]]"; got != want {
		t.Errorf("pages of two = %s, want %s", got, want)
	}
	// The cursor need not be an id that exists.
	checkIDs(t, "ListUsers(\"user-2x\", 10)", userIDs("user-2x", 10), []string{"user-3", "user-4", "user-5"})

	users, err := s.ListUsers(t.Context(), gatehouse.UserQuery{Limit: 1})
	if err != nil || len(users) != 1 {
		t.Fatalf("ListUsers(\"\", 1) = %d users, %v; want 1, nil", len(users), err)
	}
	checkUser(t, "ListUsers(\"\", 1)[0]", users[0], User("user-1"))
}

func testListUsersByEmail(t *testing.T, s gatehouse.Store) {
	// LIKE's wildcards, '%' and '_', are plain characters in a prefix;
	// and a prefix counts characters, not bytes.
	for id, email := range map[string]string{
		"user-1": "ada@example.com", "user-2": "ada_b@example.com", "user-3": "adam@example.org",
		"user-4": "bob@example.com", "user-5": "ad%x@example.com", "user-6": "élodie@example.com",
		"user-7": "xada@example.com", "user-8": "adb@example.com",
	} {
		u := User(id)
		u.Email = email
		CreateUser(t, s, u)
	}
	tests := []struct {
		prefix, after string
		limit         int
		want          []string
	}{
		{prefix: "", limit: 10, want: []string{"user-1", "user-2", "user-3", "user-4", "user-5", "user-6", "user-7", "user-8"}},
		{prefix: "ada", limit: 10, want: []string{"user-1", "user-2", "user-3"}},
		{prefix: "ada", limit: 2, want: []string{"user-1", "user-2"}},
		{prefix: "ada", after: "user-2", limit: 2, want: []string{"user-3"}},
		{prefix: "ada", after: "user-3", limit: 2, want: nil},
		{prefix: "ada_", limit: 10, want: []string{"user-2"}},
		{prefix: "ad%", limit: 10, want: []string{"user-5"}},
		{prefix: "ad_", limit: 10, want: nil},
		{prefix: "%", limit: 10, want: nil},
		{prefix: "ada@", limit: 10, want: []string{"user-1"}},
		{prefix: "ada@example.com", limit: 10, want: []string{"user-1"}},
		{prefix: "ada@example.com.", limit: 10, want: nil},
		{prefix: "é", limit: 10, want: []string{"user-6"}},
		{prefix: "élo", limit: 10, want: []string{"user-6"}},
		{prefix: "e", limit: 10, want: nil},
		{prefix: "da", limit: 10, want: nil},
		{prefix: "ada", limit: 0, want: nil},
	}
	for _, tt := range tests {
		q := gatehouse.UserQuery{EmailPrefix: tt.prefix, After: tt.after, Limit: tt.limit}
		users, err := s.ListUsers(t.Context(), q)
		if err != nil {
			t.Fatalf("ListUsers(%+v) = %v, want nil", q, err)
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
			if !strings.HasPrefix(u.Email, tt.prefix) {
				t.Errorf("ListUsers(%+v) gave %q", q, u.Email)
			}
		}
		checkIDs(t, fmt.Sprintf("ListUsers(%+v)", q), ids, tt.want)
	}
}

func testUpdateUser(t *testing.T, s gatehouse.Store) {
	u := User("user-alice")
	CreateUser(t, s, u)
	l := Session("login-1", u.ID, T0)
	CreateLogin(t, s, l)

	changed := u
	changed.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"
	changed.Roles = []string{"admin"}
	changed.Disabled = true
	changed.Email = "changed@example.com"
	changed.EmailVerified = true
	// The id and creation time are not written.
	changed.CreatedAt = T0
	revoked, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: changed, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, u.ID), Event(gatehouse.EventUserDisabled, u.ID)}})
	if err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	checkIDs(t, "UpdateUser revoked", revoked, nil)

	want := u
	want.PasswordHash, want.Roles, want.Disabled = changed.PasswordHash, changed.Roles, changed.Disabled
	want.Email, want.EmailVerified = changed.Email, changed.EmailVerified
	got, err := s.UserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID after UpdateUser", got, want)
	checkKept(t, s, l)
	checkIDs(t, "audit types", auditTypes(t, s, u.ID), []string{
		gatehouse.EventUserDisabled, gatehouse.EventPasswordChanged,
		gatehouse.EventLoginSucceeded, gatehouse.EventUserCreated,
	})
}

func testUpdateUserRevoke(t *testing.T, s gatehouse.Store) {
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	l1 := Session("login-1", alice.ID, T0)
	l2 := Session("login-2", alice.ID, T0)
	l3 := Token("login-3", alice.ID, T0)
	b1 := Session("login-b1", bob.ID, T0)
	for _, l := range []gatehouse.Login{l1, l2, l3, b1} {
		CreateLogin(t, s, l)
	}

	alice.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"
	r := &gatehouse.Revocation{UserID: alice.ID, KeepLoginID: l2.ID, Reason: gatehouse.ReasonPasswordChanged, At: T0}
	revoked, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: alice, Revoke: r, Events: []gatehouse.AuditEvent{Event(gatehouse.EventPasswordChanged, alice.ID)}})
	if err != nil {
		t.Fatalf("UpdateUser = %v, want nil", err)
	}
	checkSameIDs(t, "UpdateUser revoked", revoked, []string{l1.ID, l3.ID})
	checkGone(t, s, l1)
	checkGone(t, s, l3)
	checkKept(t, s, l2)
	checkKept(t, s, b1)
	got, err := s.UserByID(t.Context(), alice.ID)
	if err != nil {
		t.Fatalf("UserByID = %v, want nil", err)
	}
	checkUser(t, "UserByID after UpdateUser", got, alice)
	if types := auditTypes(t, s, alice.ID); len(types) == 0 || types[0] != gatehouse.EventPasswordChanged {
		t.Errorf("audit types = %q, want %q first", types, gatehouse.EventPasswordChanged)
	}
}

func testUpdateUserNotFound(t *testing.T, s gatehouse.Store) {
	alice := User("user-alice")
	CreateUser(t, s, alice)
	l := Session("login-1", alice.ID, T0)
	CreateLogin(t, s, l)
	before := auditTypes(t, s, "")

	// Nothing is written when the user is missing, even what would have
	// succeeded on its own: the revocation, the feed entry and the events.
	ghost := User("user-ghost")
	r := &gatehouse.Revocation{UserID: alice.ID, Reason: gatehouse.ReasonRevoked, At: T0}
	feed := &gatehouse.RevocationEvent{UserID: alice.ID, Reason: gatehouse.ReasonRolesChanged, At: T0}
	revoked, err := s.UpdateUser(t.Context(), gatehouse.UserChange{User: ghost, Revoke: r, Feed: feed, Events: []gatehouse.AuditEvent{Event(gatehouse.EventUserDisabled, ghost.ID), Event(gatehouse.EventUserDisabled, alice.ID)}})
	CheckCode(t, "UpdateUser of a missing user", err, gatehouse.CodeNotFound)
	checkIDs(t, "UpdateUser revoked", revoked, nil)
	checkKept(t, s, l)
	checkIDs(t, "audit types", auditTypes(t, s, ""), before)
	if entries, err := s.RevocationsAfter(t.Context(), 0, time.Time{}, 10); err != nil || len(entries) != 0 {
		t.Errorf("RevocationsAfter = %+v, %v; want none, nil", entries, err)
	}
}

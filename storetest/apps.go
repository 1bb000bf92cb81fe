package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// App returns a confidential app created at T0 whose name is its id.
func App(id string) gatehouse.App {
	return gatehouse.App{
		ID:             id,
		Name:           "App " + id,
		SecretHash:     secretHash("client " + id),
		RedirectURIs:   []string{"https://" + id + ".example.com/callback", "http://127.0.0.1:8080/cb"},
		PostLogoutURIs: []string{"https://" + id + ".example.com/"},
		CreatedAt:      T0,
	}
}

// OIDCLogin returns an app's login created at created, live for a week.
func OIDCLogin(id, userID, appID string, created time.Time) gatehouse.Login {
	l := Token(id, userID, created)
	l.Mode, l.AppID, l.Device = gatehouse.ModeOIDC, appID, "App "+appID
	return l
}

// CreateApp creates a, or ends the test.
func CreateApp(t testing.TB, s gatehouse.Store, a gatehouse.App) {
	t.Helper()
	if err := s.CreateApp(t.Context(), a, Event(gatehouse.EventClientCreated, "")); err != nil {
		t.Fatalf("CreateApp(%q) = %v, want nil", a.ID, err)
	}
}

// PutConsent gives c, or ends the test.
func PutConsent(t testing.TB, s gatehouse.Store, c gatehouse.Consent) {
	t.Helper()
	if err := s.PutConsent(t.Context(), c, Event(gatehouse.EventConsentGranted, c.UserID)); err != nil {
		t.Fatalf("PutConsent(%q, %q) = %v, want nil", c.UserID, c.AppID, err)
	}
}

func checkApp(t *testing.T, call string, got, want gatehouse.App) {
	t.Helper()
	same := got.ID == want.ID && got.Name == want.Name && bytes.Equal(got.SecretHash, want.SecretHash) &&
		(got.SecretHash == nil) == (want.SecretHash == nil) &&
		slices.Equal(got.RedirectURIs, want.RedirectURIs) && slices.Equal(got.PostLogoutURIs, want.PostLogoutURIs) &&
		got.Public == want.Public && got.Trusted == want.Trusted && got.CreatedAt.Equal(want.CreatedAt)
	if !same {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" CreatedAt", got.CreatedAt)
}

func checkConsent(t *testing.T, call string, got, want gatehouse.Consent) {
	t.Helper()
	if got.UserID != want.UserID || got.AppID != want.AppID || !slices.Equal(got.Scopes, want.Scopes) || !got.GrantedAt.Equal(want.GrantedAt) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
	checkUTC(t, call+" GrantedAt", got.GrantedAt)
}

// feedAfter returns the revocation feed's entries after seq.
func feedAfter(t *testing.T, s gatehouse.Store, seq int64) []gatehouse.RevocationEvent {
	t.Helper()
	feed, err := s.RevocationsAfter(t.Context(), seq, time.Time{}, 1000)
	if err != nil {
		t.Fatalf("RevocationsAfter = %v, want nil", err)
	}
	return feed
}

// lastSeq returns the Seq of the feed's last entry, or 0.
func lastSeq(t *testing.T, s gatehouse.Store) int64 {
	t.Helper()
	feed := feedAfter(t, s, 0)
	if len(feed) == 0 {
		return 0
	}
	return feed[len(feed)-1].Seq
}

// checkFeed checks the feed's entries after seq: one per login, in that
// order, with its user, ReasonRevoked and at.
func checkFeed(t *testing.T, call string, s gatehouse.Store, seq int64, at time.Time, logins ...gatehouse.Login) {
	t.Helper()
	got := feedAfter(t, s, seq)
	if len(got) != len(logins) {
		t.Errorf("%s: feed entries %+v, want %d", call, got, len(logins))
		return
	}
	for i, l := range logins {
		want := gatehouse.RevocationEvent{Seq: got[i].Seq, LoginID: l.ID, UserID: l.UserID, Reason: gatehouse.ReasonRevoked, At: at}
		checkRevocation(t, fmt.Sprintf("%s: feed[%d]", call, i), got[i], want)
	}
}

func testApps(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	_, err := s.AppByID(ctx, "app-none")
	CheckCode(t, "AppByID(none)", err, gatehouse.CodeNotFound)
	if apps, err := s.ListApps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("ListApps of none = %+v, %v; want none", apps, err)
	}

	conf := App("app-b")
	public := gatehouse.App{ID: "app-a", Name: "Native ✓", RedirectURIs: []string{"com.example.app:/cb"}, Public: true, Trusted: true, CreatedAt: T0.Add(time.Second)}
	later := App("app-c")
	later.CreatedAt = T0.Add(time.Second)
	ev := Event(gatehouse.EventClientCreated, "")
	ev.Detail = "client=app-b by=admin"
	if err := s.CreateApp(ctx, conf, ev); err != nil {
		t.Fatalf("CreateApp = %v, want nil", err)
	}
	checkNewestEvent(t, s, ev)
	CreateApp(t, s, later)
	CreateApp(t, s, public)

	for _, want := range []gatehouse.App{conf, public, later} {
		got, err := s.AppByID(ctx, want.ID)
		if err != nil {
			t.Errorf("AppByID(%q) = %v, want nil", want.ID, err)
			continue
		}
		checkApp(t, "AppByID("+want.ID+")", got, want)
	}
	apps, err := s.ListApps(ctx)
	if err != nil {
		t.Fatalf("ListApps = %v, want nil", err)
	}
	// Oldest first, then by id.
	want := []gatehouse.App{conf, public, later}
	if len(apps) != len(want) {
		t.Fatalf("ListApps = %+v, want %d apps", apps, len(want))
	}
	for i := range want {
		checkApp(t, fmt.Sprintf("ListApps[%d]", i), apps[i], want[i])
	}
}

func testOIDCLogins(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	alice := User("user-alice")
	CreateUser(t, s, alice)
	CreateApp(t, s, App("app-a"))
	plain := OIDCLogin("login-oidc", alice.ID, "app-a", T0)
	offline := OIDCLogin("login-offline", alice.ID, "app-a", T0.Add(time.Minute))
	rt := RefreshToken("offline", offline.ID, T0)
	CreateLogin(t, s, plain)
	CreateTokenLogin(t, s, offline, rt)
	sess := Session("login-session", alice.ID, T0.Add(2*time.Minute))
	CreateLogin(t, s, sess)

	for _, l := range []gatehouse.Login{plain, offline, sess} {
		got, err := s.LoginByID(ctx, l.ID)
		if err != nil || got.AppID != l.AppID || got.Mode != l.Mode {
			t.Errorf("LoginByID(%q) = mode %q app %q, %v; want %q, %q", l.ID, got.Mode, got.AppID, err, l.Mode, l.AppID)
		}
		checkKept(t, s, l)
	}
	listed, err := s.ListLogins(ctx, alice.ID, T0)
	if err != nil {
		t.Fatalf("ListLogins = %v, want nil", err)
	}
	checkIDs(t, "ListLogins", loginIDs(listed), []string{sess.ID, offline.ID, plain.ID})
	for i, want := range []gatehouse.Login{sess, offline, plain} {
		checkLogin(t, fmt.Sprintf("ListLogins[%d]", i), listed[i], want)
	}
	_, l, _, err := s.RefreshToken(ctx, rt.Hash)
	if err != nil || l.AppID != "app-a" || l.Mode != gatehouse.ModeOIDC {
		t.Errorf("RefreshToken = login %+v, %v; want the app's oidc login", l, err)
	}

	// An oidc login needs an app that exists, and only an oidc login has one.
	noApp := OIDCLogin("login-no-app", alice.ID, "app-none", T0)
	if err := s.CreateLogin(ctx, noApp, Event(gatehouse.EventLoginSucceeded, alice.ID)); err == nil {
		t.Error("CreateLogin(oidc login of an app that does not exist) = nil, want an error")
	}
	withoutApp := OIDCLogin("login-without-app", alice.ID, "", T0)
	if err := s.CreateLogin(ctx, withoutApp, Event(gatehouse.EventLoginSucceeded, alice.ID)); err == nil {
		t.Error("CreateLogin(oidc login without an app) = nil, want an error")
	}
	sessionOfApp := Session("login-session-app", alice.ID, T0)
	sessionOfApp.AppID = "app-a"
	if err := s.CreateLogin(ctx, sessionOfApp, Event(gatehouse.EventLoginSucceeded, alice.ID)); err == nil {
		t.Error("CreateLogin(session with an app) = nil, want an error")
	}
	for _, l := range []gatehouse.Login{noApp, withoutApp, sessionOfApp} {
		checkGone(t, s, l)
	}
}

func testDeleteApp(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	a, b := App("app-a"), App("app-b")
	CreateApp(t, s, a)
	CreateApp(t, s, b)
	aliceA := OIDCLogin("login-1", alice.ID, a.ID, T0)
	rt := RefreshToken("alice a", aliceA.ID, T0)
	CreateTokenLogin(t, s, aliceA, rt)
	bobA := OIDCLogin("login-2", bob.ID, a.ID, T0)
	aliceB := OIDCLogin("login-3", alice.ID, b.ID, T0)
	sess := Session("login-4", alice.ID, T0)
	for _, l := range []gatehouse.Login{bobA, aliceB, sess} {
		CreateLogin(t, s, l)
	}
	for _, c := range []gatehouse.Consent{
		{UserID: alice.ID, AppID: a.ID, Scopes: []string{"openid"}, GrantedAt: T0},
		{UserID: bob.ID, AppID: a.ID, Scopes: []string{"openid"}, GrantedAt: T0},
		{UserID: alice.ID, AppID: b.ID, Scopes: []string{"email", "openid"}, GrantedAt: T0},
	} {
		PutConsent(t, s, c)
	}
	seq := lastSeq(t, s)

	at := T0.Add(time.Hour)
	ev := gatehouse.AuditEvent{At: at, Type: gatehouse.EventClientRemoved, IP: "192.0.2.9", Detail: "client=app-a by=admin"}
	revoked, err := s.DeleteApp(ctx, a.ID, ev)
	if err != nil {
		t.Fatalf("DeleteApp = %v, want nil", err)
	}
	checkIDs(t, "DeleteApp", revoked, []string{aliceA.ID, bobA.ID})
	checkGone(t, s, aliceA)
	checkGone(t, s, bobA)
	checkTokenGone(t, s, "RefreshToken of the removed app's login", rt.Hash)
	checkKept(t, s, aliceB)
	checkKept(t, s, sess)
	checkFeed(t, "DeleteApp", s, seq, at, aliceA, bobA)
	checkNewestEvent(t, s, ev)
	_, err = s.AppByID(ctx, a.ID)
	CheckCode(t, "AppByID(removed)", err, gatehouse.CodeNotFound)
	for _, u := range []string{alice.ID, bob.ID} {
		_, err := s.ConsentOf(ctx, u, a.ID)
		CheckCode(t, "ConsentOf("+u+", removed app)", err, gatehouse.CodeNotFound)
	}
	if _, err := s.ConsentOf(ctx, alice.ID, b.ID); err != nil {
		t.Errorf("ConsentOf(alice, the other app) = %v, want nil", err)
	}
	if apps, err := s.ListApps(ctx); err != nil || len(apps) != 1 || apps[0].ID != b.ID {
		t.Errorf("ListApps after DeleteApp = %+v, %v; want app-b alone", apps, err)
	}

	// Again: nothing to remove, nothing recorded, nothing on the feed.
	seq = lastSeq(t, s)
	events := auditTypes(t, s, "")
	again := ev
	again.Detail = "again"
	revoked, err = s.DeleteApp(ctx, a.ID, again)
	CheckCode(t, "DeleteApp(removed)", err, gatehouse.CodeNotFound)
	if revoked != nil {
		t.Errorf("DeleteApp(removed) = %q, want none", revoked)
	}
	checkFeed(t, "DeleteApp(removed)", s, seq, at)
	if got := auditTypes(t, s, ""); len(got) != len(events) {
		t.Errorf("audit events after DeleteApp(removed) = %d, want %d", len(got), len(events))
	}

	// An app without logins goes as well, with nothing on the feed.
	revoked, err = s.DeleteApp(ctx, b.ID, ev)
	if err != nil || len(revoked) != 1 || revoked[0] != aliceB.ID {
		t.Errorf("DeleteApp(app-b) = %q, %v; want [login-3]", revoked, err)
	}
	CreateApp(t, s, App("app-c"))
	seq = lastSeq(t, s)
	if revoked, err := s.DeleteApp(ctx, "app-c", ev); err != nil || len(revoked) != 0 {
		t.Errorf("DeleteApp(app without logins) = %q, %v; want none, nil", revoked, err)
	}
	checkFeed(t, "DeleteApp(app without logins)", s, seq, at)
}

func testConsents(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	for _, id := range []string{"app-a", "app-b"} {
		CreateApp(t, s, App(id))
	}
	_, err := s.ConsentOf(ctx, alice.ID, "app-a")
	CheckCode(t, "ConsentOf(none)", err, gatehouse.CodeNotFound)
	if list, err := s.ListConsents(ctx, alice.ID); err != nil || len(list) != 0 {
		t.Errorf("ListConsents of none = %+v, %v; want none", list, err)
	}

	first := gatehouse.Consent{UserID: alice.ID, AppID: "app-a", Scopes: []string{"email", "openid"}, GrantedAt: T0}
	ev := Event(gatehouse.EventConsentGranted, alice.ID)
	ev.Detail = "client=app-a"
	if err := s.PutConsent(ctx, first, ev); err != nil {
		t.Fatalf("PutConsent = %v, want nil", err)
	}
	checkNewestEvent(t, s, ev)
	got, err := s.ConsentOf(ctx, alice.ID, "app-a")
	if err != nil {
		t.Fatalf("ConsentOf = %v, want nil", err)
	}
	checkConsent(t, "ConsentOf", got, first)
	_, err = s.ConsentOf(ctx, bob.ID, "app-a")
	CheckCode(t, "ConsentOf(another user's)", err, gatehouse.CodeNotFound)
	_, err = s.ConsentOf(ctx, alice.ID, "app-b")
	CheckCode(t, "ConsentOf(another app)", err, gatehouse.CodeNotFound)

	// A new consent replaces the old.
	second := gatehouse.Consent{UserID: alice.ID, AppID: "app-a", Scopes: []string{"openid"}, GrantedAt: T0.Add(time.Minute)}
	PutConsent(t, s, second)
	got, err = s.ConsentOf(ctx, alice.ID, "app-a")
	if err != nil {
		t.Fatalf("ConsentOf after replacing = %v, want nil", err)
	}
	checkConsent(t, "ConsentOf after replacing", got, second)

	other := gatehouse.Consent{UserID: alice.ID, AppID: "app-b", Scopes: []string{"offline_access", "openid", "profile"}, GrantedAt: T0.Add(2 * time.Minute)}
	PutConsent(t, s, other)
	bobs := gatehouse.Consent{UserID: bob.ID, AppID: "app-a", Scopes: nil, GrantedAt: T0.Add(time.Hour)}
	PutConsent(t, s, bobs)
	list, err := s.ListConsents(ctx, alice.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListConsents = %+v, %v; want 2", list, err)
	}
	checkConsent(t, "ListConsents[0]", list[0], other)
	checkConsent(t, "ListConsents[1]", list[1], second)
	if got, err := s.ConsentOf(ctx, bob.ID, "app-a"); err != nil || len(got.Scopes) != 0 {
		t.Errorf("ConsentOf(bob, no scopes) = %+v, %v", got, err)
	}

	// A consent needs its user and its app.
	for _, c := range []gatehouse.Consent{
		{UserID: "user-nobody", AppID: "app-a", GrantedAt: T0},
		{UserID: alice.ID, AppID: "app-none", GrantedAt: T0},
	} {
		if err := s.PutConsent(ctx, c, Event(gatehouse.EventConsentGranted, c.UserID)); err == nil {
			t.Errorf("PutConsent(%q, %q) = nil, want an error", c.UserID, c.AppID)
		}
	}
}

func testDeleteConsent(t *testing.T, s gatehouse.Store) {
	ctx := t.Context()
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	CreateApp(t, s, App("app-a"))
	CreateApp(t, s, App("app-b"))
	a1 := OIDCLogin("login-1", alice.ID, "app-a", T0)
	a2 := OIDCLogin("login-2", alice.ID, "app-a", T0.Add(time.Minute))
	rt := RefreshToken("a2", a2.ID, T0)
	CreateLogin(t, s, a1)
	CreateTokenLogin(t, s, a2, rt)
	aliceB := OIDCLogin("login-3", alice.ID, "app-b", T0)
	bobA := OIDCLogin("login-4", bob.ID, "app-a", T0)
	sess := Session("login-5", alice.ID, T0)
	for _, l := range []gatehouse.Login{aliceB, bobA, sess} {
		CreateLogin(t, s, l)
	}
	PutConsent(t, s, gatehouse.Consent{UserID: alice.ID, AppID: "app-a", Scopes: []string{"openid"}, GrantedAt: T0})
	PutConsent(t, s, gatehouse.Consent{UserID: alice.ID, AppID: "app-b", Scopes: []string{"openid"}, GrantedAt: T0})
	PutConsent(t, s, gatehouse.Consent{UserID: bob.ID, AppID: "app-a", Scopes: []string{"openid"}, GrantedAt: T0})
	seq := lastSeq(t, s)

	at := T0.Add(time.Hour)
	ev := gatehouse.AuditEvent{At: at, Type: gatehouse.EventConsentRevoked, UserID: alice.ID, IP: "192.0.2.1", Detail: "client=app-a"}
	revoked, err := s.DeleteConsent(ctx, alice.ID, "app-a", ev)
	if err != nil {
		t.Fatalf("DeleteConsent = %v, want nil", err)
	}
	checkIDs(t, "DeleteConsent", revoked, []string{a1.ID, a2.ID})
	checkGone(t, s, a1)
	checkGone(t, s, a2)
	checkTokenGone(t, s, "RefreshToken of a login whose consent went", rt.Hash)
	for _, l := range []gatehouse.Login{aliceB, bobA, sess} {
		checkKept(t, s, l)
	}
	checkFeed(t, "DeleteConsent", s, seq, at, a1, a2)
	checkNewestEvent(t, s, ev)
	_, err = s.ConsentOf(ctx, alice.ID, "app-a")
	CheckCode(t, "ConsentOf(revoked)", err, gatehouse.CodeNotFound)
	for _, k := range [][2]string{{alice.ID, "app-b"}, {bob.ID, "app-a"}} {
		if _, err := s.ConsentOf(ctx, k[0], k[1]); err != nil {
			t.Errorf("ConsentOf(%s, %s) = %v, want nil", k[0], k[1], err)
		}
	}

	// No consent: CodeNotFound, and nothing changes, not even the logins
	// the user may have of that app.
	seq = lastSeq(t, s)
	events := auditTypes(t, s, "")
	CreateLogin(t, s, OIDCLogin("login-6", alice.ID, "app-a", T0))
	for _, k := range [][2]string{{alice.ID, "app-a"}, {alice.ID, "app-none"}, {"user-nobody", "app-a"}} {
		revoked, err := s.DeleteConsent(ctx, k[0], k[1], ev)
		CheckCode(t, fmt.Sprintf("DeleteConsent(%s, %s)", k[0], k[1]), err, gatehouse.CodeNotFound)
		if revoked != nil {
			t.Errorf("DeleteConsent(%s, %s) = %q, want none", k[0], k[1], revoked)
		}
	}
	checkKept(t, s, OIDCLogin("login-6", alice.ID, "app-a", T0))
	checkFeed(t, "DeleteConsent(none)", s, seq, at)
	if got := auditTypes(t, s, ""); len(got) != len(events)+1 { // + login-6's
		t.Errorf("audit events after refused DeleteConsent = %d, want %d", len(got), len(events)+1)
	}
}

// testDeleteUserConsents deletes a user under the store: their consents
// and oidc logins go with them, and the app stays.
func testDeleteUserConsents(t *testing.T, db DB) {
	s := db.Open(t)
	alice, bob := User("user-alice"), User("user-bob")
	CreateUser(t, s, alice)
	CreateUser(t, s, bob)
	CreateApp(t, s, App("app-a"))
	l := OIDCLogin("login-1", alice.ID, "app-a", T0)
	CreateLogin(t, s, l)
	PutConsent(t, s, gatehouse.Consent{UserID: alice.ID, AppID: "app-a", Scopes: []string{"openid"}, GrantedAt: T0})
	PutConsent(t, s, gatehouse.Consent{UserID: bob.ID, AppID: "app-a", Scopes: []string{"openid"}, GrantedAt: T0})

	db.Exec(t, `DELETE FROM users WHERE id = $1`, alice.ID)
	_, err := s.ConsentOf(t.Context(), alice.ID, "app-a")
	CheckCode(t, "ConsentOf(deleted user)", err, gatehouse.CodeNotFound)
	checkGone(t, s, l)
	if n := db.Int(t, `SELECT count(*) FROM consents`); n != 1 {
		t.Errorf("consents = %d, want bob's alone", n)
	}
	if _, err := s.AppByID(t.Context(), "app-a"); err != nil {
		t.Errorf("AppByID after deleting a user = %v, want nil", err)
	}
}

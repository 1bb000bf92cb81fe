package gatehouse_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/storetest"
)

// appEnv is a Service over a SQLite file, with the store at hand to give
// users the logins of apps that the OpenID Connect face would make.
type appEnv struct {
	svc   *gatehouse.Service
	st    *sqlite.Store
	clock *clock
}

var adminClient = gatehouse.Client{IP: "192.0.2.20", UserAgent: "test", Actor: "admin-1"}

func newAppEnv(t *testing.T) *appEnv {
	t.Helper()
	e := &appEnv{clock: &clock{t: time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)}}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.svc, err = gatehouse.NewService(st, gatehouse.Config{
		Now:    e.clock.Now,
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		Tokens: &gatehouse.TokenConfig{Issuer: "https://auth.example.test", Secret: []byte("a test secret of at least thirty-two bytes")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *appEnv) addApp(t *testing.T, spec gatehouse.AppSpec) (gatehouse.App, string) {
	t.Helper()
	a, secret, err := e.svc.AddApp(t.Context(), spec, adminClient)
	if err != nil {
		t.Fatalf("AddApp(%+v) = %v, want nil", spec, err)
	}
	return a, secret
}

func (e *appEnv) user(t *testing.T, email string) gatehouse.Principal {
	t.Helper()
	u, err := e.svc.CreateUser(t.Context(), email, testPassword, []string{gatehouse.RoleCustomer}, gatehouse.Client{})
	if err != nil {
		t.Fatal(err)
	}
	return gatehouse.Principal{User: u}
}

// oidcLogin gives the user a login of the app, with a refresh token, as
// the OpenID Connect face would.
func (e *appEnv) oidcLogin(t *testing.T, id, userID, appID string) gatehouse.Login {
	t.Helper()
	l := storetest.OIDCLogin(id, userID, appID, e.clock.Now())
	storetest.CreateTokenLogin(t, e.st, l, storetest.RefreshToken(id, id, e.clock.Now()))
	return l
}

// auditDetails returns the details of the events of that type, newest
// first.
func (e *appEnv) auditDetails(t *testing.T, typ string) []string {
	t.Helper()
	events, _, err := e.svc.Audit(t.Context(), gatehouse.AuditQuery{Type: typ, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range events {
		out = append(out, ev.Detail)
	}
	return out
}

// checkRevoked checks that the logins are gone and that the feed's entries
// after seq are theirs, in order; it returns the last Seq.
func (e *appEnv) checkRevoked(t *testing.T, seq int64, logins ...gatehouse.Login) int64 {
	t.Helper()
	feed, err := e.svc.Revocations(t.Context(), seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, ev := range feed {
		got = append(got, ev.UserID+"/"+ev.LoginID)
		seq = ev.Seq
	}
	for _, l := range logins {
		want = append(want, l.UserID+"/"+l.ID)
		if _, err := e.st.LoginByID(t.Context(), l.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("LoginByID(%s) after its revocation = %v, want not_found", l.ID, err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("revocation feed = %q, want %q", got, want)
	}
	return seq
}

func (e *appEnv) checkLive(t *testing.T, logins ...gatehouse.Login) {
	t.Helper()
	for _, l := range logins {
		if _, err := e.st.LoginByID(t.Context(), l.ID); err != nil {
			t.Errorf("LoginByID(%s) = %v, want it kept", l.ID, err)
		}
	}
}

var webApp = gatehouse.AppSpec{Name: "Grafana", RedirectURIs: []string{"https://grafana.example.com/login/generic_oauth"}}

func TestAddAppValidation(t *testing.T) {
	e := newAppEnv(t)
	long := strings.Repeat("é", 101)
	tests := []struct {
		name string
		spec gatehouse.AppSpec
	}{
		{"no name", gatehouse.AppSpec{RedirectURIs: webApp.RedirectURIs}},
		{"blank name", gatehouse.AppSpec{Name: "  \t ", RedirectURIs: webApp.RedirectURIs}},
		{"name of 101 characters", gatehouse.AppSpec{Name: long, RedirectURIs: webApp.RedirectURIs}},
		{"name with a control character", gatehouse.AppSpec{Name: "Graf\x1b[31mana", RedirectURIs: webApp.RedirectURIs}},
		{"no redirect URI", gatehouse.AppSpec{Name: "App"}},
		{"empty redirect URI", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{""}}},
		{"relative", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"/callback"}}},
		{"no scheme", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"app.example.com/callback"}}},
		{"fragment", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb#top"}}},
		{"empty fragment", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb#"}}},
		{"user info", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://user:pw@app.example.com/cb"}}},
		{"user name only", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://evil@app.example.com/cb"}}},
		{"https without host", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https:///cb"}}},
		{"http on a public host", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"http://app.example.com/cb"}}},
		{"http on a name that starts with localhost", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"http://localhost.example.com/cb"}}},
		{"http on another loopback address", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"http://127.0.0.2/cb"}}},
		{"space", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/a b"}}},
		{"custom scheme for a confidential app", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"com.example.app:/cb"}}},
		{"custom scheme not a reverse domain", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"myapp:/cb"}, Public: true}},
		{"javascript", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"javascript:alert(1)"}, Public: true}},
		{"bad among good", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb", "http://app.example.com/cb"}}},
		{"bad post-logout URI", gatehouse.AppSpec{Name: "App", RedirectURIs: webApp.RedirectURIs, PostLogoutURIs: []string{"http://app.example.com/"}}},
		{"post-logout URI with a fragment", gatehouse.AppSpec{Name: "App", RedirectURIs: webApp.RedirectURIs, PostLogoutURIs: []string{"https://app.example.com/#x"}}},
		{"too many redirect URIs", gatehouse.AppSpec{Name: "App", RedirectURIs: func() []string {
			var uris []string
			for i := range 21 {
				uris = append(uris, "https://app.example.com/cb"+strings.Repeat("x", i))
			}
			return uris
		}()}},
		{"URI too long", gatehouse.AppSpec{Name: "App", RedirectURIs: []string{"https://app.example.com/" + strings.Repeat("x", 2000)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, secret, err := e.svc.AddApp(t.Context(), tt.spec, adminClient)
			if code := gatehouse.ErrorCode(err); code != gatehouse.CodeInvalidRequest {
				t.Errorf("AddApp = %+v, %q, %v; want invalid_request", a, secret, err)
			}
		})
	}
	if apps, err := e.svc.Apps(t.Context()); err != nil || len(apps) != 0 {
		t.Errorf("Apps after refused additions = %+v, %v; want none", apps, err)
	}
	if got := e.auditDetails(t, gatehouse.EventClientCreated); len(got) != 0 {
		t.Errorf("client.created events after refused additions = %q, want none", got)
	}

	good := []struct {
		name string
		spec gatehouse.AppSpec
		want gatehouse.App // its name and URIs
	}{
		{"https", webApp, gatehouse.App{Name: "Grafana", RedirectURIs: webApp.RedirectURIs}},
		{"loopback http, trimmed name, duplicates dropped", gatehouse.AppSpec{
			Name:           "  CLI tool ",
			RedirectURIs:   []string{"http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost:3000/cb", "http://127.0.0.1:8080/cb"},
			PostLogoutURIs: []string{"http://localhost:3000/", "http://localhost:3000/"},
		}, gatehouse.App{Name: "CLI tool", RedirectURIs: []string{"http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost:3000/cb"}, PostLogoutURIs: []string{"http://localhost:3000/"}}},
		{"native app", gatehouse.AppSpec{Name: "Phone", RedirectURIs: []string{"com.example.app:/oauth2redirect", "https://app.example.com/cb?x=1"}, Public: true},
			gatehouse.App{Name: "Phone", RedirectURIs: []string{"com.example.app:/oauth2redirect", "https://app.example.com/cb?x=1"}, Public: true}},
		{"name of 100 characters", gatehouse.AppSpec{Name: long[2:], RedirectURIs: webApp.RedirectURIs}, gatehouse.App{Name: long[2:], RedirectURIs: webApp.RedirectURIs}},
	}
	for _, tt := range good {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := e.addApp(t, tt.spec)
			if a.Name != tt.want.Name || !slices.Equal(a.RedirectURIs, tt.want.RedirectURIs) || !slices.Equal(a.PostLogoutURIs, tt.want.PostLogoutURIs) || a.Public != tt.want.Public {
				t.Errorf("AddApp = %+v, want %+v", a, tt.want)
			}
			got, err := e.svc.App(t.Context(), a.ID)
			if err != nil || got.Name != a.Name || !slices.Equal(got.RedirectURIs, a.RedirectURIs) || !slices.Equal(got.PostLogoutURIs, a.PostLogoutURIs) {
				t.Errorf("App = %+v, %v; want %+v", got, err, a)
			}
		})
	}
}

func TestAppSecret(t *testing.T) {
	e := newAppEnv(t)
	a, secret := e.addApp(t, webApp)
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret %q: %d bytes, %v; want 32 bytes of base64url", secret, len(raw), err)
	}
	sum := sha256.Sum256([]byte(secret))
	if string(a.SecretHash) != string(sum[:]) {
		t.Errorf("SecretHash = %x, want the SHA-256 of the secret", a.SecretHash)
	}
	if id, err := base64.RawURLEncoding.DecodeString(a.ID); err != nil || len(id) < 16 {
		t.Errorf("client id %q: %v; want at least 16 random bytes, URL-safe", a.ID, err)
	}
	if !a.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("CreatedAt = %v, want %v", a.CreatedAt, e.clock.Now())
	}

	// The secret is nowhere to be read again: not in the app, not in the
	// audit log.
	apps, err := e.svc.Apps(t.Context())
	if err != nil || len(apps) != 1 || apps[0].ID != a.ID || string(apps[0].SecretHash) != string(sum[:]) {
		t.Fatalf("Apps = %+v, %v; want the one app", apps, err)
	}
	details := e.auditDetails(t, gatehouse.EventClientCreated)
	if want := []string{"client=" + a.ID + " by=admin-1"}; !slices.Equal(details, want) {
		t.Errorf("client.created details = %q, want %q", details, want)
	}
	for _, d := range details {
		if strings.Contains(d, secret) {
			t.Error("the audit log holds the secret")
		}
	}

	other, otherSecret := e.addApp(t, webApp)
	if other.ID == a.ID || otherSecret == secret {
		t.Error("two apps have the same id or secret")
	}
	pub, pubSecret := e.addApp(t, gatehouse.AppSpec{Name: "SPA", RedirectURIs: []string{"https://spa.example.com/cb"}, Public: true, Trusted: true})
	if pubSecret != "" || pub.SecretHash != nil || !pub.Public || !pub.Trusted {
		t.Errorf("public AddApp = %+v, secret %q; want no secret", pub, pubSecret)
	}
	if got, err := e.svc.App(t.Context(), pub.ID); err != nil || got.SecretHash != nil || !got.Public || !got.Trusted {
		t.Errorf("App(public) = %+v, %v", got, err)
	}
	_, err = e.svc.App(t.Context(), "no-such-app")
	if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("App(unknown) = %v, want not_found", err)
	}
}

func TestAuthenticateApp(t *testing.T) {
	e := newAppEnv(t)
	a, secret := e.addApp(t, webApp)
	b, bSecret := e.addApp(t, webApp)
	pub, _ := e.addApp(t, gatehouse.AppSpec{Name: "SPA", RedirectURIs: []string{"https://spa.example.com/cb"}, Public: true})
	tests := []struct {
		name, id, secret string
		want             string // the app's id, or "" for invalid_client
	}{
		{"right secret", a.ID, secret, a.ID},
		{"the other app's", b.ID, bSecret, b.ID},
		{"wrong secret", a.ID, bSecret, ""},
		{"secret one character short", a.ID, secret[:len(secret)-1], ""},
		{"no secret", a.ID, "", ""},
		{"unknown id", "no-such-app", secret, ""},
		{"empty id", "", "", ""},
		{"public, no secret", pub.ID, "", pub.ID},
		{"public with a secret", pub.ID, secret, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.svc.AuthenticateApp(t.Context(), tt.id, tt.secret)
			if tt.want == "" {
				if gatehouse.ErrorCode(err) != gatehouse.CodeInvalidClient || got.ID != "" {
					t.Errorf("AuthenticateApp = %+v, %v; want invalid_client", got, err)
				}
				return
			}
			if err != nil || got.ID != tt.want {
				t.Errorf("AuthenticateApp = %+v, %v; want app %s", got, err, tt.want)
			}
		})
	}
}

func TestConsent(t *testing.T) {
	e := newAppEnv(t)
	ctx := t.Context()
	a, _ := e.addApp(t, webApp)
	b, _ := e.addApp(t, gatehouse.AppSpec{Name: "Gitea", RedirectURIs: []string{"https://git.example.com/cb"}})
	ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")

	consented := func(p gatehouse.Principal, appID string, scopes ...string) bool {
		t.Helper()
		ok, err := e.svc.Consented(ctx, p.User.ID, appID, scopes)
		if err != nil {
			t.Fatalf("Consented = %v, want nil", err)
		}
		return ok
	}
	if consented(ada, a.ID, "openid") {
		t.Error("Consented without a consent = true")
	}
	if err := e.svc.GrantConsent(ctx, ada, a.ID, []string{"openid", "email", "openid"}, client); err != nil {
		t.Fatalf("GrantConsent = %v, want nil", err)
	}
	for _, tt := range []struct {
		name   string
		p      gatehouse.Principal
		app    string
		scopes []string
		want   bool
	}{
		{"same scopes", ada, a.ID, []string{"email", "openid"}, true},
		{"a subset", ada, a.ID, []string{"openid"}, true},
		{"none", ada, a.ID, nil, true},
		{"a superset", ada, a.ID, []string{"openid", "email", "profile"}, false},
		{"another scope", ada, a.ID, []string{"offline_access"}, false},
		{"another app", ada, b.ID, []string{"openid"}, false},
		{"another user", bob, a.ID, []string{"openid"}, false},
		{"an app that does not exist", ada, "no-such-app", []string{"openid"}, false},
	} {
		if got := consented(tt.p, tt.app, tt.scopes...); got != tt.want {
			t.Errorf("Consented(%s) = %t, want %t", tt.name, got, tt.want)
		}
	}

	// A new consent replaces the old one.
	e.clock.Advance(time.Minute)
	if err := e.svc.GrantConsent(ctx, ada, a.ID, []string{"openid"}, client); err != nil {
		t.Fatal(err)
	}
	if consented(ada, a.ID, "email") {
		t.Error("Consented(email) after a consent to openid alone = true")
	}
	e.clock.Advance(time.Minute)
	if err := e.svc.GrantConsent(ctx, ada, b.ID, []string{"profile", "openid"}, client); err != nil {
		t.Fatal(err)
	}
	access, err := e.svc.AppsWithAccess(ctx, ada.User.ID)
	if err != nil || len(access) != 2 {
		t.Fatalf("AppsWithAccess = %+v, %v; want 2", access, err)
	}
	if access[0].App.ID != b.ID || !slices.Equal(access[0].Scopes, []string{"openid", "profile"}) || !access[0].GrantedAt.Equal(e.clock.Now()) ||
		access[1].App.ID != a.ID || access[1].App.Name != "Grafana" || !slices.Equal(access[1].Scopes, []string{"openid"}) {
		t.Errorf("AppsWithAccess = %+v, want Gitea (openid profile), then Grafana (openid)", access)
	}
	if access, err := e.svc.AppsWithAccess(ctx, bob.User.ID); err != nil || len(access) != 0 {
		t.Errorf("AppsWithAccess(bob) = %+v, %v; want none", access, err)
	}
	if got := e.auditDetails(t, gatehouse.EventConsentGranted); len(got) != 3 || got[2] != "client="+a.ID+" scope=email,openid" {
		t.Errorf("consent.granted details = %q", got)
	}

	err = e.svc.GrantConsent(ctx, ada, "no-such-app", []string{"openid"}, client)
	if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("GrantConsent(unknown app) = %v, want not_found", err)
	}
	for _, bad := range [][]string{{""}, {"open id"}, {"openid", "a\"b"}, {"é"}} {
		err := e.svc.GrantConsent(ctx, bob, a.ID, bad, client)
		if gatehouse.ErrorCode(err) != gatehouse.CodeInvalidRequest {
			t.Errorf("GrantConsent(%q) = %v, want invalid_request", bad, err)
		}
	}
	if consented(bob, a.ID) {
		t.Error("a refused GrantConsent left a consent")
	}
}

func TestRevokeConsent(t *testing.T) {
	e := newAppEnv(t)
	ctx := t.Context()
	a, _ := e.addApp(t, webApp)
	b, _ := e.addApp(t, gatehouse.AppSpec{Name: "Gitea", RedirectURIs: []string{"https://git.example.com/cb"}})
	ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")
	res, err := e.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: gatehouse.ModeSession})
	if err != nil {
		t.Fatal(err)
	}
	adaA1 := e.oidcLogin(t, "login-a1", ada.User.ID, a.ID)
	adaA2 := e.oidcLogin(t, "login-a2", ada.User.ID, a.ID)
	adaB := e.oidcLogin(t, "login-b", ada.User.ID, b.ID)
	bobA := e.oidcLogin(t, "login-bob", bob.User.ID, a.ID)
	for _, p := range []gatehouse.Principal{ada, bob} {
		for _, app := range []string{a.ID, b.ID} {
			if err := e.svc.GrantConsent(ctx, p, app, []string{"openid"}, client); err != nil {
				t.Fatal(err)
			}
		}
	}
	seq := e.checkRevoked(t, 0)
	changed := e.svc.FeedChanged()

	if err := e.svc.RevokeConsent(ctx, ada, a.ID, client); err != nil {
		t.Fatalf("RevokeConsent = %v, want nil", err)
	}
	select {
	case <-changed:
	default:
		t.Error("FeedChanged was not closed by RevokeConsent")
	}
	seq = e.checkRevoked(t, seq, adaA1, adaA2)
	e.checkLive(t, adaB, bobA)
	if _, err := e.svc.AuthenticateSession(ctx, res.Secret); err != nil {
		t.Errorf("Ada's own session after RevokeConsent = %v, want it kept", err)
	}
	if ok, _ := e.svc.Consented(ctx, ada.User.ID, a.ID, []string{"openid"}); ok {
		t.Error("Consented after RevokeConsent = true")
	}
	for _, k := range []struct {
		p   gatehouse.Principal
		app string
	}{{ada, b.ID}, {bob, a.ID}} {
		if ok, _ := e.svc.Consented(ctx, k.p.User.ID, k.app, []string{"openid"}); !ok {
			t.Errorf("Consented(%s, %s) after another's RevokeConsent = false", k.p.User.Email, k.app)
		}
	}
	if got := e.auditDetails(t, gatehouse.EventConsentRevoked); !slices.Equal(got, []string{"client=" + a.ID}) {
		t.Errorf("consent.revoked details = %q", got)
	}

	// Once more: nothing to revoke.
	err = e.svc.RevokeConsent(ctx, ada, a.ID, client)
	if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("RevokeConsent again = %v, want not_found", err)
	}
	err = e.svc.RevokeConsent(ctx, ada, "no-such-app", client)
	if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("RevokeConsent(unknown app) = %v, want not_found", err)
	}
	e.checkRevoked(t, seq)
	if got := e.auditDetails(t, gatehouse.EventConsentRevoked); len(got) != 1 {
		t.Errorf("consent.revoked events after refusals = %q, want one", got)
	}
}

func TestRemoveApp(t *testing.T) {
	e := newAppEnv(t)
	ctx := t.Context()
	a, secret := e.addApp(t, webApp)
	b, _ := e.addApp(t, gatehouse.AppSpec{Name: "Gitea", RedirectURIs: []string{"https://git.example.com/cb"}})
	ada, bob := e.user(t, "ada@example.com"), e.user(t, "bob@example.com")
	adaA := e.oidcLogin(t, "login-1", ada.User.ID, a.ID)
	bobA := e.oidcLogin(t, "login-2", bob.User.ID, a.ID)
	adaB := e.oidcLogin(t, "login-3", ada.User.ID, b.ID)
	for _, p := range []gatehouse.Principal{ada, bob} {
		if err := e.svc.GrantConsent(ctx, p, a.ID, []string{"openid"}, client); err != nil {
			t.Fatal(err)
		}
	}
	seq := e.checkRevoked(t, 0)
	changed := e.svc.FeedChanged()

	if err := e.svc.RemoveApp(ctx, a.ID, adminClient); err != nil {
		t.Fatalf("RemoveApp = %v, want nil", err)
	}
	select {
	case <-changed:
	default:
		t.Error("FeedChanged was not closed by RemoveApp")
	}
	want := []gatehouse.Login{adaA, bobA}
	slices.SortFunc(want, func(x, y gatehouse.Login) int { return strings.Compare(x.ID, y.ID) })
	seq = e.checkRevoked(t, seq, want...)
	e.checkLive(t, adaB)
	if _, err := e.svc.App(ctx, a.ID); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Errorf("App after RemoveApp = %v, want not_found", err)
	}
	if _, err := e.svc.AuthenticateApp(ctx, a.ID, secret); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidClient {
		t.Errorf("AuthenticateApp after RemoveApp = %v, want invalid_client", err)
	}
	if apps, err := e.svc.Apps(ctx); err != nil || len(apps) != 1 || apps[0].ID != b.ID {
		t.Errorf("Apps after RemoveApp = %+v, %v; want Gitea alone", apps, err)
	}
	if access, err := e.svc.AppsWithAccess(ctx, ada.User.ID); err != nil || len(access) != 0 {
		t.Errorf("AppsWithAccess after RemoveApp = %+v, %v; want none", access, err)
	}
	if got := e.auditDetails(t, gatehouse.EventClientRemoved); !slices.Equal(got, []string{"client=" + a.ID + " by=admin-1"}) {
		t.Errorf("client.removed details = %q", got)
	}

	for _, id := range []string{a.ID, "no-such-app", ""} {
		if err := e.svc.RemoveApp(ctx, id, adminClient); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
			t.Errorf("RemoveApp(%q) = %v, want not_found", id, err)
		}
	}
	e.checkRevoked(t, seq)
	if got := e.auditDetails(t, gatehouse.EventClientRemoved); len(got) != 1 {
		t.Errorf("client.removed events after refusals = %q, want one", got)
	}
}

func ExampleService_AddApp() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gatehouse-example")
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	svc, err := gatehouse.NewService(st, gatehouse.Config{})
	if err != nil {
		panic(err)
	}
	op := gatehouse.Client{IP: "cli"}

	// A confidential app gets a secret, shown this once.
	app, secret, err := svc.AddApp(ctx, gatehouse.AppSpec{Name: "Grafana", RedirectURIs: []string{"https://grafana.example.com/login/generic_oauth"}}, op)
	fmt.Println(len(secret), err)
	_, err = svc.AuthenticateApp(ctx, app.ID, secret)
	fmt.Println(err)

	// Redirect URIs must be https, or http on a loopback host.
	_, _, err = svc.AddApp(ctx, gatehouse.AppSpec{Name: "Old", RedirectURIs: []string{"http://old.example.com/cb"}}, op)
	fmt.Println(gatehouse.ErrorCode(err))
	// Output:
	// 43 <nil>
	// <nil>
	// invalid_request
}

package guard_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/token"
)

func TestSignedInUserReachesHandler(t *testing.T) {
	s := newServer(t, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s))
	tests := []struct {
		name string
		cred credential
		mode guard.Mode
	}{
		{name: "cookie", cred: cookie(s.login(t, "ada@example.com", gatehouse.ModeSession)), mode: guard.ModeSession},
		{name: "bearer", cred: bearer(s.login(t, "ada@example.com", gatehouse.ModeToken)), mode: guard.ModeToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/me", "/cart"} {
				res := call(t, h, "GET", path, tt.cred)
				if res.status != http.StatusOK {
					t.Fatalf("GET %s: %d %s, want 200", path, res.status, res.code)
				}
				u := res.user
				if u.ID != id || u.Email != "ada@example.com" || u.Mode != tt.mode || u.SessionID == "" ||
					!slices.Equal(u.Roles, []string{"customer"}) || !slices.Contains(u.Permissions, "cart:write") {
					t.Errorf("GET %s: user %+v, want ada, customer, mode %s", path, u, tt.mode)
				}
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s))
	session := s.login(t, "ada@example.com", gatehouse.ModeSession)
	tok := s.login(t, "ada@example.com", gatehouse.ModeToken)
	tests := []struct {
		name    string
		method  string
		path    string
		cred    credential
		headers []string
		status  int
		code    string
	}{
		{name: "no credential", path: "/me", status: 401, code: "unauthenticated"},
		{name: "unknown cookie", path: "/me", cred: cookie("not-a-session"), status: 401, code: "unauthenticated"},
		{name: "cookie of another name", path: "/me", headers: []string{"Cookie", "__Secure-gatehouse=" + session}, status: 401, code: "unauthenticated"},
		{name: "basic auth", path: "/me", headers: []string{"Authorization", "Basic YTpi"}, status: 401, code: "invalid_token"},
		{name: "empty bearer", path: "/me", headers: []string{"Authorization", "Bearer "}, status: 401, code: "invalid_token"},
		{name: "cookie without permission", path: "/admin", cred: cookie(session), status: 403, code: "forbidden"},
		{name: "bearer without permission", path: "/admin", cred: bearer(tok), status: 403, code: "forbidden"},
		{name: "bad bearer beside good cookie", path: "/me", cred: credential{cookie: session, bearer: "x.y.z"}, status: 401, code: "invalid_token"},
		{name: "cookie from another site", method: "POST", path: "/cart", cred: cookie(session), headers: []string{"Sec-Fetch-Site", "cross-site"}, status: 403, code: "cross_origin"},
		{name: "cookie from another origin", method: "DELETE", path: "/cart", cred: cookie(session), headers: []string{"Origin", "https://evil.example"}, status: 403, code: "cross_origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := cmp.Or(tt.method, "GET")
			wantRefused(t, call(t, h, method, tt.path, tt.cred, tt.headers...), tt.status, tt.code)
		})
	}

	// A bearer token is no cross-site request forgery risk: the browser
	// does not attach it.
	if res := call(t, h, "POST", "/cart", bearer(tok), "Sec-Fetch-Site", "cross-site"); res.status != http.StatusOK {
		t.Errorf("cross-site POST with a bearer token: %d %s, want 200", res.status, res.code)
	}
}

func TestBearerRefusals(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	tok := s.login(t, "ada@example.com", gatehouse.ModeToken)
	header, payload, sig := splitToken(t, tok)
	admin := strings.Replace(decode(t, payload), `"customer"`, `"admin"`, 1)
	now := time.Now()
	stranger, err := token.GenerateKey(token.EdDSA, now)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := token.Sign(stranger, token.Claims{
		Issuer: s.URL, Subject: "u", Audience: "gatehouse", ID: "j", SessionID: "s",
		Roles: []string{"admin"}, Scope: "*", IssuedAt: now, ExpiresAt: now.Add(time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tok  string
		opts []guard.Option
	}{
		{name: "signature changed", tok: header + "." + payload + "." + flip(sig)},
		{name: "claims changed", tok: header + "." + encode(admin) + "." + sig},
		{name: "alg none", tok: encode(`{"alg":"none","typ":"at+jwt","kid":"x"}`) + "." + payload + "."},
		{name: "two segments", tok: header + "." + payload},
		{name: "signed by another key", tok: foreign},
		{name: "too large", tok: tok + strings.Repeat("A", token.MaxTokenBytes)},
		{name: "other issuer", tok: tok, opts: []guard.Option{guard.WithIssuer("https://auth.elsewhere.example")}},
		{name: "other audience", tok: tok, opts: []guard.Option{guard.WithAudience("billing")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := app(newGuard(t, s, tt.opts...))
			wantRefused(t, call(t, h, "GET", "/me", bearer(tt.tok)), 401, "invalid_token")
		})
	}
}

// TestCachedTokenTampered: once a token is in the verified-token cache,
// a token that shares its signature, or all of it but the signature, is
// still checked in full and refused; the genuine token keeps working.
func TestCachedTokenTampered(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s))
	tok := s.login(t, "ada@example.com", gatehouse.ModeToken)
	if res := call(t, h, "GET", "/me", bearer(tok)); res.status != http.StatusOK {
		t.Fatalf("genuine token: %d %s, want 200", res.status, res.code)
	}
	header, payload, sig := splitToken(t, tok)
	admin := strings.Replace(decode(t, payload), `"customer"`, `"admin"`, 1)
	tests := []struct {
		name string
		tok  string
	}{
		{name: "claims changed", tok: header + "." + encode(admin) + "." + sig},
		{name: "header changed", tok: encode(`{"alg":"none"}`) + "." + payload + "." + sig},
		{name: "signature alone", tok: sig},
		{name: "signature after a dot", tok: "." + sig},
		{name: "dot before", tok: "." + tok},
		{name: "signature dropped", tok: header + "." + payload + "."},
		{name: "signature changed", tok: header + "." + payload + "." + flip(sig)},
		{name: "signature extended", tok: tok + "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, call(t, h, "GET", "/me", bearer(tt.tok)), 401, "invalid_token")
		})
	}
	if res := call(t, h, "GET", "/me", bearer(tok)); res.status != http.StatusOK {
		t.Errorf("genuine token after the others: %d %s, want 200", res.status, res.code)
	}
}

// TestCachedBearerAllocations: a token seen before is let through with one
// allocation, the request copy whose context carries the user. This
// guards the steady state that BenchmarkMiddlewareBearer measures.
func TestCachedBearerAllocations(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	var reached bool
	h := newGuard(t, s, withService()).Require("cart:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, reached = guard.UserFrom(r.Context())
	}))
	r := httptest.NewRequest("GET", "/cart", nil)
	r.Header.Set("Authorization", "Bearer "+s.login(t, "ada@example.com", gatehouse.ModeToken))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r) // into the cache
	if !reached {
		t.Fatalf("the handler was not reached: %d %s", w.Code, w.Body)
	}
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, r) }); n > 1 {
		t.Errorf("%v allocations per request, want 1", n)
	}
}

// TestKeyRotation: a token signed with a key Gatehouse rotated to while
// the Guard runs is accepted at once, the key set fetched again for its
// unknown kid; the tokens of the old key keep working.
func TestKeyRotation(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s))
	old := s.login(t, "ada@example.com", gatehouse.ModeToken)
	if _, err := s.svc.RotateKeys(context.Background(), gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	rotated := s.login(t, "ada@example.com", gatehouse.ModeToken)
	if kid(t, old) == kid(t, rotated) {
		t.Fatal("the token after the rotation has the old kid")
	}
	for name, tok := range map[string]string{"new key": rotated, "old key": old} {
		if res := call(t, h, "GET", "/me", bearer(tok)); res.status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", name, res.status, res.code)
		}
	}
	if n := s.requests("/.well-known/jwks.json"); n != 2 {
		t.Errorf("key set fetched %d times, want 2 (New, then the new kid)", n)
	}
}

// TestUnknownKidRateLimit: a flood of tokens with made-up kids costs
// Gatehouse at most one key set fetch per 10 seconds.
func TestUnknownKidRateLimit(t *testing.T) {
	s := newServer(t, nil)
	h := app(newGuard(t, s))
	now := time.Now()
	var wg sync.WaitGroup
	for i := range 200 {
		k, err := token.GenerateKey(token.EdDSA, now)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := token.Sign(k, token.Claims{
			Issuer: s.URL, Subject: "u", Audience: "gatehouse", ID: "j", SessionID: "s",
			IssuedAt: now, ExpiresAt: now.Add(time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if res := call(t, h, "GET", "/me", bearer(tok)); res.status != http.StatusUnauthorized {
				t.Errorf("token %d with an unknown kid: %d, want 401", i, res.status)
			}
		})
	}
	wg.Wait()
	if n := s.requests("/.well-known/jwks.json"); n > 2 {
		t.Errorf("key set fetched %d times for 200 unknown kids, want at most 2 (New and one refetch)", n)
	}
}

// TestGatehouseUnreachable: when Gatehouse is gone, a session cookie is
// refused with 503, never let through; a bearer token, checked locally,
// still works without a service account.
func TestGatehouseUnreachable(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s, guard.WithSessionCache(0)))
	session := cookie(s.login(t, "ada@example.com", gatehouse.ModeSession))
	tok := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	for _, c := range []credential{session, tok} {
		if res := call(t, h, "GET", "/cart", c); res.status != http.StatusOK {
			t.Fatalf("before: %d %s, want 200", res.status, res.code)
		}
	}
	s.http.CloseClientConnections()
	s.http.Close()
	for _, path := range []string{"/me", "/cart", "/admin"} {
		wantRefused(t, call(t, h, "GET", path, session), 503, "unavailable")
	}
	wantRefused(t, call(t, h, "GET", "/me", cookie("not-a-session")), 503, "unavailable")
	if res := call(t, h, "GET", "/cart", tok); res.status != http.StatusOK {
		t.Errorf("bearer while Gatehouse is away: %d %s, want 200", res.status, res.code)
	}
}

// TestSessionCache: Gatehouse is asked once per cookie per cache period,
// for refusals too; a revoked session is let in until the period is over,
// and refused from then on.
func TestSessionCache(t *testing.T) {
	const ttl = 5 * time.Second
	clk := newClock()
	s := newTimedServer(t, clk, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s, guard.WithSessionCache(ttl), guard.WithClock(clk.Now)))
	session := cookie(s.login(t, "ada@example.com", gatehouse.ModeSession))
	for range 3 {
		if res := call(t, h, "GET", "/me", session); res.status != http.StatusOK {
			t.Fatalf("%d %s, want 200", res.status, res.code)
		}
		wantRefused(t, call(t, h, "GET", "/me", cookie("not-a-session")), 401, "unauthenticated")
	}
	if n := s.requests("/v1/verify"); n != 2 {
		t.Errorf("Gatehouse asked %d times, want 2 (one per cookie)", n)
	}

	if _, err := s.svc.RevokeUserSessions(context.Background(), id, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(ttl - time.Millisecond)
	if res := call(t, h, "GET", "/me", session); res.status != http.StatusOK {
		t.Errorf("revoked session within the cache period: %d %s, want 200 from the cache", res.status, res.code)
	}
	clk.Advance(time.Millisecond)
	wantRefused(t, call(t, h, "GET", "/me", session), 401, "unauthenticated")
	if n := s.requests("/v1/verify"); n != 3 {
		t.Errorf("Gatehouse asked %d times, want 3 (once more when the period was over)", n)
	}
}

// TestRevokedTokenThroughFeed: with a service account, a revoked login's
// token is refused within about a second; without one it is accepted until
// it expires, as documented.
func TestRevokedTokenThroughFeed(t *testing.T) {
	s := newServer(t, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	followed := app(newGuard(t, s, withService()))
	blind := app(newGuard(t, s))
	tok := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	for _, h := range []http.Handler{followed, blind} {
		if res := call(t, h, "GET", "/me", tok); res.status != http.StatusOK {
			t.Fatalf("before: %d %s, want 200", res.status, res.code)
		}
	}
	if _, err := s.svc.RevokeUserSessions(context.Background(), id, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 1500*time.Millisecond, followed, "/me", tok, http.StatusUnauthorized)
	t.Logf("revoked token refused after %v", took)
	wantRefused(t, call(t, followed, "GET", "/me", tok), 401, "invalid_token")
	if res := call(t, blind, "GET", "/me", tok); res.status != http.StatusOK {
		t.Errorf("without a service account: %d %s, want 200 until the token expires", res.status, res.code)
	}
}

// TestRevokedBeforeStart: a Guard that starts after a revocation knows it,
// from the recent feed it reads in New.
func TestRevokedBeforeStart(t *testing.T) {
	s := newServer(t, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	tok := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	if _, err := s.svc.RevokeUserSessions(context.Background(), id, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	h := app(newGuard(t, s, withService()))
	wantRefused(t, call(t, h, "GET", "/me", tok), 401, "invalid_token")
}

// TestRolesChanged: after a change of roles, a token issued before is
// refused so that the client refreshes; a token issued after carries the
// new roles and is accepted.
func TestRolesChanged(t *testing.T) {
	clk := newClock()
	s := newTimedServer(t, clk, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s, withService(), guard.WithClock(clk.Now)))
	before := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	if res := call(t, h, "GET", "/cart", before); res.status != http.StatusOK {
		t.Fatalf("before: %d %s, want 200", res.status, res.code)
	}
	// iat has whole seconds: a change within the token's second is not
	// seen as after it.
	clk.Advance(1500 * time.Millisecond)
	if _, err := s.svc.SetRoles(context.Background(), id, []string{"admin"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 3*time.Second, h, "/cart", before, http.StatusUnauthorized)
	t.Logf("token with stale roles refused after %v", took)
	wantRefused(t, call(t, h, "GET", "/me", before), 401, "invalid_token")

	// A token issued right after the change, in the same second, works.
	clk.Advance(100 * time.Millisecond)
	after := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	res := call(t, h, "GET", "/admin", after)
	if res.status != http.StatusOK || !slices.Equal(res.user.Roles, []string{"admin"}) {
		t.Errorf("token issued after the change: %d %s, roles %v; want 200 as admin", res.status, res.code, res.user.Roles)
	}
}

// TestRolesChangedAndBack: guard and the server judge a token of a user
// whose roles changed alike, by when it was issued: one issued before the
// change is refused by both even once the roles are changed back, and one
// issued after, in the same second as the change back, is accepted by both.
func TestRolesChangedAndBack(t *testing.T) {
	clk := newClock()
	s := newTimedServer(t, clk, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s, withService(), guard.WithClock(clk.Now)))
	judges := func(tok string) map[string]int {
		t.Helper()
		status := map[string]int{"guard": call(t, h, "GET", "/me", bearer(tok)).status}
		status["GET /v1/verify"] = verifyBearer(t, s, tok)
		status["Service.AuthenticateToken"] = http.StatusOK
		if _, err := s.svc.AuthenticateToken(context.Background(), tok); err != nil {
			status["Service.AuthenticateToken"] = http.StatusUnauthorized
		}
		return status
	}
	before := s.login(t, "ada@example.com", gatehouse.ModeToken)
	for judge, status := range judges(before) {
		if status != http.StatusOK {
			t.Fatalf("%s: token before any change: %d, want 200", judge, status)
		}
	}
	clk.Advance(1500 * time.Millisecond)
	if _, err := s.svc.SetRoles(context.Background(), id, []string{"admin"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := s.svc.SetRoles(context.Background(), id, []string{"customer"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, h, "/me", bearer(before), http.StatusUnauthorized) // guard hears of it from the feed
	for judge, status := range judges(before) {
		if status != http.StatusUnauthorized {
			t.Errorf("%s: token issued before the roles changed and changed back: %d, want 401", judge, status)
		}
	}
	clk.Advance(200 * time.Millisecond) // the second of the change back
	after := s.login(t, "ada@example.com", gatehouse.ModeToken)
	for judge, status := range judges(after) {
		if status != http.StatusOK {
			t.Errorf("%s: token issued after the change back: %d, want 200", judge, status)
		}
	}
}

// verifyBearer asks the server's GET /v1/verify about an access token.
func verifyBearer(t *testing.T, s *server, tok string) int {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL+"/v1/verify", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFeedDownFailsClosed: bearer requests get 503 once the feed has been
// down for longer than the maximum staleness, and work again when it is
// back, with what was revoked meanwhile.
func TestFeedDownFailsClosed(t *testing.T) {
	const maxStale = 300 * time.Millisecond
	s := newServer(t, nil)
	ada := s.addUser(t, "ada@example.com", "customer")
	s.addUser(t, "bob@example.com", "customer")
	h := app(newGuard(t, s, withService(), guard.WithFeedMaxStale(maxStale)))
	adaTok := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	bobTok := bearer(s.login(t, "bob@example.com", gatehouse.ModeToken))
	for _, tok := range []credential{adaTok, bobTok} {
		if res := call(t, h, "GET", "/me", tok); res.status != http.StatusOK {
			t.Fatalf("before: %d %s, want 200", res.status, res.code)
		}
	}

	s.down()
	eventually(t, maxStale+2*time.Second, h, "/me", bobTok, http.StatusServiceUnavailable)
	wantRefused(t, call(t, h, "GET", "/me", bobTok), 503, "unavailable")
	if _, err := s.svc.RevokeUserSessions(context.Background(), ada, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}

	s.up()
	eventually(t, 10*time.Second, h, "/me", bobTok, http.StatusOK)
	wantRefused(t, call(t, h, "GET", "/me", adaTok), 401, "invalid_token")
}

// TestServiceAccountRenewal: the Guard refreshes the service account's
// token before it expires and reconnects the stream with it, so the feed
// keeps working across access-token lifetimes.
func TestServiceAccountRenewal(t *testing.T) {
	const lifetime = 2 * time.Second
	clk := newClock()
	s := newTimedServer(t, clk, func(c *gatehouse.Config) { c.Tokens.AccessTTL = lifetime })
	id := s.addUser(t, "ada@example.com", "customer")
	h := app(newGuard(t, s, withService(), guard.WithFeedMaxStale(time.Second), guard.WithClock(clk.Now)))
	for i := range int64(2) { // two access-token lifetimes
		clk.Advance(lifetime)
		waitFor(t, 5*time.Second, "refreshed", func() bool { return s.requests("/v1/token/refresh") > i })
	}
	if n := s.requests("/v1/token/refresh"); n != 2 {
		t.Errorf("the service account's token was refreshed %d times in two lifetimes, want 2", n)
	}
	if n := s.requests("/v1/login"); n != 1 {
		t.Errorf("the service account signed in %d times, want 1", n)
	}
	tok := bearer(s.login(t, "ada@example.com", gatehouse.ModeToken))
	eventually(t, 5*time.Second, h, "/me", tok, http.StatusOK) // once the stream is open again
	if _, err := s.svc.RevokeUserSessions(context.Background(), id, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 1500*time.Millisecond, h, "/me", tok, http.StatusUnauthorized)
}

// TestCloseSignsOut: a closed Guard leaves no live login of the service
// account behind.
func TestCloseSignsOut(t *testing.T) {
	s := newServer(t, nil)
	g, err := guard.New(context.Background(), s.URL, withService())
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.svc.UserByEmail(context.Background(), serviceEmail)
	if err != nil {
		t.Fatal(err)
	}
	p := gatehouse.Principal{User: u}
	if logins, err := s.svc.Sessions(context.Background(), p); err != nil || len(logins) != 1 {
		t.Fatalf("while running: %d logins (%v), want 1", len(logins), err)
	}
	g.Close()
	if logins, err := s.svc.Sessions(context.Background(), p); err != nil || len(logins) != 0 {
		t.Errorf("after Close: %d logins (%v), want 0", len(logins), err)
	}
}

func TestNewFails(t *testing.T) {
	s := newServer(t, nil)
	s.addUser(t, "ada@example.com", "customer")
	gone := newServer(t, nil)
	gone.Close()
	tests := []struct {
		name string
		url  string
		opts []guard.Option
		want string
	}{
		{name: "not a URL", url: "auth.example.com", want: "not an http or https URL"},
		{name: "unreachable", url: gone.URL, want: "key set"},
		{name: "not Gatehouse", url: s.URL + "/nothing-here", want: "key set"},
		{name: "wrong password", url: s.URL, opts: []guard.Option{guard.WithServiceAccount(serviceEmail, "wrong password")}, want: "invalid_credentials"},
		{name: "not a service", url: s.URL, opts: []guard.Option{guard.WithServiceAccount("ada@example.com", testPassword)}, want: "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := guard.New(context.Background(), tt.url, tt.opts...)
			if err == nil {
				g.Close()
				t.Fatal("New succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestCheck: Check tells a guest from a user without answering, and says
// how Authenticate would have refused.
func TestCheck(t *testing.T) {
	s := newServer(t, nil)
	id := s.addUser(t, "ada@example.com", "customer")
	g := newGuard(t, s)
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-gatehouse", Value: s.login(t, "ada@example.com", gatehouse.ModeSession)})
	if u, err := g.Check(r); err != nil || u.ID != id {
		t.Errorf("Check(signed in) = %+v, %v; want ada", u, err)
	}
	u, err := g.Check(httptest.NewRequest("GET", "/", nil))
	var e *guard.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "unauthenticated" || u.ID != "" {
		t.Errorf("Check(guest) = %+v, %v; want a 401 unauthenticated *guard.Error", u, err)
	}
}

func TestCan(t *testing.T) {
	tests := []struct {
		perms []string
		want  map[string]bool
	}{
		{perms: nil, want: map[string]bool{"cart:read": false, "*": false}},
		{perms: []string{"cart:read"}, want: map[string]bool{"cart:read": true, "cart:write": false, "orders:read": false}},
		{perms: []string{"cart:*"}, want: map[string]bool{"cart:read": true, "cart:write": true, "carts:read": false, "car:read": false}},
		{perms: []string{"*"}, want: map[string]bool{"cart:read": true, "users:admin": true}},
	}
	for _, tt := range tests {
		u := guard.User{Permissions: tt.perms}
		for perm, want := range tt.want {
			if got := u.Can(perm); got != want {
				t.Errorf("User with %v: Can(%q) = %v, want %v", tt.perms, perm, got, want)
			}
		}
	}
}

func TestUserFromEmptyContext(t *testing.T) {
	if u, ok := guard.UserFrom(context.Background()); ok {
		t.Errorf("UserFrom(empty context) = %+v, true; want false", u)
	}
}

func splitToken(t *testing.T, tok string) (header, payload, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", tok, len(parts))
	}
	return parts[0], parts[1], parts[2]
}

func decode(t *testing.T, seg string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func encode(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// flip changes one character in the middle of a base64url segment.
func flip(seg string) string {
	i := len(seg) / 2
	c := byte('A')
	if seg[i] == 'A' {
		c = 'B'
	}
	return seg[:i] + string(c) + seg[i+1:]
}

// kid returns the kid of a token's header.
func kid(t *testing.T, tok string) string {
	t.Helper()
	header, _, _ := splitToken(t, tok)
	h := decode(t, header)
	_, rest, _ := strings.Cut(h, `"kid":"`)
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

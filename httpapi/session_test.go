package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

func TestSessionLifecycle(t *testing.T) {
	e := newEnv(t, options{})
	e.register("Ada@Example.com")
	c := e.client()

	r := e.do(c, "POST", "/v1/login", map[string]any{"email": "ada@example.COM", "password": pw, "mode": "session"})
	if r.status != http.StatusOK {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	ck := sessionCookie(t, r, "__Host-gatehouse")
	if !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.MaxAge != 0 {
		t.Errorf("cookie = %+v, want Secure HttpOnly Path=/ SameSite=Lax, no Domain, no Max-Age", ck)
	}
	if len(ck.Value) < 43 {
		t.Errorf("secret %q is shorter than 256 bits", ck.Value)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("login Cache-Control = %q, want no-store", got)
	}
	body := r.json(t)
	sess := body["session"].(map[string]any)
	if sess["id"] == "" || sess["id"] == ck.Value || sess["expires_at"] == nil || sess["idle_expires_at"] == nil {
		t.Errorf("session = %v", sess)
	}
	if strings.Contains(string(r.body), ck.Value) {
		t.Error("the login body repeats the cookie secret")
	}

	me := e.do(c, "GET", "/v1/me", nil)
	if me.status != http.StatusOK {
		t.Fatalf("me: %d %s", me.status, me.body)
	}
	m := me.json(t)
	user := m["user"].(map[string]any)
	auth := m["auth"].(map[string]any)
	if user["email"] != "ada@example.com" || auth["mode"] != "session" || auth["session_id"] != sess["id"] {
		t.Errorf("me = %s", me.body)
	}
	if _, ok := user["password_hash"]; ok {
		t.Error("me leaks the password hash")
	}
	if perms := m["permissions"].([]any); len(perms) == 0 || !contains(perms, "cart:write") {
		t.Errorf("permissions = %v, want the customer role's", perms)
	}
	if got := me.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("me Cache-Control = %q, want no-store", got)
	}

	// An Authorization header of another scheme is the app's, not ours.
	if r := e.do(c, "GET", "/v1/me", nil, "Authorization", "Basic YTpi"); r.status != 200 {
		t.Errorf("cookie with a Basic Authorization header: %d", r.status)
	}

	out := e.do(c, "POST", "/v1/logout", nil)
	if out.status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", out.status, out.body)
	}
	if cleared := sessionCookie(t, out, "__Host-gatehouse"); cleared.MaxAge >= 0 {
		t.Errorf("logout cookie MaxAge = %d, want Max-Age=0", cleared.MaxAge)
	}
	wantProblem(t, e.do(c, "GET", "/v1/me", nil), 401, "unauthenticated")

	// The revoked secret never works again, even presented by hand.
	replay := e.do(e.srv.Client(), "GET", "/v1/me", nil, "Cookie", "__Host-gatehouse="+ck.Value)
	wantProblem(t, replay, 401, "unauthenticated")
}

func contains(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRememberMeSetsMaxAge(t *testing.T) {
	e := newEnv(t, options{svc: gatehouse.Config{RememberMax: 48 * time.Hour}})
	e.register("ada@example.com")
	r := e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session", "remember": true})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if ck := sessionCookie(t, r, "__Host-gatehouse"); ck.MaxAge != 48*3600 {
		t.Errorf("Max-Age = %d, want %d", ck.MaxAge, 48*3600)
	}
}

func TestCookieVariants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    options
		cookie string
		secure bool
		domain string
	}{
		{name: "dev", cookie: "gatehouse", secure: false},
		{name: "domain", cookie: "__Secure-gatehouse", secure: true, domain: "example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := options{}
			opt.http.Dev = tc.name == "dev"
			opt.http.CookieDomain = tc.domain
			e := newEnv(t, opt)
			e.register("ada@example.com")
			r := e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"})
			ck := sessionCookie(t, r, tc.cookie)
			if ck.Secure != tc.secure || ck.Domain != tc.domain || !ck.HttpOnly {
				t.Errorf("cookie = %+v, want Secure=%v Domain=%q HttpOnly", ck, tc.secure, tc.domain)
			}
			me := e.do(e.srv.Client(), "GET", "/v1/me", nil, "Cookie", tc.cookie+"="+ck.Value)
			if me.status != 200 {
				t.Errorf("me with %s: %d", tc.cookie, me.status)
			}
		})
	}
}

func TestNewSecretAtEveryLogin(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	first := e.do(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"})
	second := e.do(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"})
	a, b := sessionCookie(t, first, "__Host-gatehouse"), sessionCookie(t, second, "__Host-gatehouse")
	if a.Value == b.Value {
		t.Fatal("a second login reused the secret the client sent")
	}
	// An attacker-chosen cookie (session fixation) is never adopted.
	planted := strings.Repeat("A", 43)
	r := e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}, "Cookie", "__Host-gatehouse="+planted)
	if got := sessionCookie(t, r, "__Host-gatehouse").Value; got == planted {
		t.Fatal("login adopted a planted secret")
	}
	wantProblem(t, e.do(e.srv.Client(), "GET", "/v1/me", nil, "Cookie", "__Host-gatehouse="+planted), 401, "unauthenticated")
	wantProblem(t, e.do(e.srv.Client(), "GET", "/v1/me", nil, "Cookie", "__Host-gatehouse=short"), 401, "unauthenticated")
}

func TestIdleAndAbsoluteDeadlines(t *testing.T) {
	e := newEnv(t, options{svc: gatehouse.Config{SessionIdle: 30 * time.Minute, SessionMax: 2 * time.Hour}})
	e.register("ada@example.com")

	t.Run("idle", func(t *testing.T) {
		c := e.client()
		e.login(c, "ada@example.com")
		e.clock.Advance(29 * time.Minute)
		if r := e.do(c, "GET", "/v1/me", nil); r.status != 200 {
			t.Fatalf("within the idle timeout: %d", r.status)
		}
		e.clock.Advance(29 * time.Minute) // activity above extended the deadline
		if r := e.do(c, "GET", "/v1/me", nil); r.status != 200 {
			t.Fatalf("activity did not extend the idle deadline: %d", r.status)
		}
		e.clock.Advance(31 * time.Minute)
		wantProblem(t, e.do(c, "GET", "/v1/me", nil), 401, "unauthenticated")
	})
	t.Run("absolute", func(t *testing.T) {
		c := e.client()
		e.login(c, "ada@example.com")
		for range 4 { // 4 × 29m: active all along, but past 2h
			e.clock.Advance(29 * time.Minute)
			if r := e.do(c, "GET", "/v1/me", nil); r.status != 200 {
				t.Fatalf("active session refused before the absolute deadline: %d", r.status)
			}
		}
		e.clock.Advance(5 * time.Minute)
		wantProblem(t, e.do(c, "GET", "/v1/me", nil), 401, "unauthenticated")
	})
}

// The check writes last_seen_at at most once a minute, not per request.
func TestCheckWritesRarely(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	login := e.login(c, "ada@example.com")
	id := login["session"].(map[string]any)["id"].(string)
	seen := func() time.Time {
		l, err := e.store.LoginByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return l.LastSeenAt
	}
	start := seen()
	for range 5 {
		e.clock.Advance(5 * time.Second)
		e.do(c, "GET", "/v1/me", nil)
	}
	if got := seen(); !got.Equal(start) {
		t.Fatalf("last_seen_at moved to %v within a minute; the hot path wrote to the store", got)
	}
	e.clock.Advance(time.Minute)
	e.do(c, "GET", "/v1/me", nil)
	if got := seen(); !got.Equal(e.clock.Now()) {
		t.Fatalf("last_seen_at = %v after a minute, want %v", got, e.clock.Now())
	}
}

func TestSessionsListAndRevoke(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	e.register("bob@example.com")
	laptop, phone, bob := e.client(), e.client(), e.client()
	e.login(laptop, "ada@example.com", "User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0; rv:128.0) Gecko/20100101 Firefox/128.0")
	e.clock.Advance(time.Second)
	r := e.do(phone, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session", "device": "Ada's phone"})
	phoneID := r.json(t)["session"].(map[string]any)["id"].(string)
	bobID := e.login(bob, "bob@example.com")["session"].(map[string]any)["id"].(string)

	list := e.do(laptop, "GET", "/v1/sessions", nil)
	if list.status != 200 {
		t.Fatalf("list: %d %s", list.status, list.body)
	}
	sessions := list.json(t)["sessions"].([]any)
	if len(sessions) != 2 {
		t.Fatalf("got %d sessions, want 2: %s", len(sessions), list.body)
	}
	newest, oldest := sessions[0].(map[string]any), sessions[1].(map[string]any)
	if newest["id"] != phoneID || newest["device"] != "Ada's phone" || newest["current"] != false {
		t.Errorf("newest = %v, want the phone, not current", newest)
	}
	if oldest["device"] != "Firefox on macOS" || oldest["current"] != true || oldest["mode"] != "session" || oldest["ip"] != "127.0.0.1" {
		t.Errorf("oldest = %v, want the laptop (Firefox on macOS), current", oldest)
	}
	for _, k := range []string{"id", "mode", "device", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "current"} {
		if _, ok := newest[k]; !ok {
			t.Errorf("session lacks %q", k)
		}
	}

	// Another user's session is not found, and survives.
	wantProblem(t, e.do(laptop, "DELETE", "/v1/sessions/"+bobID, nil), 404, "not_found")
	wantProblem(t, e.do(laptop, "DELETE", "/v1/sessions/no-such-id", nil), 404, "not_found")
	if r := e.do(bob, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatalf("bob was signed out by ada: %d", r.status)
	}

	if r := e.do(laptop, "DELETE", "/v1/sessions/"+phoneID, nil); r.status != 204 {
		t.Fatalf("revoke phone: %d %s", r.status, r.body)
	}
	wantProblem(t, e.do(phone, "GET", "/v1/me", nil), 401, "unauthenticated")

	// keep_current keeps the caller and ends the rest.
	other := e.client()
	e.login(other, "ada@example.com")
	if r := e.do(laptop, "DELETE", "/v1/sessions?keep_current=true", nil); r.status != 204 {
		t.Fatalf("revoke others: %d", r.status)
	}
	wantProblem(t, e.do(other, "GET", "/v1/me", nil), 401, "unauthenticated")
	if r := e.do(laptop, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatalf("keep_current revoked the caller: %d", r.status)
	}
	if r := e.do(laptop, "DELETE", "/v1/sessions", nil); r.status != 204 {
		t.Fatalf("revoke all: %d", r.status)
	}
	wantProblem(t, e.do(laptop, "GET", "/v1/me", nil), 401, "unauthenticated")
	if r := e.do(bob, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatalf("revoking all of ada's sessions touched bob's: %d", r.status)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c, other := e.client(), e.client()
	e.login(c, "ada@example.com")
	e.login(other, "ada@example.com")

	wantProblem(t, e.do(c, "PUT", "/v1/me/password", map[string]string{"current_password": "wrong password", "new_password": "a brand new passphrase"}), 401, "invalid_credentials")
	wantProblem(t, e.do(c, "PUT", "/v1/me/password", map[string]string{"current_password": pw, "new_password": "short"}), 400, "weak_password")
	wantProblem(t, e.do(c, "PUT", "/v1/me/password", map[string]string{"current_password": pw}), 400, "invalid_request")
	if r := e.do(other, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatal("a refused password change revoked a session")
	}

	if r := e.do(c, "PUT", "/v1/me/password", map[string]string{"current_password": pw, "new_password": "a brand new passphrase"}); r.status != 204 {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	if r := e.do(c, "GET", "/v1/me", nil); r.status != 200 {
		t.Fatalf("the current session was revoked: %d", r.status)
	}
	wantProblem(t, e.do(other, "GET", "/v1/me", nil), 401, "unauthenticated")
	wantProblem(t, e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}), 401, "invalid_credentials")
	if r := e.do(e.client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": "a brand new passphrase", "mode": "session"}); r.status != 200 {
		t.Fatalf("login with the new password: %d", r.status)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	login := map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}

	wantProblem(t, e.do(c, "POST", "/v1/login", login, "Sec-Fetch-Site", "cross-site"), 403, "cross_origin")
	wantProblem(t, e.do(c, "POST", "/v1/login", login, "Sec-Fetch-Site", "same-site"), 403, "cross_origin")
	wantProblem(t, e.do(c, "POST", "/v1/login", login, "Origin", "https://evil.example"), 403, "cross_origin")

	if r := e.do(c, "POST", "/v1/login", login, "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL); r.status != 200 {
		t.Fatalf("same-origin login: %d %s", r.status, r.body)
	}
	// A cross-site state change with a valid cookie is refused and the
	// session survives it.
	wantProblem(t, e.do(c, "POST", "/v1/logout", nil, "Sec-Fetch-Site", "cross-site"), 403, "cross_origin")
	wantProblem(t, e.do(c, "DELETE", "/v1/sessions", nil, "Origin", "https://evil.example"), 403, "cross_origin")
	if r := e.do(c, "GET", "/v1/me", nil, "Sec-Fetch-Site", "cross-site"); r.status != 200 {
		t.Fatalf("the session did not survive a refused cross-site request (or a safe GET was refused): %d", r.status)
	}
}

func TestDisablingRevokesAtOnce(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	e.login(c, "ada@example.com")
	u, err := e.svc.UserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetDisabled(context.Background(), u.ID, true, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, e.do(c, "GET", "/v1/me", nil), 401, "unauthenticated")
	wantProblem(t, e.do(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "session"}), 403, "account_disabled")
	if _, err := e.svc.SetDisabled(context.Background(), u.ID, false, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	e.login(c, "ada@example.com")
}

func TestExpiredSessionsAreRemoved(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	id := e.login(e.client(), "ada@example.com")["session"].(map[string]any)["id"].(string)
	e.clock.Advance(gatehouse.DefaultSessionMax + time.Second)
	if n, err := e.svc.CleanupExpired(context.Background()); err != nil || n != 1 {
		t.Fatalf("cleanup removed %d logins (%v), want 1", n, err)
	}
	if _, err := e.store.LoginByID(context.Background(), id); gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		t.Fatalf("expired login still stored: %v", err)
	}
}

package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

// tokenLogin signs in for tokens and returns the response body.
func (e *env) tokenLogin(email string) map[string]any {
	e.t.Helper()
	r := e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": email, "password": pw, "mode": "token"})
	if r.status != 200 {
		e.t.Fatalf("token login: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *env) bearer(method, path, access string) response {
	e.t.Helper()
	return e.do(e.srv.Client(), method, path, nil, "Authorization", "Bearer "+access)
}

func (e *env) refresh(rt string) response {
	e.t.Helper()
	return e.do(e.srv.Client(), "POST", "/v1/token/refresh", map[string]string{"refresh_token": rt})
}

// wantInvalidToken checks a refused bearer request.
func wantInvalidToken(t *testing.T, r response) {
	t.Helper()
	wantProblem(t, r, 401, "invalid_token")
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

// serverKey opens the server's active signing key with the test secret,
// so tests can forge tokens that differ in exactly one respect.
func (e *env) serverKey() token.Key {
	e.t.Helper()
	keys, err := e.store.ListKeys(context.Background())
	if err != nil || len(keys) == 0 {
		e.t.Fatalf("no signing keys: %v", err)
	}
	sealer, _ := token.NewSealer(testTokens().Secret)
	der, err := sealer.Open(keys[0].Sealed, []byte(keys[0].ID))
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := token.ParseKey(keys[0].ID, keys[0].Alg, der, keys[0].CreatedAt)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTokenLogin(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	r := e.do(e.srv.Client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "token"})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Error("a token login set a cookie")
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Error("token response without Cache-Control: no-store")
	}
	body := r.json(t)
	access, _ := body["access_token"].(string)
	refresh, _ := body["refresh_token"].(string)
	sess, _ := body["session"].(map[string]any)
	if body["token_type"] != "Bearer" || body["expires_in"] != float64(600) || len(refresh) < 43 || sess["id"] == nil || sess["expires_at"] == nil {
		t.Fatalf("token response = %s", r.body)
	}
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a compact JWS", access)
	}
	header, claims := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	if header["alg"] != "EdDSA" || header["typ"] != "at+jwt" || header["kid"] != e.serverKey().ID {
		t.Errorf("header = %v", header)
	}
	user := body["user"].(map[string]any)
	if claims["iss"] != testIssuer || claims["aud"] != "gatehouse" || claims["sub"] != user["id"] || claims["sid"] != sess["id"] ||
		claims["jti"] == nil || claims["exp"].(float64)-claims["iat"].(float64) != 600 || claims["nbf"] == nil ||
		!strings.Contains(claims["scope"].(string), "cart:write") || claims["roles"].([]any)[0] != "customer" {
		t.Errorf("claims = %v", claims)
	}

	me := e.bearer("GET", "/v1/me", access)
	if me.status != 200 {
		t.Fatalf("me with bearer: %d %s", me.status, me.body)
	}
	m := me.json(t)
	if m["auth"].(map[string]any)["mode"] != "token" || m["user"].(map[string]any)["created_at"] == nil {
		t.Errorf("me = %s", me.body)
	}
	v := e.bearer("GET", "/v1/verify?permission=cart:write", access)
	if v.status != 200 || v.header.Get("X-Gatehouse-User") != user["id"] || v.header.Get("X-Gatehouse-Email") != "ada@example.com" || v.header.Get("X-Gatehouse-Roles") != "customer" {
		t.Errorf("verify = %d %v", v.status, v.header)
	}
	wantProblem(t, e.bearer("GET", "/v1/verify?permission=users:admin", access), 403, "forbidden")

	list := e.bearer("GET", "/v1/sessions", access).json(t)["sessions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["mode"] != "token" || list[0].(map[string]any)["current"] != true {
		t.Errorf("sessions = %v", list)
	}

	jwks := e.do(e.srv.Client(), "GET", "/.well-known/jwks.json", nil)
	if jwks.status != 200 || !strings.HasPrefix(jwks.header.Get("Cache-Control"), "public, max-age=") {
		t.Fatalf("jwks: %d %v", jwks.status, jwks.header)
	}
	keys := jwks.json(t)["keys"].([]any)
	k := keys[0].(map[string]any)
	if len(keys) != 1 || k["kid"] != header["kid"] || k["kty"] != "OKP" || k["alg"] != "EdDSA" || k["use"] != "sig" || k["d"] != nil {
		t.Errorf("jwks = %s", jwks.body)
	}
}

func TestBearerRefusals(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	good := e.tokenLogin("ada@example.com")
	access := good["access_token"].(string)
	key := e.serverKey()
	now := e.clock.Now()
	claims := func(edit func(*token.Claims)) token.Claims {
		c := token.Claims{
			Issuer: testIssuer, Audience: "gatehouse", Subject: good["user"].(map[string]any)["id"].(string),
			ID: "jti", SessionID: good["session"].(map[string]any)["id"].(string), Email: "ada@example.com",
			Roles: []string{"customer"}, Scope: "cart:read", IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(5 * time.Minute),
		}
		edit(&c)
		return c
	}
	forge := func(k token.Key, c token.Claims) string {
		tok, err := token.Sign(k, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// A forged token with unchanged claims is accepted: the refusals
	// below differ from it in one respect each.
	if r := e.bearer("GET", "/v1/me", forge(key, claims(func(*token.Claims) {}))); r.status != 200 {
		t.Fatalf("control token refused: %d %s", r.status, r.body)
	}
	other, _ := token.GenerateKey(token.EdDSA, now)
	sameKid := other
	sameKid.ID = key.ID
	parts := strings.Split(access, ".")
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	payload := decodeSegment(t, parts[1])
	payload["roles"] = []string{"admin"}
	payload["scope"] = "*"

	for _, tc := range []struct{ name, token string }{
		{"tampered payload", parts[0] + "." + enc(payload) + "." + parts[2]},
		{"wrong key, same kid", forge(sameKid, claims(func(*token.Claims) {}))},
		{"unknown kid", forge(other, claims(func(*token.Claims) {}))},
		{"alg none", enc(map[string]string{"alg": "none", "typ": "at+jwt", "kid": key.ID}) + "." + parts[1] + "."},
		{"HS256 with the public key", hs256(t, enc(map[string]string{"alg": "HS256", "typ": "at+jwt", "kid": key.ID})+"."+parts[1], key)},
		{"wrong issuer", forge(key, claims(func(c *token.Claims) { c.Issuer = "https://evil.example" }))},
		{"wrong audience", forge(key, claims(func(c *token.Claims) { c.Audience = "someone-else" }))},
		{"expired", forge(key, claims(func(c *token.Claims) { c.ExpiresAt = now.Add(-2 * time.Minute) }))},
		{"not yet valid", forge(key, claims(func(c *token.Claims) { c.NotBefore = now.Add(5 * time.Minute) }))},
		{"oversized", forge(key, claims(func(c *token.Claims) { c.Scope = strings.Repeat("x", 9000) }))},
		{"garbage", "not.a.token"},
		{"one segment", "abc"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantInvalidToken(t, e.bearer("GET", "/v1/me", tc.token)) })
	}
	t.Run("expired by the clock", func(t *testing.T) {
		e.clock.Advance(10*time.Minute + gatehouse.DefaultLeeway + time.Second)
		wantInvalidToken(t, e.bearer("GET", "/v1/me", access))
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	login := e.tokenLogin("ada@example.com")
	rt0 := login["refresh_token"].(string)

	r1 := e.refresh(rt0)
	if r1.status != 200 {
		t.Fatalf("refresh: %d %s", r1.status, r1.body)
	}
	b1 := r1.json(t)
	rt1, at1 := b1["refresh_token"].(string), b1["access_token"].(string)
	if rt1 == rt0 || b1["session"].(map[string]any)["id"] != login["session"].(map[string]any)["id"] {
		t.Fatalf("refresh did not rotate within the same login: %s", r1.body)
	}
	if r1.header.Get("Cache-Control") != "no-store" {
		t.Error("refresh response without no-store")
	}

	// Within the grace, the retired token gets the same successor.
	again := e.refresh(rt0)
	if again.status != 200 || again.json(t)["refresh_token"] != rt1 {
		t.Fatalf("retry within the grace: %d %s, want the same successor", again.status, again.body)
	}

	e.clock.Advance(gatehouse.DefaultRefreshGrace + time.Second)
	r2 := e.refresh(rt1)
	if r2.status != 200 {
		t.Fatalf("second refresh: %d %s", r2.status, r2.body)
	}
	rt2 := r2.json(t)["refresh_token"].(string)

	// Past the grace, the retired token is theft: the whole login goes.
	e.clock.Advance(gatehouse.DefaultRefreshGrace + time.Second)
	wantProblem(t, e.refresh(rt1), 401, "refresh_token_reused")
	wantProblem(t, e.refresh(rt2), 401, "invalid_token")
	wantInvalidToken(t, e.bearer("GET", "/v1/me", at1))
	wantProblem(t, e.refresh("garbage"), 401, "invalid_token")
	wantProblem(t, e.refresh(strings.Repeat("A", 43)), 401, "invalid_token")

	u, _ := e.svc.UserByEmail(context.Background(), "ada@example.com")
	events, _, _ := e.svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: u.ID, Limit: 10})
	if events[0].Type != gatehouse.EventRefreshTokenReused {
		t.Errorf("newest audit event = %s, want %s", events[0].Type, gatehouse.EventRefreshTokenReused)
	}
}

// A retired token whose successor was already used is reuse, even within
// the grace.
func TestGraceEndsWhenSuccessorIsUsed(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	rt0 := e.tokenLogin("ada@example.com")["refresh_token"].(string)
	rt1 := e.refresh(rt0).json(t)["refresh_token"].(string)
	if r := e.refresh(rt1); r.status != 200 {
		t.Fatalf("refresh successor: %d", r.status)
	}
	wantProblem(t, e.refresh(rt0), 401, "refresh_token_reused")
}

func TestConcurrentRefresh(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
	}{{"with grace", 10 * time.Second}, {"without grace", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testTokens()
			cfg.RefreshGrace = tc.grace
			e := newEnv(t, options{svc: gatehouse.Config{Tokens: cfg}})
			e.register("ada@example.com")
			rt := e.tokenLogin("ada@example.com")["refresh_token"].(string)
			const n = 20
			var wg sync.WaitGroup
			results := make([]response, n)
			for i := range n {
				wg.Add(1)
				go func() { defer wg.Done(); results[i] = e.refresh(rt) }()
			}
			wg.Wait()
			successors := map[string]bool{}
			var ok, reused int
			for _, r := range results {
				switch r.status {
				case 200:
					ok++
					successors[r.json(t)["refresh_token"].(string)] = true
				case 401:
					// The first loser revokes the login; later ones may
					// find its tokens already gone.
					if code := r.json(t)["code"]; code == "refresh_token_reused" {
						reused++
					} else if code != "invalid_token" {
						t.Fatalf("loser got %s", r.body)
					}
				default:
					t.Fatalf("unexpected %d %s", r.status, r.body)
				}
			}
			if tc.grace > 0 {
				if ok != n || len(successors) != 1 {
					t.Fatalf("%d of %d succeeded with %d distinct successors; want all with one", ok, n, len(successors))
				}
				for s := range successors {
					if r := e.refresh(s); r.status != 200 {
						t.Fatalf("the shared successor does not work: %d", r.status)
					}
				}
				return
			}
			if ok != 1 || reused == 0 {
				t.Fatalf("%d succeeded and %d were reuse; want exactly 1 and some", ok, reused)
			}
			for s := range successors {
				wantProblem(t, e.refresh(s), 401, "invalid_token") // the login was revoked
			}
		})
	}
}

func TestTokenRevocationIsImmediate(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	browser := e.client()
	e.login(browser, "ada@example.com")

	t.Run("revoked from another session", func(t *testing.T) {
		l := e.tokenLogin("ada@example.com")
		if r := e.do(browser, "DELETE", "/v1/sessions/"+l["session"].(map[string]any)["id"].(string), nil); r.status != 204 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		wantInvalidToken(t, e.bearer("GET", "/v1/me", l["access_token"].(string)))
		wantProblem(t, e.refresh(l["refresh_token"].(string)), 401, "invalid_token")
	})
	t.Run("logout by bearer", func(t *testing.T) {
		l := e.tokenLogin("ada@example.com")
		access := l["access_token"].(string)
		r := e.do(e.srv.Client(), "POST", "/v1/logout", map[string]string{"refresh_token": l["refresh_token"].(string)}, "Authorization", "Bearer "+access)
		if r.status != 204 || len(r.header.Values("Set-Cookie")) != 0 {
			t.Fatalf("logout: %d %v", r.status, r.header)
		}
		wantInvalidToken(t, e.bearer("GET", "/v1/verify", access))
		wantProblem(t, e.refresh(l["refresh_token"].(string)), 401, "invalid_token")
	})
	t.Run("password change", func(t *testing.T) {
		l := e.tokenLogin("ada@example.com")
		if r := e.do(browser, "PUT", "/v1/me/password", map[string]string{"current_password": pw, "new_password": "another long passphrase"}); r.status != 204 {
			t.Fatalf("change: %d", r.status)
		}
		wantInvalidToken(t, e.bearer("GET", "/v1/me", l["access_token"].(string)))
		e.do(browser, "PUT", "/v1/me/password", map[string]string{"current_password": "another long passphrase", "new_password": pw})
	})
	t.Run("disabled user", func(t *testing.T) {
		l := e.tokenLogin("ada@example.com")
		u, _ := e.svc.UserByEmail(context.Background(), "ada@example.com")
		e.svc.SetDisabled(context.Background(), u.ID, true, gatehouse.Client{})
		wantInvalidToken(t, e.bearer("GET", "/v1/me", l["access_token"].(string)))
		wantProblem(t, e.refresh(l["refresh_token"].(string)), 401, "invalid_token")
	})
}

func TestRoleChangeStalesTokens(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	l := e.tokenLogin("ada@example.com")
	u, _ := e.svc.UserByEmail(context.Background(), "ada@example.com")
	// iat has whole seconds: a change within the token's second is not
	// after it (gatehouse.RolesStale).
	e.clock.Advance(time.Second)
	if _, err := e.svc.SetRoles(context.Background(), u.ID, []string{"customer", "service"}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	wantInvalidToken(t, e.bearer("GET", "/v1/me", l["access_token"].(string)))
	r := e.refresh(l["refresh_token"].(string))
	if r.status != 200 {
		t.Fatalf("refresh after a role change: %d %s", r.status, r.body)
	}
	v := e.bearer("GET", "/v1/verify?permission=revocations:read", r.json(t)["access_token"].(string))
	if v.status != 200 || v.header.Get("X-Gatehouse-Roles") != "customer,service" {
		t.Fatalf("fresh token after the role change: %d roles %q", v.status, v.header.Get("X-Gatehouse-Roles"))
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	old := e.tokenLogin("ada@example.com")["access_token"].(string)
	oldKid := decodeSegment(t, strings.Split(old, ".")[0])["kid"]
	if _, err := e.svc.RotateKeys(context.Background(), gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	fresh := e.tokenLogin("ada@example.com")["access_token"].(string)
	newKid := decodeSegment(t, strings.Split(fresh, ".")[0])["kid"]
	if newKid == oldKid {
		t.Fatal("after rotation new tokens still use the old key")
	}
	kids := func() []any {
		var ids []any
		for _, k := range e.do(e.srv.Client(), "GET", "/.well-known/jwks.json", nil).json(t)["keys"].([]any) {
			ids = append(ids, k.(map[string]any)["kid"])
		}
		return ids
	}
	if got := kids(); len(got) != 2 {
		t.Fatalf("jwks kids = %v, want old and new", got)
	}
	if r := e.bearer("GET", "/v1/me", old); r.status != 200 {
		t.Fatalf("a token of the old key stopped verifying at rotation: %d", r.status)
	}
	// Once every token of the old key has expired, the key leaves the set.
	e.clock.Advance(10*time.Minute + gatehouse.DefaultLeeway + time.Second)
	if err := e.svc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := kids(); len(got) != 1 || got[0] != newKid {
		t.Fatalf("jwks kids = %v, want only %v", got, newKid)
	}
	keys, _ := e.store.ListKeys(context.Background())
	if len(keys) != 1 {
		t.Errorf("the retired key is still stored: %d keys", len(keys))
	}
}

func TestTokenModeOff(t *testing.T) {
	e := newEnv(t, options{})
	off := serveOn(t, e.store, options{})
	e.register("ada@example.com")
	r := off.do(off.srv.Client(), "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": pw, "mode": "token"})
	wantProblem(t, r, 400, "invalid_request")
	if r := off.do(off.srv.Client(), "GET", "/.well-known/jwks.json", nil); r.status != 200 || !strings.Contains(string(r.body), `"keys":[]`) {
		t.Errorf("jwks with token mode off: %d %s", r.status, r.body)
	}
}

// hs256 signs input with HMAC-SHA256 keyed by the public key's bytes: the
// classic algorithm-confusion attack.
func hs256(t *testing.T, input string, k token.Key) string {
	t.Helper()
	jwks, _ := token.JWKS([]token.Key{k})
	m := hmac.New(sha256.New, jwks)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

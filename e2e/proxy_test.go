package e2e_test

import (
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Forward authentication behind real reverse proxies, from Debian's
// packages, with the configs committed under deploy/.

func TestNginxForwardAuth(t *testing.T) {
	testForwardAuth(t, "nginx", nginxRunner(t))
}

func TestCaddyForwardAuth(t *testing.T) {
	testForwardAuth(t, "caddy", caddyRunner(t))
}

// proxyRunner starts a proxy on listen, with a config committed under
// deploy/, between Gatehouse and the app (both host:port).
type proxyRunner func(t *testing.T, gatehouse, upstream, listen string)

// nginxRunner runs deploy/nginx/gatehouse.conf.
func nginxRunner(t *testing.T) proxyRunner {
	nginx := needCommand(t, "nginx", "nginx")
	return func(t *testing.T, gatehouse, upstream, listen string) {
		dir := t.TempDir()
		conf := renderConfig(t, "deploy/nginx/gatehouse.conf", dir, map[string]string{
			"GATEHOUSE": gatehouse, "UPSTREAM": upstream, "LISTEN": listen, "TMP": dir,
		})
		startProxy(t, "nginx", nil, "http://"+listen+"/.well-known/jwks.json",
			nginx, "-p", dir, "-c", conf, "-e", "stderr", "-g", "daemon off;")
	}
}

// caddyRunner runs deploy/caddy/Caddyfile.
func caddyRunner(t *testing.T) proxyRunner {
	caddy := needCommand(t, "caddy", "caddy")
	return func(t *testing.T, gatehouse, upstream, listen string) {
		dir := t.TempDir()
		conf := renderConfig(t, "deploy/caddy/Caddyfile", dir, map[string]string{
			"GATEHOUSE": gatehouse, "UPSTREAM": upstream, "LISTEN": listen, "TMP": dir,
		})
		// Caddy keeps its autosaved config and data under these.
		env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
		startProxy(t, "caddy", env, "http://"+listen+"/.well-known/jwks.json",
			caddy, "run", "--config", conf, "--adapter", "caddyfile")
	}
}

// caller is who the app must be told is calling.
type caller struct{ id, email, roles string }

// forwardAuth drives one proxy in front of Gatehouse and the app.
type forwardAuth struct {
	t   *testing.T
	gh  *server // Gatehouse, directly
	px  *server // the proxy; call and want work on it as on Gatehouse
	app *protectedApp
}

// testForwardAuth starts Gatehouse and the app, lets run start the proxy
// between them, and checks through the proxy who reaches the app and what
// the app is told.
func testForwardAuth(t *testing.T, name string, run proxyRunner) {
	gh := start(t, "", "--trusted-proxies", "127.0.0.1")
	a := startProtectedApp(t)
	listen := freeAddr(t)
	run(t, strings.TrimPrefix(gh.url, "http://"), a.addr, listen)
	f := &forwardAuth{t: t, gh: gh, px: &server{t: t, url: "http://" + listen}, app: a}
	px := f.px
	a.take() // nothing should have reached the app while the proxy started
	// A browser's Origin without Sec-Fetch-Site (which Gatehouse would
	// believe first): the same-origin check then compares Origin with the
	// Host the proxy passes on.
	browser := []string{"Origin", px.url}
	forged := []string{"X-Gatehouse-User", "forged-id", "X-Gatehouse-Email", "root@example.com", "X-Gatehouse-Roles", "admin"}

	// No credential: refused, and the app never sees the request.
	f.refused("no credential", newClient(), "GET", "/", 401, nil)
	f.refused("no credential, POST", newClient(), "POST", "/orders", 401, map[string]string{"item": "tea"})
	f.refused("forged identity headers", newClient(), "GET", "/", 401, nil, forged...)
	f.refused("a bearer token that is not one", newClient(), "GET", "/", 401, nil, "Authorization", "Bearer not-a-token")
	if r := px.call(newClient(), "GET", "/_gatehouse/verify", nil); r.status == 200 || len(a.take()) != 0 {
		t.Errorf("%s: the check's own path from outside = %d, want a refusal", name, r.status)
	}

	// A browser signs up and in on the proxy's origin: the session cookie
	// opens the app, which is told who the user is.
	c := newClient()
	reg := px.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}, browser...)
	px.want(reg, 201, "")
	ada := caller{reg.body["id"].(string), "ada@example.com", "customer"}
	px.want(px.call(newClient(), "POST", "/v1/login", map[string]any{"email": ada.email, "password": password, "mode": "session"},
		"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"), 403, "cross_origin")
	login := px.call(c, "POST", "/v1/login", map[string]any{"email": ada.email, "password": password, "mode": "session"}, browser...)
	px.want(login, 200, "")
	cookie := sessionCookie(t, login.header)
	f.reached("session cookie", c, "GET", "/shop/cart", nil, ada)
	f.reached("session cookie, forged identity headers", c, "GET", "/", nil, ada, forged...)
	if got := f.reached("session cookie, POST with a body", c, "POST", "/orders", map[string]string{"item": "tea"}, ada, browser...); got.Method != "POST" || got.Body != `{"item":"tea"}` {
		t.Errorf("%s: the app got %s %q, want POST with the body intact", name, got.Method, got.Body)
	}
	f.refused("session cookie, missing permission", c, "GET", "/admin/users", 403, nil)
	f.refused("session cookie, missing permission, forged roles", c, "GET", "/admin/users", 403, nil, forged...)

	// A token client: the bearer token opens the app the same way.
	bob := px.tokenLogin("bob@example.com")
	bobAccess := bob["access_token"].(string)
	bobCaller := caller{bob["user"].(map[string]any)["id"].(string), "bob@example.com", "customer"}
	f.reached("bearer token", newClient(), "GET", "/", nil, bobCaller, "Authorization", "Bearer "+bobAccess)
	f.reached("bearer token, forged identity headers", newClient(), "GET", "/", nil, bobCaller, append([]string{"Authorization", "Bearer " + bobAccess}, forged...)...)
	f.refused("bearer token, missing permission", newClient(), "GET", "/admin/users", 403, nil, "Authorization", "Bearer "+bobAccess)

	// An admin, made on the command line, has the permission /admin/ asks for.
	out, errOut, code := cli(t, password+"\n", nil, "user", "add", "--email", "root@example.com", "--role", "admin", "--password-stdin", "--db", gh.db)
	if code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	root := px.call(newClient(), "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "token"})
	px.want(root, 200, "")
	rootAccess := root.body["access_token"].(string)
	rootCaller := caller{root.body["user"].(map[string]any)["id"].(string), "root@example.com", "admin"}
	f.reached("admin bearer token, permission", newClient(), "GET", "/admin/users", nil, rootCaller, "Authorization", "Bearer "+rootAccess)
	rc := newClient()
	px.want(px.call(rc, "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "session"}, browser...), 200, "")
	f.reached("admin session cookie, permission", rc, "GET", "/admin/users", nil, rootCaller)

	// /secure/ needs two factors: a password login gets RFC 9470's 401 (a
	// browser is sent to step up: see TestProxyBrowserSignIn), and a login
	// with a second factor gets through, its assurance told to the app.
	weak := f.refused("session cookie at aal1, aal2 location", c, "GET", "/secure/report", 401, nil)
	if weak.body["code"] != "insufficient_user_authentication" || !strings.Contains(weak.header.Get("WWW-Authenticate"), `acr_values="2"`) {
		t.Errorf("%s: aal1 at /secure/: %s, WWW-Authenticate %q", name, weak.raw, weak.header.Get("WWW-Authenticate"))
	}
	key := px.call(c, "POST", "/v1/mfa/totp", map[string]string{"password": password}, browser...)
	px.want(key, 200, "")
	secret := key.body["secret"].(string)
	px.want(px.call(c, "POST", "/v1/mfa/totp/confirm", map[string]string{"code": totpCode(t, secret, 0)}, browser...), 200, "")
	f.refused("session cookie at aal1 after enrolling, aal2 location", c, "GET", "/secure/report", 401, nil)
	strong := newClient()
	first := px.call(strong, "POST", "/v1/login", map[string]any{"email": ada.email, "password": password, "mode": "session"}, browser...)
	px.want(first, 401, "mfa_required")
	px.want(px.call(strong, "POST", "/v1/login/mfa", map[string]string{"mfa_token": first.body["mfa_token"].(string), "code": totpCode(t, secret, 1)}, browser...), 200, "")
	if got := f.reached("session cookie at aal2, aal2 location", strong, "GET", "/secure/report", nil, ada).Header["X-Gatehouse-Aal"]; len(got) != 1 || got[0] != "2" {
		t.Errorf("%s: the app behind /secure/ was told X-Gatehouse-AAL %q, want 2", name, got)
	}

	// Sign-out through the proxy: the cookie, even replayed, and the token
	// no longer open anything.
	px.want(px.call(c, "POST", "/v1/logout", nil, browser...), 204, "")
	f.refused("after logout", c, "GET", "/", 401, nil)
	f.refused("after logout, the old cookie replayed", newClient(), "GET", "/", 401, nil, "Cookie", "gatehouse="+cookie)
	px.want(px.call(newClient(), "POST", "/v1/logout", nil, "Authorization", "Bearer "+bobAccess), 204, "")
	r := f.refused("after bearer logout", newClient(), "GET", "/", 401, nil, "Authorization", "Bearer "+bobAccess)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Errorf("%s: WWW-Authenticate after bearer logout = %q, want the RFC 6750 challenge", name, got)
	}

	// Gatehouse down: the proxy fails closed, even for a credential that
	// was valid a moment ago.
	if err := gh.stop(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/admin/users"} {
		r := px.call(newClient(), "GET", path, nil, "Authorization", "Bearer "+rootAccess)
		if hits := a.take(); r.status < 500 || len(hits) != 0 {
			t.Errorf("%s: GET %s with Gatehouse stopped = %d, app reached %d times; want a 5xx refusal that never reaches the app",
				name, path, r.status, len(hits))
		}
		t.Logf("%s: GET %s with Gatehouse stopped: %d %s", name, path, r.status, r.header.Get("Content-Type"))
	}
	r = px.call(rc, "GET", "/", nil)
	if hits := a.take(); r.status < 500 || len(hits) != 0 {
		t.Errorf("%s: session cookie with Gatehouse stopped = %d, app reached %d times; want a 5xx refusal", name, r.status, len(hits))
	}
}

// refused checks that the proxy answers status and the app was not reached.
func (f *forwardAuth) refused(what string, c *http.Client, method, path string, status int, body any, headers ...string) reply {
	f.t.Helper()
	r := f.px.call(c, method, path, body, headers...)
	hits := f.app.take()
	if r.status != status || len(hits) != 0 {
		f.t.Errorf("%s: %s %s = %d (app reached %d times), want %d without reaching the app\n%s",
			what, method, path, r.status, len(hits), status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); r.status == status && !strings.HasPrefix(ct, "application/problem+json") {
		f.t.Errorf("%s: refusal with Content-Type %q, want problem details", what, ct)
	}
	return r
}

// reached checks that the proxy answers 200 from the app, which was
// reached once and told exactly who the caller is.
func (f *forwardAuth) reached(what string, c *http.Client, method, path string, body any, want caller, headers ...string) appHit {
	f.t.Helper()
	r := f.px.call(c, method, path, body, headers...)
	hits := f.app.take()
	if r.status != 200 || len(hits) != 1 {
		f.t.Errorf("%s: %s %s = %d, app reached %d times; want 200 and once\n%s", what, method, path, r.status, len(hits), r.raw)
		return appHit{}
	}
	got := hits[0]
	for name, v := range map[string]string{"X-Gatehouse-User": want.id, "X-Gatehouse-Email": want.email, "X-Gatehouse-Roles": want.roles} {
		if vals := got.Header[name]; len(vals) != 1 || vals[0] != v {
			f.t.Errorf("%s: the app got %s %q, want exactly %q", what, name, vals, v)
		}
	}
	if got.Path != path {
		f.t.Errorf("%s: the app got path %q, want %q", what, got.Path, path)
	}
	return got
}

// sessionCookie returns the value of the dev session cookie in a login's
// Set-Cookie.
func sessionCookie(t *testing.T, h http.Header) string {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "gatehouse" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("no gatehouse cookie in %q", h.Values("Set-Cookie"))
	return ""
}

// TestProxySpoofedHeaders sends a value of its own under every
// X-Gatehouse-* header Gatehouse's GET /v1/verify sets, in canonical and
// in lower case, through each proxy: the app must see Gatehouse's values
// only, and nothing of the client's. A header /v1/verify sets that a
// config does not pass on fails here too.
func TestProxySpoofedHeaders(t *testing.T) {
	t.Run("nginx", func(t *testing.T) { testSpoofedHeaders(t, nginxRunner(t), false) })
	// Caddy drops every X-Gatehouse-* the client sends, known or not.
	t.Run("caddy", func(t *testing.T) { testSpoofedHeaders(t, caddyRunner(t), true) })
}

func testSpoofedHeaders(t *testing.T, run proxyRunner, stripsAll bool) {
	gh := start(t, "", "--trusted-proxies", "127.0.0.1")
	a := startProtectedApp(t)
	listen := freeAddr(t)
	run(t, strings.TrimPrefix(gh.url, "http://"), a.addr, listen)
	px := &server{t: t, url: "http://" + listen}
	a.take()

	// A customer signed in by cookie, an admin by bearer token.
	c := newClient()
	browser := []string{"Origin", px.url}
	px.want(px.call(c, "POST", "/v1/users", map[string]string{"email": "ada@example.com", "password": password}, browser...), 201, "")
	login := px.call(c, "POST", "/v1/login", map[string]any{"email": "ada@example.com", "password": password, "mode": "session"}, browser...)
	px.want(login, 200, "")
	cookie := []string{"Cookie", "gatehouse=" + sessionCookie(t, login.header)}
	if out, errOut, code := cli(t, password+"\n", nil, "user", "add", "--email", "root@example.com", "--role", "admin", "--password-stdin", "--db", gh.db); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	root := px.call(newClient(), "POST", "/v1/login", map[string]any{"email": "root@example.com", "password": password, "mode": "token"})
	px.want(root, 200, "")
	bearer := []string{"Authorization", "Bearer " + root.body["access_token"].(string)}

	// What Gatehouse itself answers for each credential.
	verified := func(credential []string) map[string]string {
		t.Helper()
		r := gh.call(newClient(), "GET", "/v1/verify", nil, credential...)
		gh.want(r, 200, "")
		h := map[string]string{}
		for k, v := range r.header {
			if strings.HasPrefix(strings.ToLower(k), "x-gatehouse-") {
				h[k] = strings.Join(v, ",")
			}
		}
		for _, k := range []string{"X-Gatehouse-User", "X-Gatehouse-Email", "X-Gatehouse-Roles", "X-Gatehouse-Permissions", "X-Gatehouse-Session"} {
			if h[k] == "" {
				t.Fatalf("GET /v1/verify answered no %s: %q", k, r.header)
			}
		}
		return h
	}
	customer, admin := verified(cookie), verified(bearer)
	var spoofed []string
	for k := range admin {
		spoofed = append(spoofed, k)
	}
	if stripsAll {
		spoofed = append(spoofed, "X-Gatehouse-Future") // a name Gatehouse does not set
	}
	spoof := func(credential []string) []string {
		h := slices.Clone(credential)
		for _, k := range spoofed {
			h = append(h, k, "spoofed", strings.ToLower(k), "spoofed-lower")
		}
		return h
	}

	// Refused: no credential, or a credential without the permission. The
	// configs have no public location: an anonymous request never reaches
	// the app.
	for _, path := range []string{"/", "/admin/users"} {
		if r := spoofedCall(t, px, "GET", path, spoof(nil)); r.status != 401 || len(a.take()) != 0 {
			t.Errorf("GET %s with no credential, spoofed headers = %d, want 401 without reaching the app", path, r.status)
		}
	}
	if r := spoofedCall(t, px, "GET", "/admin/users", spoof(cookie)); r.status != 403 || len(a.take()) != 0 {
		t.Errorf("GET /admin/users as a customer, spoofed headers = %d, want 403 without reaching the app", r.status)
	}

	// Let through: the app sees Gatehouse's values and nothing else.
	for _, tc := range []struct {
		what, method, path string
		credential         []string
		want               map[string]string
	}{
		{"session cookie", "GET", "/shop", cookie, customer},
		{"session cookie, POST", "POST", "/orders", append(cookie, browser...), customer},
		{"bearer token", "GET", "/", bearer, admin},
		{"bearer token, permission", "GET", "/admin/users", bearer, admin},
	} {
		r := spoofedCall(t, px, tc.method, tc.path, spoof(tc.credential))
		hits := a.take()
		if r.status != 200 || len(hits) != 1 {
			t.Errorf("%s: %s %s = %d, app reached %d times; want 200 and once\n%s", tc.what, tc.method, tc.path, r.status, len(hits), r.raw)
			continue
		}
		got := hits[0].Header
		for k, vals := range got {
			if want, ok := tc.want[k]; !ok {
				t.Errorf("%s: the app got %s %q, which Gatehouse did not set", tc.what, k, vals)
			} else if len(vals) != 1 || vals[0] != want {
				t.Errorf("%s: the app got %s %q, want exactly %q", tc.what, k, vals, want)
			}
		}
		for k, want := range tc.want {
			if _, ok := got[k]; !ok && want != "" { // nginx does not send an empty header
				t.Errorf("%s: the app got no %s, want %q", tc.what, k, want)
			}
		}
	}
}

// spoofedCall sends a request through px with headers (name, value pairs)
// added as they are, so that one name may come twice and in lower case.
func spoofedCall(t *testing.T, px *server, method, path string, headers []string) reply {
	t.Helper()
	req, err := http.NewRequest(method, px.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header[headers[i]] = append(req.Header[headers[i]], headers[i+1])
	}
	res, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, raw: raw}
}

package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// fuzzRoutes are the provider's endpoints that read a query or a form.
var fuzzRoutes = []struct{ method, path string }{
	{"GET", "/oauth2/authorize"},
	{"POST", "/oauth2/authorize"},
	{"GET", "/oauth2/authorize/callback"},
	{"GET", "/oauth2/continue"},
	{"POST", "/oauth2/token"},
	{"POST", "/oauth2/userinfo"},
	{"POST", "/oauth2/revoke"},
	{"GET", "/oauth2/logout"},
}

// FuzzProvider sends hostile queries and forms to the provider's
// endpoints, with the client id and secret of a real app substituted for
// CLIENT and SECRET: whatever they hold, the answer is below 500 and a
// redirect never leaves for a URI the app did not register.
func FuzzProvider(f *testing.F) {
	e := newEnv(f)
	e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	h := e.srv.Config.Handler
	for _, seed := range []string{
		"client_id=CLIENT&redirect_uri=https://app.example.com/callback&response_type=code&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"client_id=CLIENT&redirect_uri=https://app.example.com/callback/&response_type=code&scope=openid",
		"client_id=CLIENT&redirect_uri=https://app.example.com/callback&response_type=token&scope=openid%20admin&prompt=none%20login",
		"grant_type=authorization_code&code=x&client_id=CLIENT&client_secret=SECRET&redirect_uri=https://app.example.com/callback",
		"grant_type=refresh_token&refresh_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&client_id=CLIENT&client_secret=SECRET&scope=openid",
		"token=x&token_type_hint=access_token&client_id=CLIENT&client_secret=SECRET",
		"id_token_hint=e30.e30.e30&post_logout_redirect_uri=https://evil.example.com/&client_id=CLIENT&state=s",
		"id=%zz&max_age=-1&ui_locales=%00",
	} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, route uint8, q string) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		q = strings.NewReplacer("CLIENT", app.ID, "SECRET", secret).Replace(q)
		var req *http.Request
		if r.method == "GET" {
			req = httptest.NewRequest("GET", "https://gatehouse.test"+r.path, nil)
			req.URL.RawQuery = q
		} else {
			req = httptest.NewRequest("POST", "https://gatehouse.test"+r.path, strings.NewReader(q))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", r.method, r.path, q, w.Code, w.Body)
		}
		if loc := w.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, e.issuer+"/") && !strings.HasPrefix(loc, "/") &&
			!strings.HasPrefix(loc, "https://app.example.com/callback?") && !strings.HasPrefix(loc, "https://app.example.com/goodbye") {
			t.Fatalf("%s %s?%s: redirect to %q", r.method, r.path, q, loc)
		}
	})
}

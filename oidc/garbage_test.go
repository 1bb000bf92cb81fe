package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// TestBadInputIsNeverAServerError sends malformed requests to every
// endpoint of the provider: each is refused with a 4xx, never a 5xx.
func TestBadInputIsNeverAServerError(t *testing.T) {
	e := newEnv(t)
	e.register("ada@example.com")
	app, secret := e.app(gatehouse.AppSpec{Trusted: true})
	b := e.browser()
	e.signIn(b, "ada@example.com", "/auth/account")
	long := strings.Repeat("x", 70<<10)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/oauth2/authorize", ""},
		{"GET", "/oauth2/authorize?%zz", ""},
		{"GET", "/oauth2/authorize?client_id=" + app.ID, ""},
		{"GET", "/oauth2/authorize?client_id=" + app.ID + "&redirect_uri=" + callback + "&response_type=code&scope=openid&max_age=-1", ""},
		{"GET", "/oauth2/authorize?client_id=" + app.ID + "&redirect_uri=" + callback + "&response_type=code&scope=openid&code_challenge=x&code_challenge_method=S512", ""},
		{"GET", "/oauth2/authorize?client_id=" + app.ID + "&redirect_uri=" + callback + "&response_type=code&scope=openid&request=eyJhbGciOiJub25lIn0.e30.", ""},
		{"GET", "/oauth2/authorize?client_id=" + app.ID + "&redirect_uri=" + callback + "&response_type=code&scope=openid&id_token_hint=garbage", ""},
		{"GET", "/oauth2/authorize?client_id=%00&redirect_uri=%00", ""},
		{"POST", "/oauth2/authorize", "%zz"},
		{"GET", "/oauth2/authorize/callback", ""},
		{"GET", "/oauth2/authorize/callback?id=nope", ""},
		{"GET", "/oauth2/continue", ""},
		{"GET", "/oauth2/continue?id=" + strings.Repeat("a", 43), ""},
		{"POST", "/oauth2/token", ""},
		{"POST", "/oauth2/token", "%zz"},
		{"POST", "/oauth2/token", "grant_type=authorization_code"},
		{"POST", "/oauth2/token", "grant_type=authorization_code&code=x&client_id=" + app.ID + "&client_secret=" + secret},
		{"POST", "/oauth2/token", "grant_type=refresh_token&client_id=" + app.ID + "&client_secret=" + secret},
		{"POST", "/oauth2/token", "grant_type=refresh_token&refresh_token=x&client_id=nope"},
		{"POST", "/oauth2/token", "grant_type=authorization_code&code=" + long},
		{"POST", "/oauth2/token", "grant_type=refresh_token&refresh_token=" + strings.Repeat("A", 43) + "&client_id=" + app.ID + "&client_secret=" + secret},
		{"GET", "/oauth2/token", ""},
		{"GET", "/oauth2/userinfo", ""},
		{"POST", "/oauth2/userinfo", "access_token=x"},
		{"POST", "/oauth2/userinfo", "%zz"},
		{"POST", "/oauth2/revoke", ""},
		{"POST", "/oauth2/revoke", "token=x"},
		{"POST", "/oauth2/revoke", "token=x&client_id=nope"},
		{"POST", "/oauth2/revoke", "token=x&client_id=" + app.ID + "&client_secret=wrong"},
		{"POST", "/oauth2/revoke", "%zz"},
		{"GET", "/oauth2/logout?%zz", ""},
		{"GET", "/oauth2/logout?id_token_hint=garbage", ""},
		{"GET", "/oauth2/logout?client_id=nope&post_logout_redirect_uri=https://evil.example.com/", ""},
		{"GET", "/oauth2/logout?ui_locales=%00%01&client_id=" + app.ID, ""},
		{"POST", "/oauth2/logout", "%zz"},
		{"GET", "/oauth2/nope", ""},
		{"DELETE", "/.well-known/openid-configuration", ""},
	} {
		var body *strings.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		} else {
			body = strings.NewReader("")
		}
		req, err := http.NewRequest(tc.method, e.issuer+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		if tc.method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for _, c := range []*http.Client{e.browser(), b} {
			if r := e.do(c, req); r.status >= 500 {
				t.Errorf("%s %s: %d, want a refusal below 500\n%s", tc.method, tc.path, r.status, r.body)
			}
		}
	}
}

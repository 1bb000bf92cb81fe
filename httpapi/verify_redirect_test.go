package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// TestVerifyRedirect checks forward authentication for browsers: with
// redirect=true, a navigation without a credential gets 302 to the
// sign-in page with the original URL, an API client still 401, and a
// signed-in user without the permission the ForbiddenPage.
func TestVerifyRedirect(t *testing.T) {
	var forbidden string
	e := newEnv(t, options{http: httpapi.Config{
		SignInURL: "https://auth.example.test/auth/signin",
		StepUpURL: "https://auth.example.test/auth/step-up",
		ForbiddenPage: func(w http.ResponseWriter, r *http.Request, p gatehouse.Principal, perm string) {
			forbidden = p.User.Email + " lacks " + perm
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
		},
	}})
	c := e.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	const html = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
	fwd := []string{"Accept", html, "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.test", "X-Forwarded-Uri", "/orders?id=7&x=1"}

	r := e.do(c, "GET", "/v1/verify?redirect=true", nil, fwd...)
	want := "https://auth.example.test/auth/signin?rd=" + url.QueryEscape("https://app.example.test/orders?id=7&x=1")
	if r.status != http.StatusFound || r.header.Get("Location") != want {
		t.Fatalf("browser without a login: %d Location %q, want 302 %q", r.status, r.header.Get("Location"), want)
	}
	r = e.do(c, "GET", "/v1/verify?redirect=true", nil, "Accept", html, "X-Original-URL", "https://wiki.example.test/page")
	if want := "https://auth.example.test/auth/signin?rd=" + url.QueryEscape("https://wiki.example.test/page"); r.header.Get("Location") != want {
		t.Errorf("X-Original-URL: Location %q, want %q", r.header.Get("Location"), want)
	}
	wantProblem(t, e.do(c, "GET", "/v1/verify?redirect=true", nil, "Accept", "application/json"), 401, "unauthenticated")
	wantProblem(t, e.do(c, "GET", "/v1/verify", nil, fwd...), 401, "unauthenticated")
	wantProblem(t, e.do(c, "GET", "/v1/verify?redirect=false", nil, fwd...), 401, "unauthenticated")

	e.register("ada@example.com")
	e.login(c, "ada@example.com")
	r = e.do(c, "GET", "/v1/verify?redirect=true&permission=users:admin", nil, fwd...)
	if r.status != http.StatusForbidden || forbidden != "ada@example.com lacks users:admin" {
		t.Errorf("browser without the permission: %d, page %q", r.status, forbidden)
	}
	wantProblem(t, e.do(c, "GET", "/v1/verify?permission=users:admin", nil, fwd...), 403, "forbidden")
	if r := e.do(c, "GET", "/v1/verify?redirect=true&permission=cart:write", nil, fwd...); r.status != 200 || r.header.Get("X-Gatehouse-Email") != "ada@example.com" {
		t.Errorf("allowed: %d %v", r.status, r.header)
	}
	// A login at aal1 where aal2 is asked for steps up, rather than
	// signing in again; an API client gets RFC 9470's 401.
	r = e.do(c, "GET", "/v1/verify?redirect=true&aal=2", nil, fwd...)
	if want := "https://auth.example.test/auth/step-up?rd=" + url.QueryEscape("https://app.example.test/orders?id=7&x=1"); r.status != http.StatusFound || r.header.Get("Location") != want {
		t.Errorf("browser at aal1: %d Location %q, want 302 %q", r.status, r.header.Get("Location"), want)
	}
	wantProblem(t, e.do(c, "GET", "/v1/verify?redirect=true&aal=2", nil, "Accept", "application/json"), 401, "insufficient_user_authentication")

	for _, q := range []string{"redirect=yes", "redirect=", "redirect=true&redirect=true", "Redirect=true", "redirect=TRUE"} {
		t.Run(q, func(t *testing.T) {
			wantProblem(t, e.do(c, "GET", "/v1/verify?"+q, nil, fwd...), 400, "invalid_request")
		})
	}
}

// TestVerifyRedirectOff checks that without a SignInURL, redirect=true
// changes nothing: 401, and the 403 problem.
func TestVerifyRedirectOff(t *testing.T) {
	e := newEnv(t, options{})
	c := e.client()
	r := e.do(c, "GET", "/v1/verify?redirect=true", nil, "Accept", "text/html")
	wantProblem(t, r, 401, "unauthenticated")
	e.register("ada@example.com")
	e.login(c, "ada@example.com")
	r = e.do(c, "GET", "/v1/verify?redirect=true&permission=users:admin", nil, "Accept", "text/html")
	wantProblem(t, r, 403, "forbidden")
	if strings.Contains(string(r.body), "<html") {
		t.Error("an HTML page without a ForbiddenPage")
	}
}

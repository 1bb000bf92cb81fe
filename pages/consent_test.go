package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/oidc"
)

// newAuthRequest registers an app that is not trusted and starts an
// authorization request of it, as the provider would.
func newAuthRequest(t *testing.T, e *env, scopes ...string) (gatehouse.App, gatehouse.AuthRequest) {
	t.Helper()
	ctx := context.Background()
	app, _, err := e.svc.AddApp(ctx, gatehouse.AppSpec{Name: "Wiki <&>", RedirectURIs: []string{"https://wiki.example.net:8443/oauth/callback"}}, gatehouse.Client{IP: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	req, err := e.svc.StartAuthRequest(ctx, gatehouse.NewAuthRequest{
		AppID: app.ID, RedirectURI: app.RedirectURIs[0], Scopes: scopes, CodeChallengeMethod: "S256", Request: []byte("{}"),
	}, gatehouse.Client{IP: "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	return app, req
}

// TestConsentPage asks for consent, is refused, then given; the app then
// shows in "Apps with access", whose removal forgets the consent.
func TestConsentPage(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	app, req := newAuthRequest(t, e, "openid", "email", "offline_access")
	page := "/auth/consent?id=" + req.ID
	continueURL := "/oauth2/continue?id=" + req.ID

	// Without a login: sign in first, and come back.
	wantRedirect(t, e.get(c, page), "/auth/signin?rd="+url.QueryEscape(page))
	// Signing in for the request names the app, and the form may end at
	// its redirect URI.
	signin := e.get(c, "/auth/signin?rd="+url.QueryEscape(continueURL))
	has(t, signin, "You will return to Wiki &lt;&amp;&gt;.", `name="rd" value="`+continueURL+`"`)
	if csp := signin.header.Get("Content-Security-Policy"); !slices.Contains(directive(csp, "form-action"), "https://wiki.example.net:8443") {
		t.Errorf("sign-in for an app: CSP %s", csp)
	}
	// The provider sends the continue URL on the issuer's origin.
	has(t, e.get(c, "/auth/signin?rd="+url.QueryEscape(e.srv.URL+continueURL)), "You will return to Wiki &lt;&amp;&gt;.")
	wantRedirect(t, e.signIn(c, "ada@example.com", pw, "rd", continueURL), continueURL)

	r := e.get(c, page)
	want(t, r, 200)
	has(t, r, "Wiki &lt;&amp;&gt; wants to use your account", "see your email address", "stay signed in when you are away",
		`name="id" value="`+req.ID+`"`, `name="decision" value="allow"`, `name="decision" value="deny"`)
	if strings.Contains(r.body, "see your roles") {
		t.Error("the page lists a scope the app did not ask for")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "https://wiki.example.net:8443") {
		t.Errorf("consent CSP %s", csp)
	}
	checkLabels(t, r)

	consented := func() bool {
		t.Helper()
		ok, err := e.svc.Consented(context.Background(), e.user("ada@example.com").ID, app.ID, req.Scopes)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// Refused: cross-site, an unknown decision, an unknown request.
	want(t, e.post(c, "/auth/consent", url.Values{"id": {req.ID}, "decision": {"allow"}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	want(t, e.post(c, "/auth/consent", url.Values{"id": {req.ID}, "decision": {"yes"}}), http.StatusBadRequest)
	gone := e.post(c, "/auth/consent", url.Values{"id": {strings.Repeat("A", len(req.ID))}, "decision": {"allow"}})
	want(t, gone, http.StatusNotFound)
	has(t, gone, "has ended")
	want(t, e.get(c, "/auth/consent?id=nothing"), http.StatusNotFound)
	if consented() {
		t.Fatal("a refused answer gave consent")
	}

	// Deny: back to the provider, which tells the app; nothing remembered.
	wantRedirect(t, e.post(c, "/auth/consent", url.Values{"id": {req.ID}, "decision": {"deny"}}), continueURL+"&deny=1")
	if consented() {
		t.Fatal("deny gave consent")
	}
	// Allow: remembered, and back to the provider.
	wantRedirect(t, e.post(c, "/auth/consent", url.Values{"id": {req.ID}, "decision": {"allow"}}), continueURL)
	if !consented() {
		t.Fatal("allow did not give consent")
	}

	acct := e.get(c, "/auth/account")
	has(t, acct, `<h2 id="apps">Apps with access</h2>`, "<strong>Wiki &lt;&amp;&gt;</strong>", "<li>stay signed in when you are away</li>",
		`name="app" value="`+app.ID+`"`, `aria-label="Remove the access of Wiki &lt;&amp;&gt;"`)
	checkLabels(t, acct)
	want(t, e.post(c, "/auth/account/apps/revoke", url.Values{"app": {app.ID}}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	want(t, e.post(c, "/auth/account/apps/revoke", url.Values{}), http.StatusBadRequest)
	want(t, e.post(c, "/auth/account/apps/revoke", url.Values{"app": {"unknown"}}), http.StatusNotFound)
	if !consented() {
		t.Fatal("a refused removal forgot the consent")
	}
	wantRedirect(t, e.post(c, "/auth/account/apps/revoke", url.Values{"app": {app.ID}}), "/auth/account?notice=app_revoked")
	has(t, e.get(c, "/auth/account?notice=app_revoked"), "The app’s access was removed", "No app has access to your account.")
	if consented() {
		t.Fatal("the removal kept the consent")
	}
}

// TestRequestRefused: each reason the provider gives for a refusal is
// said in the words of the page's language; another refusal shows the
// provider's own words, escaped.
func TestRequestRefused(t *testing.T) {
	e := newEnv(t, options{})
	refuse := func(lang, reason, detail string) string {
		t.Helper()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/oauth2/authorize?client_id=x", nil)
		req.Header.Set("Accept-Language", lang)
		e.pages.RequestRefused(rec, req, http.StatusBadRequest, reason, detail)
		if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(rec.Body.String(), `<html lang="`+lang+`">`) {
			t.Fatalf("%s %q: %d %q\n%s", lang, reason, rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		return rec.Body.String()
	}
	const detail = "the library's <words>"
	for _, lang := range []string{"en", "fr"} {
		seen := map[string]bool{}
		for _, reason := range []string{oidc.RefusedClient, oidc.RefusedRedirectURI, oidc.RefusedMalformed, oidc.RefusedIDTokenHint, oidc.RefusedRequest, oidc.RefusedUnavailable} {
			body := refuse(lang, reason, detail)
			words := body[strings.Index(body, `id="form-error">`):]
			words = words[:strings.Index(words, "</p>")]
			if strings.Contains(words, "[") || strings.Contains(words, "library") || seen[words] {
				t.Errorf("%s %q: the reason is not in its own words: %s", lang, reason, words)
			}
			seen[words] = true
		}
	}
	if body := refuse("fr", "", detail); !strings.Contains(body, html.EscapeString(detail)) {
		t.Errorf("another refusal does not show the provider's words:\n%s", body)
	}
}

// directive returns the sources of one directive of a
// Content-Security-Policy, nil when it has none.
func directive(csp, name string) []string {
	for d := range strings.SplitSeq(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == name {
			return f[1:]
		}
	}
	return nil
}

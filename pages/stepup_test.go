package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/passkey/passkeytest"
)

// TestStepUpPage follows a browser signed in with its password alone to a
// proxied app that needs aal2: /v1/verify sends it to /auth/step-up, a
// wrong code shows the form again and raises nothing, the right code
// gives a new cookie at aal2 and sends it back.
func TestStepUpPage(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c, b, g := e.client(), e.client(), e.client()
	for _, browser := range []*http.Client{c, b, g} {
		wantRedirect(t, e.signIn(browser, "ada@example.com", pw), "/auth/account")
	}
	app := e.srv.URL + "/reports?q=1"
	stepUp := "/auth/step-up?rd=" + url.QueryEscape(app)

	// Without a factor there is nothing to step up with.
	none := e.get(c, stepUp)
	want(t, none, http.StatusConflict)
	has(t, none, "your account has none")

	secret, codes := e.enrol(c)
	browser := []string{"Accept", "text/html", "X-Original-URL", app}
	r := e.get(c, "/v1/verify?redirect=true&aal=2", browser...)
	if r.status != http.StatusFound || r.header.Get("Location") != e.srv.URL+stepUp {
		t.Fatalf("verify at aal1: %d Location %q, want 302 %q", r.status, r.header.Get("Location"), e.srv.URL+stepUp)
	}
	page := e.get(c, stepUp)
	want(t, page, 200)
	has(t, page, `action="/auth/step-up"`, `name="rd" value="`+app+`"`, `autocomplete="one-time-code"`, "needs your second step", `href="/auth/account">Go to your account instead`)
	if strings.Contains(page.body, "mfa_token") || strings.Contains(page.body, "data-webauthn") {
		t.Errorf("the step-up page has a sign-in's token or a passkey form:\n%s", page.body)
	}
	checkLabels(t, page)

	wrong := e.post(c, "/auth/step-up", url.Values{"code": {e.wrong(secret)}, "rd": {app}})
	want(t, wrong, http.StatusUnauthorized)
	has(t, wrong, `aria-invalid="true"`, `name="rd" value="`+app+`"`)
	for name, form := range map[string]url.Values{
		"empty":      {"code": {""}, "rd": {app}},
		"cross-site": {"code": {e.code(secret)}, "rd": {app}},
	} {
		var headers []string
		if name == "cross-site" {
			headers = []string{"Sec-Fetch-Site", "cross-site"}
		}
		r := e.post(c, "/auth/step-up", form, headers...)
		if r.status != http.StatusBadRequest && r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d, Set-Cookie %q", name, r.status, r.header.Get("Set-Cookie"))
		}
	}
	if r := e.get(c, "/v1/verify?aal=2"); r.status != http.StatusUnauthorized {
		t.Fatalf("refused step-ups raised the login: verify %d", r.status)
	}

	up := e.post(c, "/auth/step-up", url.Values{"code": {e.code(secret)}, "rd": {app}})
	wantRedirect(t, up, app)
	if !strings.Contains(up.header.Get("Set-Cookie"), "Secure") {
		t.Errorf("no new cookie: %q", up.header.Get("Set-Cookie"))
	}
	if r := e.get(c, "/v1/verify?aal=2"); r.status != 200 || r.header.Get("X-Gatehouse-Aal") != "2" {
		t.Errorf("after the step-up: verify %d, aal %q", r.status, r.header.Get("X-Gatehouse-Aal"))
	}
	// At aal2 the page sends the browser straight back; an rd that may
	// not be honoured goes to the account page.
	wantRedirect(t, e.get(c, stepUp), app)
	wantRedirect(t, e.get(c, "/auth/step-up?rd="+url.QueryEscape("https://evil.example/")), "/auth/account")

	// A recovery code steps up too, in the other browser, also signed in
	// before the app was set up; the code is then spent.
	wantRedirect(t, e.post(b, "/auth/step-up", url.Values{"recovery_code": {codes[0]}, "rd": {app}}), app)
	if r := e.get(b, "/v1/verify?aal=2"); r.status != 200 {
		t.Errorf("after a recovery code: verify %d", r.status)
	}
	spent := e.post(g, "/auth/step-up", url.Values{"recovery_code": {codes[0]}, "rd": {app}})
	want(t, spent, http.StatusUnauthorized)
	has(t, spent, `id="recovery_code" name="recovery_code"`, `required autofocus aria-invalid="true"`)
}

// TestStepUpPageWithAPasskey steps up with a passkey: the page begins a
// ceremony of the user's own passkeys, and its credential raises the
// login.
func TestStepUpPageWithAPasskey(t *testing.T) {
	e := passkeyEnv(t)
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	a := passkeytest.New(t)
	uv := passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: "https://localhost"}
	opts, f := ceremonyForm(t, e.post(c, "/auth/account/passkeys", url.Values{"passkey_password": {pw}, "name": {"Laptop"}}))
	f.Set("credential", string(a.Create(t, opts, uv)))
	wantRedirect(t, e.post(c, "/auth/account/passkeys/finish", f), "/auth/account?notice=passkey_added")

	page := e.get(c, "/auth/step-up?rd=%2Fauth%2Faccount%3Fx%3D1")
	want(t, page, 200)
	has(t, page, `data-webauthn="get"`, `action="/auth/step-up"`, `<script src="/auth/static/webauthn.js"></script>`)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the ceremony page does not allow its script: %s", csp)
	}
	opts, f = ceremonyForm(t, page)
	if f.Get("challenge_id") == "" || f.Get("rd") != "/auth/account?x=1" {
		t.Fatalf("hidden fields %v", f)
	}
	// Another origin's assertion is refused and raises nothing; the page
	// offers a new ceremony.
	evil := uv
	evil.Origin = "https://evil.example"
	a.Counter = 1
	f.Set("credential", string(a.Get(t, opts, evil)))
	refused := e.post(c, "/auth/step-up", f)
	want(t, refused, http.StatusUnauthorized)
	has(t, refused, "The passkey did not work. Try again, or enter a code.")
	opts2, f2 := ceremonyForm(t, refused)
	if f2.Get("challenge_id") == f.Get("challenge_id") {
		t.Error("the refused page offers the spent ceremony again")
	}
	a.Counter = 2
	f2.Set("credential", string(a.Get(t, opts2, uv)))
	wantRedirect(t, e.post(c, "/auth/step-up", f2), "/auth/account?x=1")
	if r := e.get(c, "/v1/verify?aal=2"); r.status != 200 {
		t.Errorf("after the passkey step-up: verify %d", r.status)
	}
}

package pages_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/passkey/passkeytest"
	pqtotp "github.com/pquerna/otp/totp"
)

// passkeyEnv has passkeys on: the relying party is localhost, which the
// software authenticator names as its origin (the pages' own origin is
// the test server's, which only the cross-origin rule looks at).
func passkeyEnv(t *testing.T) *env {
	return newEnv(t, options{svc: gatehouse.Config{
		Secret: []byte("0123456789abcdef0123456789abcdef"), PublicURL: "https://localhost",
	}})
}

var (
	dataOptions = regexp.MustCompile(`data-options="([^"]*)"`)
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// ceremonyForm returns the options of a page's passkey form, and its
// hidden fields.
func ceremonyForm(t *testing.T, r response) ([]byte, url.Values) {
	t.Helper()
	m := dataOptions.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no data-options\n%s", r.body)
	}
	f := url.Values{}
	for _, h := range hiddenField.FindAllStringSubmatch(r.body, -1) {
		f.Set(h[1], html.UnescapeString(h[2]))
	}
	return []byte(html.UnescapeString(m[1])), f
}

func TestPasskeyPages(t *testing.T) {
	e := passkeyEnv(t)
	e.register("ada@example.com")
	uv := passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: "https://localhost"}
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")

	acct := e.get(c, "/auth/account")
	want(t, acct, 200)
	has(t, acct, `<h2 id="passkeys">Passkeys</h2>`, `action="/auth/account/passkeys"`, "You have no passkey yet.", `name="passkey_password"`)
	if csp := acct.header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Errorf("the account page allows script: %s", csp)
	}
	has(t, e.get(e.client(), "/auth/signin"), `formaction="/auth/signin/passkey" formnovalidate`, "Sign in with a passkey")
	js := e.get(e.client(), "/auth/static/webauthn.js")
	want(t, js, 200)
	if !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") || !strings.Contains(js.body, "navigator.credentials.create") {
		t.Errorf("webauthn.js: %s", js.header.Get("Content-Type"))
	}

	// Adding one: the password is needed, and the form must be the pages'.
	bad := e.post(c, "/auth/account/passkeys", url.Values{"passkey_password": {"wrong"}})
	want(t, bad, 401)
	has(t, bad, `id="passkey_password" name="passkey_password" type="password" autocomplete="current-password" autofocus aria-invalid="true"`)
	want(t, e.post(c, "/auth/account/passkeys", url.Values{"passkey_password": {pw}}, "Sec-Fetch-Site", "cross-site"), 403)
	begin := e.post(c, "/auth/account/passkeys", url.Values{"passkey_password": {pw}, "name": {"Laptop"}})
	want(t, begin, 200)
	has(t, begin, `data-webauthn="create"`, `<script src="/auth/static/webauthn.js"></script>`, `name="credential" value=""`, "Add a passkey")
	if csp := begin.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the ceremony page does not allow its script: %s", csp)
	}
	opts, f := ceremonyForm(t, begin)
	if f.Get("name") != "Laptop" {
		t.Errorf("hidden fields %v", f)
	}
	a := passkeytest.New(t)
	evil := uv
	evil.Origin = "https://evil.example"
	f.Set("credential", string(a.Create(t, opts, evil)))
	refused := e.post(c, "/auth/account/passkeys/finish", f)
	want(t, refused, 400)
	has(t, refused, "The passkey could not be added.", `<h2 id="passkeys">`)
	want(t, e.post(c, "/auth/account/passkeys/finish", url.Values{"name": {"x"}}), 400)
	want(t, e.post(c, "/auth/account/passkeys/finish", f, "Sec-Fetch-Site", "cross-site"), 403)

	begin = e.post(c, "/auth/account/passkeys", url.Values{"passkey_password": {pw}, "name": {"Laptop"}})
	opts, f = ceremonyForm(t, begin)
	f.Set("credential", string(a.Create(t, opts, uv)))
	wantRedirect(t, e.post(c, "/auth/account/passkeys/finish", f), "/auth/account?notice=passkey_added")
	acct = e.get(c, "/auth/account?notice=passkey_added")
	has(t, acct, "Your passkey was added.", "<strong>Laptop</strong>", "never used", "Your passkey is your second step")
	u, err := e.svc.UserByEmail(context.Background(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.svc.ListPasskeys(context.Background(), u.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("passkeys %v %v", keys, err)
	}
	wantRedirect(t, e.post(c, "/auth/account/passkeys/rename", url.Values{"id": {keys[0].ID}, "name": {"Work laptop"}}), "/auth/account?notice=passkey_renamed")
	has(t, e.get(c, "/auth/account"), "<strong>Work laptop</strong>")
	want(t, e.post(c, "/auth/account/passkeys/rename", url.Values{"id": {"nope"}, "name": {"x"}}), 404)

	// Signing in with it, without a password: at aal 2.
	pc := e.client()
	start := e.post(pc, "/auth/signin/passkey", url.Values{"remember": {"1"}})
	want(t, start, 200)
	has(t, start, `data-webauthn="get"`, "Sign in with a passkey")
	_, f = ceremonyForm(t, start)
	if f.Get("challenge_id") == "" || f.Get("remember") != "1" {
		t.Fatalf("hidden fields %v", f)
	}
	want(t, e.post(pc, "/auth/signin/passkey", url.Values{}, "Sec-Fetch-Site", "cross-site"), 403)
	want(t, e.post(pc, "/auth/signin/passkey/finish", f, "Sec-Fetch-Site", "cross-site"), 403)
	garbled := url.Values{"challenge_id": {f.Get("challenge_id")}, "credential": {`{"id":"x"}`}}
	wrong := e.post(pc, "/auth/signin/passkey/finish", garbled)
	want(t, wrong, 401)
	has(t, wrong, `action="/auth/signin"`)
	fr := e.post(e.client(), "/auth/signin/passkey", url.Values{}, "Accept-Language", "fr")
	has(t, fr, `<html lang="fr">`, "Choisir une clé d’accès", `data-msg-cancelled="La clé d’accès n’a pas été utilisée`)
	start = e.post(pc, "/auth/signin/passkey", url.Values{})
	opts, f = ceremonyForm(t, start)
	a.Counter = 1
	f.Set("credential", string(a.Get(t, opts, uv)))
	wantRedirect(t, e.post(pc, "/auth/signin/passkey/finish", f), "/auth/account")
	me := e.get(pc, "/v1/me")
	want(t, me, 200)
	if !strings.Contains(me.body, `"aal":2`) {
		t.Errorf("/v1/me after a passkey: %s", me.body)
	}

	// The second step: a password sign-in asks for the passkey, and
	// only for it (no authenticator app).
	mc := e.client()
	step := e.signIn(mc, "ada@example.com", pw)
	_, f = ceremonyForm(t, step)
	f.Set("credential", `{"id":"x","type":"public-key"}`)
	refusedStep := e.post(mc, "/auth/signin/mfa", f)
	want(t, refusedStep, http.StatusUnauthorized)
	has(t, refusedStep, "The passkey did not work.", `href="/auth/signin"`, "Confirm it is you")
	if strings.Contains(refusedStep.body, "cannot be used here") || strings.Contains(refusedStep.body, "authenticator app") {
		t.Errorf("the refused passkey's page speaks of other ways\n%s", refusedStep.body)
	}
	if strings.Contains(refusedStep.body, "data-webauthn") {
		t.Error("a refused passkey's spent challenge is offered again")
	}
	f.Set("credential", "")
	want(t, e.post(mc, "/auth/signin/mfa", f), http.StatusBadRequest) // nothing to check
	step = e.signIn(mc, "ada@example.com", pw)
	want(t, step, httpapi.Status(gatehouse.CodeMFARequired))
	has(t, step, "Use a passkey", `data-webauthn="get"`, `name="no_totp" value="1"`)
	if strings.Contains(step.body, `name="code"`) {
		t.Error("the second step offers a code to a user without an authenticator app")
	}
	if csp := step.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the second step does not allow its script: %s", csp)
	}
	opts, f = ceremonyForm(t, step)
	a.Counter = 2
	f.Set("credential", string(a.Get(t, opts, uv)))
	wantRedirect(t, e.post(mc, "/auth/signin/mfa", f), "/auth/account")
	has(t, e.get(mc, "/v1/me"), `"aal":2`)

	// With an authenticator app too, the second step offers both.
	setup := e.post(mc, "/auth/account/mfa/totp", url.Values{"totp_password": {pw}})
	want(t, setup, 200)
	secret := regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`).FindStringSubmatch(setup.body)
	if secret == nil {
		t.Fatalf("no secret\n%s", setup.body)
	}
	code, err := pqtotp.GenerateCode(secret[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want(t, e.post(mc, "/auth/account/mfa/totp/confirm", url.Values{"code": {code}}), 200)
	both := e.signIn(e.client(), "ada@example.com", pw)
	want(t, both, httpapi.Status(gatehouse.CodeMFARequired))
	has(t, both, "Use a passkey", `data-webauthn="get"`, "Or enter a code from your authenticator app.", `name="code"`, `name="recovery_code"`)
	if strings.Contains(both.body, "no_totp") {
		t.Error("the second step says the user has no authenticator app")
	}

	// Removing it: a recent aal2 login needs no password.
	wantRedirect(t, e.post(pc, "/auth/account/passkeys/remove", url.Values{"id": {keys[0].ID}}), "/auth/account?notice=passkey_removed")
	has(t, e.get(pc, "/auth/account?notice=passkey_removed"), "Your passkey was removed.", "You have no passkey yet.")
}

func TestPasskeyPagesOff(t *testing.T) {
	e := newEnv(t, options{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	if acct := e.get(c, "/auth/account"); strings.Contains(acct.body, "passkey") {
		t.Errorf("the account page offers passkeys\n%s", acct.body)
	}
	if in := e.get(e.client(), "/auth/signin"); strings.Contains(in.body, "passkey") {
		t.Errorf("the sign-in page offers passkeys\n%s", in.body)
	}
	for _, path := range []string{"/auth/account/passkeys", "/auth/account/passkeys/finish", "/auth/account/passkeys/rename", "/auth/account/passkeys/remove", "/auth/signin/passkey", "/auth/signin/passkey/finish"} {
		r := e.post(c, path, url.Values{"passkey_password": {pw}})
		want(t, r, http.StatusForbidden)
		has(t, r, "Passkeys are not available on this server.")
	}
}

// TestAdminSeesPasskeys checks a user's admin page: it lists their
// passkeys by name, and its reset removes them too.
func TestAdminSeesPasskeys(t *testing.T) {
	e := newEnv(t, options{svc: gatehouse.Config{
		Secret: []byte("0123456789abcdef0123456789abcdef"), PublicURL: "https://localhost", Roles: adminRoles(),
	}})
	e.create("root@example.com", gatehouse.RoleAdmin)
	e.register("ada@example.com")
	root, ada := e.client(), e.client()
	wantRedirect(t, e.signIn(root, "root@example.com", pw), "/auth/account")
	wantRedirect(t, e.signIn(ada, "ada@example.com", pw), "/auth/account")
	page := "/auth/admin/users/" + e.user("ada@example.com").ID
	has(t, e.get(root, page), "<dt>Passkeys</dt><dd>None</dd>")

	uv := passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV | passkeytest.FlagBE | passkeytest.FlagBS, Origin: "https://localhost"}
	opts, f := ceremonyForm(t, e.post(ada, "/auth/account/passkeys", url.Values{"passkey_password": {pw}, "name": {"Ada's phone"}}))
	f.Set("credential", string(passkeytest.New(t).Create(t, opts, uv)))
	wantRedirect(t, e.post(ada, "/auth/account/passkeys/finish", f), "/auth/account?notice=passkey_added")

	r := e.get(root, page)
	has(t, r, "<dt>Passkeys</dt><dd>1</dd>", "<strong>Ada&#39;s phone</strong> <span class=\"tag\">Synced</span>", "never used", `action="`+page+`/mfa/reset"`)
	checkLabels(t, r)
	wantRedirect(t, e.post(root, page+"/mfa/reset", url.Values{}), page+"?notice=factors_reset")
	has(t, e.get(root, page), "<dt>Passkeys</dt><dd>None</dd>")
}

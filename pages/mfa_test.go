package pages_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pqtotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse"
)

// mfaEnv is an env whose Service has second factors on (Config.Secret),
// on a clock the test moves: a TOTP code is accepted once, so each use
// of the app needs the next 30-second step (next).
type mfaEnv struct {
	*env
	mu sync.Mutex
	at time.Time
}

func newMFAEnv(t *testing.T, limits gatehouse.Limits) *mfaEnv {
	t.Helper()
	m := &mfaEnv{at: time.Now()}
	m.env = newEnv(t, options{svc: gatehouse.Config{
		Secret: []byte("0123456789abcdef0123456789abcdef"), Now: m.now, Roles: adminRoles(), Limits: limits,
	}})
	return m
}

func (m *mfaEnv) now() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.at }

// advance moves the clock; next moves it to the next TOTP step.
func (m *mfaEnv) advance(d time.Duration) { m.mu.Lock(); defer m.mu.Unlock(); m.at = m.at.Add(d) }
func (m *mfaEnv) next()                   { m.advance(30 * time.Second) }

// code is what the authenticator app of secret shows now.
func (m *mfaEnv) code(secret string) string {
	m.t.Helper()
	c, err := pqtotp.GenerateCode(secret, m.now())
	if err != nil {
		m.t.Fatal(err)
	}
	return c
}

// wrong is a code that is not right, unlike the one the app shows.
func (m *mfaEnv) wrong(secret string) string {
	n, _ := strconv.Atoi(m.code(secret))
	return fmt.Sprintf("%06d", (n+500_000)%1_000_000)
}

var (
	secretField = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)
	tokenField  = regexp.MustCompile(`name="mfa_token" value="([A-Za-z0-9_-]+)"`)
	codeItem    = regexp.MustCompile(`<li><code>([0-9a-z]{4}(?:-[0-9a-z]{4}){3})</code></li>`)
)

// find returns what re's group matches in r's page, unescaped as a
// browser reads it.
func find(t testing.TB, re *regexp.Regexp, r response) string {
	t.Helper()
	m := re.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s is not on the page\n%s", re, r.body)
	}
	return html.UnescapeString(m[1])
}

// recoveryCodes checks a page that shows recovery codes once, and returns
// them.
func recoveryCodes(t testing.TB, r response) []string {
	t.Helper()
	want(t, r, http.StatusOK)
	var codes []string
	for _, m := range codeItem.FindAllStringSubmatch(r.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes on the page, want 10\n%s", len(codes), r.body)
	}
	download := regexp.MustCompile(`<a download="recovery-codes.txt" href="(data:text/plain;charset=utf-8,[^"]+)">`).FindStringSubmatch(r.body)
	if download == nil {
		t.Fatalf("no download link\n%s", r.body)
	}
	text, err := url.PathUnescape(strings.ReplaceAll(download[1], "&#43;", "+")[len("data:text/plain;charset=utf-8,"):])
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(text, "\n"+c+"\n") {
			t.Errorf("the file to download lacks %s:\n%s", c, text)
		}
	}
	has(t, r, `<a class="button" href="/auth/account">I have saved them</a>`)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
	}
	checkLabels(t, r)
	return codes
}

// enrol sets up an authenticator app for c's user through the account
// page and returns its secret and the recovery codes.
func (m *mfaEnv) enrol(c *http.Client) (string, []string) {
	m.t.Helper()
	setup := m.post(c, "/auth/account/mfa/totp", url.Values{"totp_password": {pw}})
	want(m.t, setup, http.StatusOK)
	secret := find(m.t, secretField, setup)
	codes := recoveryCodes(m.t, m.post(c, "/auth/account/mfa/totp/confirm", url.Values{"code": {m.code(secret)}}))
	m.next()
	return secret, codes
}

// firstStep signs c in with the password and returns the token of the
// second step it is asked for.
func (m *mfaEnv) firstStep(c *http.Client, email string, extra ...string) string {
	m.t.Helper()
	r := m.signIn(c, email, pw, extra...)
	want(m.t, r, http.StatusUnauthorized)
	has(m.t, r, `autocomplete="one-time-code"`)
	return find(m.t, tokenField, r)
}

// secondStep posts a code (field "code" or "recovery_code") to the second
// step of token.
func (m *mfaEnv) secondStep(c *http.Client, token, field, code string, headers ...string) response {
	m.t.Helper()
	return m.post(c, "/auth/signin/mfa", url.Values{"mfa_token": {token}, field: {code}, "rd": {"/auth/account?from=app"}}, headers...)
}

func TestTOTPEnrolmentPages(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")

	account := e.get(c, "/auth/account")
	has(t, account, "Two-step sign-in", `action="/auth/account/mfa/totp"`, `name="totp_password"`)
	checkLabels(t, account)

	// A wrong password: the account page again, the field marked.
	r := e.post(c, "/auth/account/mfa/totp", url.Values{"totp_password": {"not the password at all"}})
	want(t, r, http.StatusUnauthorized)
	has(t, r, "do not match", `name="totp_password" type="password" autocomplete="current-password" required autofocus aria-invalid="true"`)

	setup := e.post(c, "/auth/account/mfa/totp", url.Values{"totp_password": {pw}})
	want(t, setup, http.StatusOK)
	secret := find(t, secretField, setup)
	groups := regexp.MustCompile(`.{1,4}`).FindAllString(secret, -1)
	has(t, setup, `<img src="data:image/png;base64,`, `alt="QR code that adds this account to an authenticator app"`,
		"<code><span>"+strings.Join(groups, "</span> <span>")+"</span> </code>", `href="otpauth://totp/`,
		`autocomplete="one-time-code"`, `inputmode="numeric"`, `action="/auth/account/mfa/totp/confirm"`)
	checkLabels(t, setup)
	if strings.Contains(setup.body, "<script") || strings.Contains(setup.body, "style=") {
		t.Error("the setup page has inline script or style")
	}
	for name, v := range setup.header {
		if strings.Contains(strings.Join(v, " "), secret) {
			t.Errorf("the secret is in the %s header", name)
		}
	}

	// A wrong code, as the JSON API's confirm answers it (400
	// invalid_code): the QR code and the secret again, the field marked.
	r = e.post(c, "/auth/account/mfa/totp/confirm", url.Values{
		"code": {e.wrong(secret)}, "secret": {secret}, "uri": {find(t, regexp.MustCompile(`name="uri" value="([^"]+)"`), setup)},
		"qr": {find(t, regexp.MustCompile(`name="qr" value="([^"]+)"`), setup)},
	})
	want(t, r, http.StatusBadRequest)
	has(t, r, "That code is not right", `<img src="data:image/png;base64,`, "<span>"+groups[0]+"</span>", `aria-invalid="true"`)
	// What the hidden fields carry back is shown only in the form
	// EnrollTOTP gives it.
	r = e.post(c, "/auth/account/mfa/totp/confirm", url.Values{
		"code": {e.wrong(secret)}, "secret": {`"><b>x`}, "uri": {"javascript:alert(1)"}, "qr": {"data:text/html,<b>x</b>"},
	})
	want(t, r, http.StatusBadRequest)
	if strings.Contains(r.body, "<img") || strings.Contains(r.body, "javascript:") || strings.Contains(r.body, "<b>") {
		t.Errorf("the page shows what the form carried:\n%s", r.body)
	}
	has(t, r, "The setup key is no longer shown here")
	if f, _ := e.svc.Factors(t.Context(), e.user("ada@example.com").ID); f.TOTP || !f.TOTPPending {
		t.Fatalf("after wrong codes: %+v, want pending", f)
	}

	// The right code, typed with a space: the recovery codes, once.
	code := e.code(secret)
	codes := recoveryCodes(t, e.post(c, "/auth/account/mfa/totp/confirm", url.Values{"code": {code[:3] + " " + code[3:]}}))
	has(t, e.get(c, "/auth/account"), "Recovery codes left: 10.", `action="/auth/account/mfa/recovery-codes"`, `action="/auth/account/mfa/totp/remove"`)
	if f, _ := e.svc.Factors(t.Context(), e.user("ada@example.com").ID); !f.TOTP || f.RecoveryCodesLeft != 10 {
		t.Errorf("factors %+v", f)
	}
	// Confirming again does not show codes again.
	r = e.post(c, "/auth/account/mfa/totp/confirm", url.Values{"code": {code}})
	want(t, r, http.StatusBadRequest)
	for _, rc := range codes {
		if strings.Contains(r.body, rc) {
			t.Errorf("a recovery code is shown again")
		}
	}
	// Setting up another is refused.
	r = e.post(c, "/auth/account/mfa/totp", url.Values{"totp_password": {pw}})
	want(t, r, http.StatusConflict)
	has(t, r, "already set up")
}

func TestSecondStepOfSignIn(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	secret, codes := e.enrol(c)
	wantRedirect(t, e.post(c, "/auth/signout", url.Values{}), "/auth/signin")

	// The password opens the second step: no cookie yet.
	r := e.signIn(c, "ada@example.com", pw, "rd", "/auth/account?from=app", "remember", "1")
	want(t, r, http.StatusUnauthorized)
	has(t, r, `autocomplete="one-time-code"`, `inputmode="numeric"`, `name="recovery_code"`, `action="/auth/signin/mfa"`)
	checkLabels(t, r)
	if r.header.Get("Set-Cookie") != "" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the first step's headers: %v", r.header)
	}
	if strings.Contains(r.body, pw) {
		t.Error("the second step holds the password")
	}
	token := find(t, tokenField, r)

	// A wrong code: the step again, its token kept, the field marked.
	r = e.secondStep(c, token, "code", e.wrong(secret))
	want(t, r, http.StatusUnauthorized)
	has(t, r, "That code is not right", `name="mfa_token" value="`+token+`"`, `aria-invalid="true" aria-describedby="form-error code-hint"`)
	if r.header.Get("Set-Cookie") != "" {
		t.Error("a wrong code set a cookie")
	}

	// The right code, typed with a space: signed in at AAL2, back to rd.
	code := e.code(secret)
	r = e.secondStep(c, token, "code", code[:3]+" "+code[3:])
	wantRedirect(t, r, "/auth/account?from=app")
	if ck := r.header.Get("Set-Cookie"); !strings.Contains(ck, "Max-Age=") {
		t.Errorf("remember me was lost: Set-Cookie %q", ck)
	}
	p := principalOf(t, e.env, c)
	if p.Login.AAL != gatehouse.AAL2 || !slices.Contains(p.Login.AMR, gatehouse.AMROTP) {
		t.Errorf("login at AAL %d %v, want 2 with otp", p.Login.AAL, p.Login.AMR)
	}
	want(t, e.get(c, "/auth/account"), http.StatusOK)
	// The token is spent.
	e.next()
	r = e.secondStep(e.client(), token, "code", e.code(secret))
	want(t, r, http.StatusUnauthorized)
	has(t, r, "This sign-in took too long", `action="/auth/signin"`, `name="rd" value="/auth/account?from=app"`)

	// A recovery code works once, whatever its case.
	other := e.client()
	r = e.secondStep(other, e.firstStep(other, "ada@example.com"), "recovery_code", strings.ToUpper(codes[0]))
	wantRedirect(t, r, "/auth/account?from=app")
	if p := principalOf(t, e.env, other); p.Login.AAL != gatehouse.AAL2 {
		t.Errorf("recovery code login at AAL %d", p.Login.AAL)
	}
	third := e.client()
	r = e.secondStep(third, e.firstStep(third, "ada@example.com"), "recovery_code", codes[0])
	want(t, r, http.StatusUnauthorized)
	has(t, r, "That code is not right", "<details open>", `aria-invalid="true" aria-describedby="form-error recovery-hint"`)
	has(t, e.get(c, "/auth/account"), "Recovery codes left: 9.")

	// The words in French too.
	fr := e.post(e.client(), "/auth/signin", url.Values{"email": {"ada@example.com"}, "password": {pw}}, "Accept-Language", "fr")
	has(t, fr, "Saisissez un code de votre application d’authentification", `lang="fr"`)

	// A GET of the step goes to sign in.
	wantRedirect(t, e.get(e.client(), "/auth/signin/mfa?rd=%2Fauth%2Faccount"), "/auth/signin?rd=%2Fauth%2Faccount")
}

func TestSecondStepEndsAfterFiveWrongCodes(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	secret, _ := e.enrol(c)

	b := e.client()
	token := e.firstStep(b, "ada@example.com")
	for i := range 5 {
		r := e.secondStep(b, token, "code", e.wrong(secret))
		want(t, r, http.StatusUnauthorized)
		if !strings.Contains(r.body, "That code is not right") {
			t.Fatalf("wrong code %d: %s", i+1, r.body)
		}
	}
	// Even the right code now goes back to sign in.
	r := e.secondStep(b, token, "code", e.code(secret))
	want(t, r, http.StatusUnauthorized)
	has(t, r, "This sign-in took too long or had too many wrong codes", `action="/auth/signin"`, `id="password"`)
	if r.header.Get("Set-Cookie") != "" {
		t.Error("an ended step set a cookie")
	}
	// A new sign-in gets a new step, and the code works there.
	wantRedirect(t, e.secondStep(b, e.firstStep(b, "ada@example.com"), "code", e.code(secret)), "/auth/account?from=app")
}

func TestSecondStepThrottled(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{AccountFailures: 2})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	secret, _ := e.enrol(c)

	b := e.client()
	token := e.firstStep(b, "ada@example.com")
	// Wrong codes count toward the account's limit with the password of
	// the first step: the limit is reached within three of them.
	var r response
	for range 3 {
		if r = e.secondStep(b, token, "code", e.wrong(secret)); r.status != http.StatusUnauthorized {
			break
		}
	}
	want(t, r, http.StatusTooManyRequests)
	has(t, r, "Too many attempts", `name="mfa_token" value="`+token+`"`)
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

func TestSecondStepCrossSite(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	secret, _ := e.enrol(c)

	b := e.client()
	token := e.firstStep(b, "ada@example.com")
	for _, headers := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "", "Origin", "https://evil.example"}} {
		r := e.secondStep(b, token, "code", e.code(secret), headers...)
		want(t, r, http.StatusForbidden)
		has(t, r, "sent from another site")
		if r.header.Get("Set-Cookie") != "" {
			t.Error("a cross-site second step set a cookie")
		}
	}
	want(t, e.get(b, "/v1/me"), http.StatusUnauthorized)
	// Nothing was spent: the same token and code work from the pages.
	wantRedirect(t, e.secondStep(b, token, "code", e.code(secret)), "/auth/account?from=app")
}

func TestRecoveryCodesAndRemoval(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	e.register("ada@example.com")
	c := e.client()
	wantRedirect(t, e.signIn(c, "ada@example.com", pw), "/auth/account")
	secret, old := e.enrol(c)

	// At AAL1 (the login that set the app up), new codes need the password.
	r := e.post(c, "/auth/account/mfa/recovery-codes", url.Values{"codes_password": {""}})
	want(t, r, http.StatusUnauthorized)
	has(t, r, "<details open>", `name="codes_password" type="password" autocomplete="current-password" autofocus aria-invalid="true"`)
	fresh := recoveryCodes(t, e.post(c, "/auth/account/mfa/recovery-codes", url.Values{"codes_password": {pw}}))
	has(t, e.get(c, "/auth/account"), "Recovery codes left: 10.")
	for _, rc := range fresh {
		if slices.Contains(old, rc) {
			t.Errorf("the new codes hold an old one, %s", rc)
		}
	}
	b := e.client()
	want(t, e.secondStep(b, e.firstStep(b, "ada@example.com"), "recovery_code", old[1]), http.StatusUnauthorized)

	// A login at AAL2 less than 10 minutes old needs no password...
	wantRedirect(t, e.secondStep(b, e.firstStep(b, "ada@example.com"), "code", e.code(secret)), "/auth/account?from=app")
	recoveryCodes(t, e.post(b, "/auth/account/mfa/recovery-codes", url.Values{"codes_password": {""}}))
	// ...but after that it does.
	e.advance(11 * time.Minute)
	want(t, e.post(b, "/auth/account/mfa/recovery-codes", url.Values{"codes_password": {""}}), http.StatusUnauthorized)

	// Removing the app: refused with a wrong password, then done.
	r = e.post(b, "/auth/account/mfa/totp/remove", url.Values{"remove_password": {"not the password at all"}})
	want(t, r, http.StatusUnauthorized)
	has(t, r, `name="remove_password" type="password" autocomplete="current-password" autofocus aria-invalid="true"`)
	wantRedirect(t, e.post(b, "/auth/account/mfa/totp/remove", url.Values{"remove_password": {pw}}), "/auth/account?notice=totp_removed")
	r = e.get(b, "/auth/account?notice=totp_removed")
	has(t, r, "The authenticator app was removed.", `action="/auth/account/mfa/totp"`)
	// Sign-in is one step again.
	wantRedirect(t, e.signIn(e.client(), "ada@example.com", pw), "/auth/account")
	// Removing again: nothing to remove.
	r = e.post(b, "/auth/account/mfa/totp/remove", url.Values{"remove_password": {pw}})
	want(t, r, http.StatusConflict)
	has(t, r, "No authenticator app is set up.")
}

func TestAdminResetFactors(t *testing.T) {
	e := newMFAEnv(t, gatehouse.Limits{})
	rootID := e.create("root@example.com", gatehouse.RoleAdmin).ID
	e.register("bob@example.com")
	root, bob := e.client(), e.client()
	wantRedirect(t, e.signIn(root, "root@example.com", pw), "/auth/account")
	wantRedirect(t, e.signIn(bob, "bob@example.com", pw), "/auth/account")
	id := e.user("bob@example.com").ID
	page := "/auth/admin/users/" + id

	r := e.get(root, page)
	has(t, r, "<dt>Authenticator app</dt><dd>None</dd>")
	if strings.Contains(r.body, "/mfa/reset") {
		t.Error("a reset form for a user with no second factor")
	}
	e.enrol(bob)
	r = e.get(root, page)
	has(t, r, "<dt>Authenticator app</dt><dd>Set up</dd>", "<dt>Recovery codes left</dt><dd>10</dd>", `action="`+page+`/mfa/reset"`)
	checkLabels(t, r)

	// Refused to a customer, and cross-site.
	want(t, e.post(bob, page+"/mfa/reset", url.Values{}), http.StatusForbidden)
	r = e.post(root, page+"/mfa/reset", url.Values{}, "Sec-Fetch-Site", "cross-site")
	want(t, r, http.StatusForbidden)
	has(t, r, "sent from another site")
	if f, _ := e.svc.Factors(t.Context(), id); !f.TOTP {
		t.Fatal("a refused reset removed the factors")
	}

	wantRedirect(t, e.post(root, page+"/mfa/reset", url.Values{}), page+"?notice=factors_reset")
	has(t, e.get(root, page+"?notice=factors_reset"), "The user&#39;s second factors were removed.", "<dt>Authenticator app</dt><dd>None</dd>")
	if f, _ := e.svc.Factors(t.Context(), id); f.TOTP || f.RecoveryCodesLeft != 0 {
		t.Errorf("after the reset: %+v", f)
	}
	if ev := e.events(id)[0]; ev.Type != gatehouse.EventMFARemoved || !strings.Contains(ev.Detail, "by="+rootID) {
		t.Errorf("the last event of bob = %+v, want mfa.removed by=%s", ev, rootID)
	}
	wantRedirect(t, e.signIn(e.client(), "bob@example.com", pw), "/auth/account")
	// Again: nothing left to remove.
	want(t, e.post(root, page+"/mfa/reset", url.Values{}), http.StatusConflict)
}

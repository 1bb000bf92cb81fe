package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/passkey/passkeytest"
)

// TestPasskeyPagesInChromium adds a passkey from the account page and
// signs in with it, alone and as the second step after the password, in
// real Chromium with its virtual authenticator (the CDP WebAuthn domain),
// against the binary: the pages' webauthn.js is the browser's part of each
// ceremony. The issuer is http://localhost:PORT, a domain that WebAuthn
// accepts over http.
func TestPasskeyPagesInChromium(t *testing.T) {
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	origin := "http://localhost:" + strings.Split(addr, ":")[1]
	s := startArgs(t, db, addr, "serve", "--dev", "--addr", addr, "--db", db, "--issuer", origin)
	email := newAccount(t, s, "passkey@example.com")

	b := openTab(t, newBrowser(t), origin, "passkeys")
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	_, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{})
	var auth webauthn.AddVirtualAuthenticatorResult
	if err == nil {
		auth, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	}
	cancel()
	if err != nil {
		t.Fatalf("the virtual authenticator: %v", err)
	}
	at := func(path, extra string) string {
		return fmt.Sprintf(`document.readyState === "complete" && location.pathname === %q%s`, path, extra)
	}
	// aal reads the login's assurance from /v1/me (the pages' policy
	// forbids fetch), then goes back to the account page.
	aal := func() int {
		t.Helper()
		b.do("opening /v1/me", chromedp.Navigate(origin+"/v1/me"))
		b.waitFor("/v1/me", at("/v1/me", ""), stepTimeout)
		n := eval[int](b, `JSON.parse(document.body.innerText).auth.aal`)
		b.do("opening the account page", chromedp.Navigate(origin+"/auth/account"))
		b.waitFor("the account page", at("/auth/account", ""), stepTimeout)
		return n
	}
	signOut := func() {
		t.Helper()
		b.do("signing out", chromedp.Click(chromedp.CSS("nav form button")))
		b.waitFor("the sign-in page", at("/auth/signin", ""), stepTimeout)
	}
	passwordSignIn := func() {
		t.Helper()
		b.do("signing in with the password",
			chromedp.SetValue(chromedp.CSS("#email"), email),
			chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
			chromedp.Click(chromedp.CSS(`form[action="/auth/signin"] button.primary`)),
		)
	}

	b.do("opening the sign-in page", chromedp.Navigate(origin+"/auth/signin"), chromedp.EmulateViewport(320, 900))
	b.waitFor("the sign-in page", at("/auth/signin", ""), stepTimeout)
	passwordSignIn()
	b.waitFor("the account page", at("/auth/account", ` && document.querySelector("#passkeys") !== null`), stepTimeout)

	// Add a passkey: the password and a name, then the ceremony's page.
	b.do("opening the add form", chromedp.Evaluate[chromedp.Void](`document.querySelector("#passkey_password").closest("details").open = true`))
	b.do("filling the add form",
		chromedp.SetValue(chromedp.CSS("#passkey_name"), "Chromium"),
		chromedp.SetValue(chromedp.CSS("#passkey_password"), shopPassword),
		chromedp.Click(chromedp.CSS(`form[action="/auth/account/passkeys"] button`)),
	)
	b.waitFor("the ceremony's page", at("/auth/account/passkeys", ` && document.querySelector("form[data-webauthn=create]") !== null`), stepTimeout)
	b.screenshot("pages-passkey-add-320.png")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("the ceremony's page is %d px wide at 320 px", w)
	}
	// The registration and the second step go through webauthn.js's
	// fallback, for a browser without the JSON helpers; the passwordless
	// sign-in uses Chromium's own.
	withoutJSON := func() {
		t.Helper()
		b.do("removing the JSON helpers", chromedp.Evaluate[chromedp.Void](`delete PublicKeyCredential.parseCreationOptionsFromJSON;
			delete PublicKeyCredential.parseRequestOptionsFromJSON; delete PublicKeyCredential.prototype.toJSON`))
		if !eval[bool](b, `typeof PublicKeyCredential.parseRequestOptionsFromJSON === "undefined" && typeof PublicKeyCredential.prototype.toJSON === "undefined"`) {
			t.Fatal("the JSON helpers are still there")
		}
	}
	withoutJSON()
	b.do("creating the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the passkey in the list", at("/auth/account", ` && document.querySelector(".notice") !== null && document.querySelector("main").innerText.includes("Chromium")`), stepTimeout)
	b.screenshot("pages-passkey-account-320.png")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 320 {
		t.Errorf("the account page is %d px wide at 320 px", w)
	}
	if n := aal(); n != 1 {
		t.Errorf("the password sign-in is at aal %d, want 1", n)
	}

	// Step up with it: the page a proxy sends an aal1 browser to raises
	// this login and returns to rd.
	b.do("opening the step-up page", chromedp.Navigate(origin+"/auth/step-up?rd=%2Fauth%2Faccount%3Fstepped%3D1"))
	b.waitFor("the step-up page", at("/auth/step-up", ` && document.querySelector("form[data-webauthn=get]") !== null`), stepTimeout)
	b.screenshot("pages-passkey-step-up-320.png")
	b.do("stepping up with the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the account page after the step-up", at("/auth/account", ` && location.search === "?stepped=1"`), stepTimeout)
	if n := aal(); n != 2 {
		t.Errorf("the stepped-up login is at aal %d, want 2", n)
	}

	// Sign in with it alone: aal 2.
	signOut()
	b.do("choosing a passkey", chromedp.Click(chromedp.CSS(`button[formaction="/auth/signin/passkey"]`)))
	b.waitFor("the ceremony's page", at("/auth/signin/passkey", ` && document.querySelector("form[data-webauthn=get]") !== null`), stepTimeout)
	b.screenshot("pages-passkey-signin-320.png")
	// The person does not unlock it: the page says so, and stays.
	verified := func(ok bool) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		if _, err := chromedp.Call(ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: auth.AuthenticatorID, IsUserVerified: ok}); err != nil {
			t.Fatalf("setting user verification: %v", err)
		}
	}
	verified(false)
	b.do("not unlocking the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the refusal's message", at("/auth/signin/passkey", ` && !document.querySelector("#passkey-error").hidden && document.querySelector("#passkey-error").textContent !== "" && !document.querySelector("form[data-webauthn] button").disabled`), 30*time.Second)
	b.screenshot("pages-passkey-refused-320.png")
	verified(true)
	b.do("using the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the account page after the passkey", at("/auth/account", ""), stepTimeout)
	if n := aal(); n != 2 {
		t.Errorf("the passkey sign-in is at aal %d, want 2", n)
	}

	// As the second step after the password.
	signOut()
	passwordSignIn()
	b.waitFor("the second step", at("/auth/signin", ` && document.querySelector("form[data-webauthn=get]") !== null`), stepTimeout)
	b.screenshot("pages-passkey-second-step-320.png")
	if eval[bool](b, `document.querySelector("#code") !== null`) {
		t.Error("the second step offers a code to a user without an authenticator app")
	}
	withoutJSON()
	b.do("using the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the account page after the second step", at("/auth/account", ""), stepTimeout)
	if n := aal(); n != 2 {
		t.Errorf("the two-step sign-in is at aal %d, want 2", n)
	}

	// Another user's second step, answered with ada's passkey: bob has a
	// passkey of his own (added through the API with a software
	// authenticator), and his browser's authenticator holds a copy of
	// ada's credential, which a tampered page asks for. The server
	// refuses it, and bob is not signed in.
	bob := newAccount(t, s, "bob@example.com")
	bobAPI := newClient()
	s.want(s.call(bobAPI, "POST", "/v1/login", map[string]any{"email": bob, "password": shopPassword, "mode": "session"}), 200, "")
	begin := s.call(bobAPI, "POST", "/v1/passkeys/register/begin", map[string]string{"password": shopPassword})
	s.want(begin, 200, "")
	bobCred := passkeytest.New(t).Create(t, begin.raw, passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: origin})
	s.want(s.call(bobAPI, "POST", "/v1/passkeys/register/finish", map[string]any{"credential": json.RawMessage(bobCred)}), 201, "")
	ctx, cancel = context.WithTimeout(b.ctx, stepTimeout)
	adas, err := chromedp.Call(ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: auth.AuthenticatorID})
	var other webauthn.AddVirtualAuthenticatorResult
	if err == nil && len(adas.Credentials) == 1 {
		_, err = chromedp.Call(ctx, webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: auth.AuthenticatorID})
	}
	if err == nil {
		other, err = chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
	}
	if err == nil {
		// The typed command always sends generateCmtgKeyOnNextOperation,
		// which this Chromium refuses: the credential goes as it must.
		c := adas.Credentials[0]
		addCredential := cdp.Command[map[string]any, cdp.Empty]{Method: webauthn.CommandAddCredential}
		_, err = chromedp.Call(ctx, addCredential, map[string]any{"authenticatorId": other.AuthenticatorID, "credential": map[string]any{
			"credentialId": c.CredentialID, "isResidentCredential": c.IsResidentCredential, "rpId": c.RpID,
			"privateKey": c.PrivateKey, "userHandle": c.UserHandle, "signCount": c.SignCount,
		}})
	}
	cancel()
	if err != nil || len(adas.Credentials) != 1 {
		t.Fatalf("copying ada's credential to a second authenticator: %v (%d credentials)", err, len(adas.Credentials))
	}
	signOut()
	b.do("signing in as bob",
		chromedp.SetValue(chromedp.CSS("#email"), bob),
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
		chromedp.Click(chromedp.CSS(`form[action="/auth/signin"] button.primary`)),
	)
	b.waitFor("bob's second step", at("/auth/signin", ` && document.querySelector("form[data-webauthn=get]") !== null`), stepTimeout)
	b.do("asking for ada's credential instead", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const f = document.querySelector("form[data-webauthn=get]"), o = JSON.parse(f.getAttribute("data-options"));
		o.publicKey.allowCredentials = [{type: "public-key", id: %q}];
		f.setAttribute("data-options", JSON.stringify(o));
	})()`, base64.RawURLEncoding.EncodeToString(adas.Credentials[0].CredentialID))))
	b.do("answering with ada's passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the refusal", at("/auth/signin/mfa", ` && document.querySelector(".error") !== null`), stepTimeout)
	b.do("opening /v1/me", chromedp.Navigate(origin+"/v1/me"))
	b.waitFor("/v1/me", at("/v1/me", ""), stepTimeout)
	if body := eval[string](b, `document.body.innerText`); !strings.Contains(body, "unauthenticated") {
		t.Errorf("bob answered with ada's passkey and is signed in: %s", body)
	}

	// Ada, with her credential in the second authenticator, signs in
	// again in two steps.
	b.do("opening the sign-in page", chromedp.Navigate(origin+"/auth/signin"))
	b.waitFor("the sign-in page", at("/auth/signin", ""), stepTimeout)
	passwordSignIn()
	b.waitFor("the second step", at("/auth/signin", ` && document.querySelector("form[data-webauthn=get]") !== null`), stepTimeout)
	b.do("using the passkey", chromedp.Click(chromedp.CSS("form[data-webauthn] button")))
	b.waitFor("the account page after the second step", at("/auth/account", ""), stepTimeout)

	// Remove it from the account page: after a recent two-factor sign-in
	// the password may be left empty.
	b.do("opening the passkey's details", chromedp.Evaluate[chromedp.Void](`document.querySelector("form[action='/auth/account/passkeys/remove']").closest("details").open = true`))
	b.do("removing the passkey", chromedp.Click(chromedp.CSS(`form[action="/auth/account/passkeys/remove"] button`)))
	b.waitFor("the passkey gone", at("/auth/account", ` && document.querySelector(".notice") !== null && !document.querySelector("main").innerText.includes("Chromium")`), stepTimeout)
	b.screenshot("pages-passkey-removed-320.png")
}

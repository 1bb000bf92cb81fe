package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	pqtotp "github.com/pquerna/otp/totp"

	"github.com/gatehouse/gatehouse/passkey/passkeytest"
)

// auditPage is one page that the accessibility audit (TestPagesAxe) and
// the page weight test (TestPagesWeight) open in Chromium. To audit a new
// page, add it to auditPages.
type auditPage struct {
	name string
	// path is opened in the browser; {user} stands for asUser's id,
	// {reset} and {verify} for the tokens of links sent to asUser. An
	// empty path stays on the page the tab shows, the answer to the
	// previous auditPage's form.
	path string
	as   string // who opens it: asNobody, asUser (signed in, several logins) or asAdmin
	// form, when set, fills these fields (CSS selector → value) of the
	// page at path and submits it with the button submit selects
	// (button.primary when empty): the page audited is the answer. The
	// value {totp} stands for the code of the authenticator app that the
	// page (the setup page) holds the secret of.
	form   map[string]string
	submit string
	// reveal, when set, is JavaScript run before the form is filled (to
	// open the <details> that holds it).
	reveal string
	// ready is a JavaScript condition that holds once the page is there.
	ready string
}

// Who opens an audited page.
const (
	asNobody = ""
	asUser   = "user"
	asAdmin  = "admin"
)

// auditEmail is the account of asUser, adminEmail that of asAdmin.
const (
	auditEmail = "audit@example.com"
	adminEmail = "root@example.com"
)

var auditPages = []auditPage{
	{name: "sign-in", path: "/auth/signin?rd=%2Fauth%2Faccount", ready: `document.querySelector("#email")`},
	{name: "sign-in refused", path: "/auth/signin",
		form:  map[string]string{"#email": auditEmail, "#password": "not the password"},
		ready: `document.querySelector(".error") && document.querySelector("#password[aria-invalid]")`},
	{name: "sign-up", path: "/auth/signup", ready: `document.querySelector("#password")`},
	{name: "sign-up refused", path: "/auth/signup",
		form:  map[string]string{"#email": "new@example.com", "#password": "short"},
		ready: `document.querySelector(".error") && document.querySelector("#password[aria-invalid]")`},
	{name: "account", path: "/auth/account?notice=signed_out_one", as: asUser,
		ready: `document.querySelectorAll("li.login").length >= 3 && document.querySelector(".notice")`},
	{name: "forbidden", path: "/v1/verify?permission=users:admin&redirect=true", as: asUser,
		ready: `document.querySelector("a.button")`},
	{name: "not found", path: "/auth/nowhere", ready: `document.querySelector("h1")`},
	{name: "app request refused", path: "/oauth2/authorize?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
		ready: `document.querySelector("h1") && document.querySelector(".error")`},
	{name: "recover", path: "/auth/recover", ready: `document.querySelector("#email")`},
	{name: "recover sent", path: "/auth/recover",
		// Not asUser's address: a new link would replace {reset}.
		form:  map[string]string{"#email": "someone@example.com"},
		ready: `document.querySelector(".notice")`},
	{name: "reset", path: "/auth/reset?token={reset}", ready: `document.querySelector("#new_password")`},
	{name: "reset refused", path: "/auth/reset?token={reset}",
		form:  map[string]string{"#new_password": "short"},
		ready: `document.querySelector(".error") && document.querySelector("#new_password[aria-invalid]")`},
	{name: "link spent", path: "/auth/reset?token=" + strings.Repeat("A", 43), ready: `document.querySelector(".error")`},
	{name: "verify email", path: "/auth/verify-email?token={verify}", ready: `document.querySelector("button.primary")`},
	{name: "admin users", path: "/auth/admin/?email=a", as: asAdmin, ready: `document.querySelector("table")`},
	{name: "admin user", path: "/auth/admin/users/{user}?notice=disabled", as: asAdmin,
		ready: `document.querySelector("input[type=checkbox]") && document.querySelector(".notice")`},
	{name: "audit log", path: "/auth/admin/audit?type=login.succeeded", as: asAdmin, ready: `document.querySelector("table")`},
	{name: "admin app added", path: "/auth/admin/apps", as: asAdmin,
		form:  map[string]string{"#app_name": "Grafana", "#redirect_uris": "https://grafana.example.com/login/generic_oauth"},
		ready: `document.querySelector("#added") && document.querySelectorAll("ul.apps li").length === 2`},
	{name: "admin app refused", path: "/auth/admin/apps", as: asAdmin,
		form:  map[string]string{"#app_name": "Evil", "#redirect_uris": "http://evil.example.com/cb"},
		ready: `document.querySelector(".error") && document.querySelector("#app_name[aria-invalid]")`},
	// Two-step sign-in, set up through the pages by asUser, in order: the
	// setup page, the recovery codes (the answer to its form), the
	// account page with it on, then the second step of a sign-in.
	{name: "two-step setup", path: "/auth/account", as: asUser,
		form: map[string]string{"#totp_password": shopPassword}, submit: `form[action="/auth/account/mfa/totp"] button`,
		ready: `document.querySelector(".qr img") && document.querySelector("#code")`},
	{name: "recovery codes", as: asUser, form: map[string]string{"#code": "{totp}"},
		ready: `document.querySelectorAll("ol.codes li").length === 10 && document.querySelector("a[download]")`},
	{name: "account two-step on", path: "/auth/account", as: asUser, ready: `document.querySelector("#codes_password")`},
	// An app that is not trusted ({client}, added by newAuditSite) asks
	// asUser for consent.
	{name: "consent", as: asUser, path: "/oauth2/authorize?client_id={client}&response_type=code&scope=openid+email+offline_access" +
		"&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGEJtTwvnM&code_challenge_method=S256",
		ready: `location.pathname === "/auth/consent" && document.querySelector("button[value=allow]")`},
	// asUser's login, made with the password before the app was set up,
	// is at aal1: the step-up page asks for a code.
	{name: "step-up", path: "/auth/step-up?rd=%2Fauth%2Faccount", as: asUser, ready: `document.querySelector("#code") && !document.querySelector("form[data-webauthn]")`},
	{name: "step-up refused", path: "/auth/step-up?rd=%2Fauth%2Faccount", as: asUser,
		form: map[string]string{"#code": "000000"}, submit: `form:has(#code) button`,
		ready: `document.querySelector(".error") && document.querySelector("#code[aria-invalid]")`},
	// Passkeys: the ceremonies' pages, which need no ceremony to show
	// (webauthn.js runs only when their button is pressed).
	{name: "passkey add", path: "/auth/account", as: asUser,
		reveal: `document.querySelector("#passkey_password").closest("details").open = true`,
		form:   map[string]string{"#passkey_name": "Laptop", "#passkey_password": shopPassword}, submit: `form[action="/auth/account/passkeys"] button`,
		ready: `document.querySelector("form[data-webauthn=create]")`},
	{name: "passkey sign-in", path: "/auth/signin", form: map[string]string{}, submit: `button[formaction="/auth/signin/passkey"]`,
		ready: `document.querySelector("form[data-webauthn=get]")`},
	{name: "two-step sign-in", path: "/auth/signin", form: map[string]string{"#email": auditEmail, "#password": shopPassword},
		ready: `document.querySelector("#code[autocomplete=one-time-code]")`},
	// asAdmin has a passkey, added after their tab signed in with the
	// password (newAuditSite): the step-up page and a sign-in's second
	// step offer it.
	{name: "passkey step-up", path: "/auth/step-up?rd=%2Fauth%2Faccount", as: asAdmin, ready: `document.querySelector("form[data-webauthn=get]")`},
	{name: "passkey second step", path: "/auth/signin", form: map[string]string{"#email": adminEmail, "#password": shopPassword},
		ready: `document.querySelector("form[data-webauthn=get]")`},
}

// printedLinks finds the links of the messages serve --dev prints.
var printedLinks = regexp.MustCompile(`/auth/(reset|verify-email)\?token=([A-Za-z0-9_-]{43})`)

// auditSite is a running `gatehouse serve` with a browser whose tabs are
// signed in as each of the auditPages' users.
type auditSite struct {
	s      *server
	tabs   map[string]*tab
	userID string // asUser's
	// tokens of the links sent to asUser, by the name of their stand-in
	tokens map[string]string
}

// brandLogo is the logo of the branded configuration: an SVG.
const brandLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="14" fill="#1d6b3a"/></svg>`

// auditConfigs are the configurations the pages are audited in: as they
// come, and branded with a logo and a light colour, under which the text
// on buttons and the links must stay readable.
var auditConfigs = []struct {
	name  string
	flags func(t *testing.T) []string
}{
	{"default", func(*testing.T) []string { return nil }},
	{"branded", func(t *testing.T) []string {
		logo := filepath.Join(t.TempDir(), "logo.svg")
		if err := os.WriteFile(logo, []byte(brandLogo), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{"--brand-name", "Acme Shop", "--brand-logo", logo, "--brand-color", "#ffd700"}
	}},
}

// newAuditSite starts the server with flags, makes asUser's account with
// two more logins from the API, and opens a tab for each user.
func newAuditSite(t *testing.T, flags ...string) *auditSite {
	t.Helper()
	// The issuer is localhost, a domain, so that passkeys are on.
	addr := freeAddr(t)
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	origin := "http://localhost:" + strings.Split(addr, ":")[1]
	s := startArgs(t, db, addr, append([]string{"serve", "--dev", "--addr", addr, "--db", db, "--issuer", origin}, flags...)...)
	s.url = origin
	created := s.call(newClient(), "POST", "/v1/users", map[string]string{"email": auditEmail, "password": shopPassword})
	s.want(created, 201, "")
	signedInAPI(t, s, auditEmail)
	signedInAPI(t, s, auditEmail)
	if _, errOut, code := cli(t, shopPassword+"\n", nil, "user", "add", "--db", s.db, "--email", adminEmail, "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	// serve --dev prints the messages it would send: the verification
	// message of the sign-up, then a recovery message.
	s.want(s.call(newClient(), "POST", "/v1/recovery", map[string]string{"email": auditEmail}), 202, "")
	tokens := map[string]string{}
	eventually(t, 10*time.Second, "the links on standard output", func() bool {
		for _, m := range printedLinks.FindAllStringSubmatch(s.out.String(), -1) {
			tokens[map[string]string{"reset": "{reset}", "verify-email": "{verify}"}[m[1]]] = m[2]
		}
		return len(tokens) == 2
	})
	out, errOut, code := cli(t, "", nil, "clients", "add", "--db", s.db, "--name", "Wiki", "--redirect-uri", "http://127.0.0.1:9/callback")
	client := clientIDLine.FindStringSubmatch(out)
	if code != 0 || client == nil {
		t.Fatalf("clients add: %d %s", code, errOut)
	}
	tokens["{client}"] = client[1]
	browser := newBrowser(t)
	site := &auditSite{s: s, tabs: map[string]*tab{asNobody: openTab(t, browser, s.url, "signed out")}, userID: created.body["id"].(string), tokens: tokens}
	for as, email := range map[string]string{asUser: auditEmail, asAdmin: adminEmail} {
		u := openTab(t, browser, s.url, "signed in as "+as)
		u.do("signing in",
			chromedp.Navigate(s.url+"/auth/signin"),
			chromedp.SetValue(chromedp.CSS("#email"), email),
			chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
			chromedp.Click(chromedp.CSS("button.primary")),
		)
		u.waitFor("the account page", `location.pathname === "/auth/account"`, stepTimeout)
		site.tabs[as] = u
	}
	// asAdmin gets a passkey once their tab is signed in with the password
	// alone, through the API with a software authenticator.
	admin := newClient()
	s.want(s.call(admin, "POST", "/v1/login", map[string]any{"email": adminEmail, "password": shopPassword, "mode": "session"}), 200, "")
	begin := s.call(admin, "POST", "/v1/passkeys/register/begin", map[string]string{"password": shopPassword})
	s.want(begin, 200, "")
	cred := passkeytest.New(t).Create(t, begin.raw, passkeytest.Ceremony{Flags: passkeytest.FlagUP | passkeytest.FlagUV, Origin: origin})
	s.want(s.call(admin, "POST", "/v1/passkeys/register/finish", map[string]any{"name": "Laptop", "credential": json.RawMessage(cred)}), 201, "")
	return site
}

// open shows p in its user's tab, and returns the tab. Before a form is
// submitted, beforeSubmit runs (nil: nothing).
func (a *auditSite) open(p auditPage, beforeSubmit func()) *tab {
	b := a.tabs[p.as]
	b.t.Helper()
	path := strings.ReplaceAll(p.path, "{user}", a.userID)
	for k, v := range a.tokens {
		path = strings.ReplaceAll(path, k, v)
	}
	if path != "" {
		b.do("opening "+p.path, chromedp.Navigate(a.s.url+path))
	}
	if p.form != nil {
		b.waitFor("the form of "+p.name, `document.readyState === "complete"`, stepTimeout)
		var steps []chromedp.Action[chromedp.Void]
		if p.reveal != "" {
			steps = append(steps, chromedp.Evaluate[chromedp.Void](p.reveal))
		}
		for sel, v := range p.form {
			if v == "{totp}" {
				secret := eval[string](b, `document.querySelector("input[name=secret]").value`)
				code, err := pqtotp.GenerateCode(secret, time.Now())
				if err != nil {
					b.t.Fatalf("%s: the code of %q: %v", p.name, secret, err)
				}
				v = code
			}
			steps = append(steps, chromedp.SetValue(chromedp.CSS(sel), v))
		}
		b.do("filling "+p.name, steps...)
		if beforeSubmit != nil {
			beforeSubmit()
		}
		submit := p.submit
		if submit == "" {
			submit = "button.primary"
		}
		b.do("submitting "+p.name, chromedp.Click(chromedp.CSS(submit)))
	}
	b.waitFor(p.name, `document.readyState === "complete" && (`+p.ready+`)`, stepTimeout)
	return b
}

// axeViolation is one rule that axe-core found broken, where.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// TestPagesAxe audits every page of auditPages with axe-core, the
// accessibility rules engine, in Chromium at 1280 px and 320 px wide, in
// each of auditConfigs, and fails on any violation of serious or
// critical impact (the others are logged), with a screenshot of each
// (the artifacts, to look at). axe is injected through the
// DevTools protocol (Runtime.evaluate), which the pages' CSP, which
// forbids inline script, does not govern; the test checks that it ran.
func TestPagesAxe(t *testing.T) {
	npmInstall(t, "axe", "axe-core")
	axeSource, err := os.ReadFile("axe/node_modules/axe-core/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	const run = `axe.run(document, {resultTypes: ["violations"]}).then(r => ({
		passes: r.passes.length,
		violations: r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))}))`
	type result struct {
		Passes     int            `json:"passes"`
		Violations []axeViolation `json:"violations"`
	}
	for _, cfg := range auditConfigs {
		t.Run(cfg.name, func(t *testing.T) {
			site := newAuditSite(t, cfg.flags(t)...)
			for _, p := range auditPages {
				b := site.open(p, nil)
				for _, width := range []int64{1280, 320} {
					b.do(fmt.Sprintf("setting the width to %d", width), chromedp.EmulateViewport(width, 900))
					ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
					err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](string(axeSource)))
					var r result
					if err == nil {
						r, err = chromedp.Run(ctx, chromedp.Evaluate[result](run, chromedp.EvalAwaitPromise))
					}
					cancel()
					if err == nil && r.Passes == 0 {
						err = fmt.Errorf("axe passed no rule: it did not run")
					}
					if err != nil {
						t.Fatalf("%s at %d px: running axe: %v", p.name, width, err)
					}
					b.screenshot(fmt.Sprintf("page-%s-%s-%d.png", cfg.name, strings.ReplaceAll(p.name, " ", "-"), width))
					for _, v := range r.Violations {
						msg := fmt.Sprintf("%s at %d px: %s (%s): %s\n\t%s", p.name, width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
						if v.Impact == "serious" || v.Impact == "critical" {
							t.Error(msg)
						} else {
							t.Log(msg)
						}
					}
				}
			}
		})
	}
}

// pageBudget is the most a page may transfer, everything it loads
// included (HTML, stylesheet, logo), headers too.
const pageBudget = 60 << 10

// TestPagesWeight opens every page of auditPages in Chromium, its cache
// off, branded with a logo, and checks that it transfers less than
// pageBudget in all and asks nothing of any host but Gatehouse's.
func TestPagesWeight(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "logo.svg")
	if err := os.WriteFile(logo, []byte(brandLogo), 0o644); err != nil {
		t.Fatal(err)
	}
	site := newAuditSite(t, "--brand-logo", logo, "--brand-color", "#1d6b3a")
	host, _ := url.Parse(site.s.url)

	// What each tab asked for and received since the last reset.
	type traffic struct {
		sync.Mutex
		urls  map[network.RequestID]string
		bytes map[network.RequestID]float64
	}
	reset := func(tr *traffic) {
		tr.Lock()
		defer tr.Unlock()
		tr.urls, tr.bytes = map[network.RequestID]string{}, map[network.RequestID]float64{}
	}
	seen := map[string]*traffic{}
	for who, b := range site.tabs {
		tr := &traffic{}
		reset(tr)
		seen[who] = tr
		if err := chromedp.Listen(b.ctx, func(ev any) {
			tr.Lock()
			defer tr.Unlock()
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				tr.urls[ev.RequestID] = ev.Request.URL
			case *network.EventLoadingFinished:
				tr.bytes[ev.RequestID] += ev.EncodedDataLength
			}
		}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
		if err == nil {
			_, err = chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		}
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range auditPages {
		tr := seen[p.as]
		reset(tr)
		site.open(p, func() { reset(tr) })
		time.Sleep(300 * time.Millisecond) // the last loadingFinished events
		tr.Lock()
		total, list := 0.0, []string{}
		for id, u := range tr.urls {
			if strings.HasPrefix(u, "data:") {
				continue // inline in the page (the QR code), counted with it
			}
			pu, err := url.Parse(u)
			if err != nil || pu.Host != host.Host {
				t.Errorf("%s: a request to another host: %s", p.name, u)
			}
			total += tr.bytes[id]
			list = append(list, fmt.Sprintf("%s (%.0f B)", pu.Path, tr.bytes[id]))
		}
		tr.Unlock()
		t.Logf("%s: %.1f KB in %d requests: %s", p.name, total/1024, len(list), strings.Join(list, ", "))
		if total >= pageBudget || total == 0 {
			t.Errorf("%s transferred %.0f bytes, want more than 0 and less than %d", p.name, total, pageBudget)
		}
	}
}

package pages

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// TestTemplatesSameAsDynamic holds the templates with the catalogue's
// words written in (parseTemplates) to the plain templates, which look
// every word up as the page renders: byte for byte the same page, in
// every language, for every page, with and without an error, a notice, a
// user and a logo.
func TestTemplatesSameAsDynamic(t *testing.T) {
	const brand = "Acme & Co's {{.Brand}}"
	fixed, err := parseTemplates(brand)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := parseLanguage(nil, brand)
	if err != nil {
		t.Fatal(err)
	}
	user := &gatehouse.User{Email: "ada+test@example.com"}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, lang := range languages {
		m := catalogue[lang]
		target := userRow{ID: "u1", Email: "bob<b>@example.com", Roles: "admin, customer", Created: "2026-01-02 03:04 UTC", CreatedISO: "2026-01-02T03:04:05Z"}
		admin := &adminView{
			Email: "bo", Users: []userRow{target, {ID: "u2", Email: "off@example.com", Disabled: true}}, Next: "/auth/admin/?after=u2&email=bo",
			Target: target, Roles: []roleBox{{Name: "admin", Checked: true}, {Name: "support"}},
			Logins:   []adminLoginRow{{Device: "Ada's <laptop>", IP: "192.0.2.7", LastSeen: "x", LastSeenISO: "y", Token: true}},
			Events:   []eventRow{{At: "x", AtISO: "y", Type: "login.succeeded", UserID: "u1", IP: "192.0.2.7", Detail: "mode=session"}},
			AuditURL: "/auth/admin/audit?user=u1", User: "u1", Type: "login.failed", Types: []string{"login.failed", "logout"},
			Factors: gatehouse.Factors{TOTP: true, RecoveryCodesLeft: 7},
			Apps: &adminAppsView{
				Apps: []adminAppRow{{ID: "c1", Name: "Wiki <&>", RedirectURIs: []string{"https://wiki.example.com/cb?a=1&b=2"}, PostLogoutURIs: []string{"https://wiki.example.com/"}, Public: true, Trusted: true}},
				Name: `"x"`, RedirectURIs: "https://a.example.com/cb\nhttps://b.example.com/cb", Trusted: true,
				Added: &adminAppRow{ID: "c2", Name: "New", Secret: "s3cret"},
			},
		}
		rows := []loginRow{{ID: "l1", Device: "Ada's <laptop>", IP: "192.0.2.7", LastSeenAt: now, CreatedAt: now, Current: true}, {ID: "l2", Token: true}, {ID: "l3", Device: "Grafana", App: true}}
		for _, p := range []page{
			{Title: "signin.title", User: user, Form: form{Email: `"x"@example.com`, RD: "/auth/account?x=1&y=2", Remember: true}, Signup: true, ReturnHost: "app.example.com"},
			{Title: "signin.title", Error: m.T("error.invalid_credentials"), Invalid: "password", User: user, Logo: true},
			{Title: "account.title", User: user, Notice: "done", Logins: rows, OtherLogins: true, LoginsHTML: loginsHTML(m, rows), Logo: true},
			{Title: "account.title", User: user, Error: "weak", Invalid: "new_password", Logins: rows[:1], LoginsHTML: loginsHTML(m, rows[:1])},
			{Title: "forbidden.title", User: user, Base: "https://auth.example.com", Permission: "orders:read", SwitchURL: "https://auth.example.com/auth/signin?rd=x", Logo: true},
			{Title: "error.title", User: user, Error: "e", Invalid: "email"},
			// The second factors' pages, and the account page's card in
			// each state.
			{Title: "mfa.title", User: user, Form: form{RD: "https://app.example.com/?a=1&b=2"}, MFA: &mfaView{Token: "tok<&>"}},
			{Title: "mfa.title", User: user, Error: m.T("error.invalid_code"), Invalid: "recovery_code", MFA: &mfaView{Token: "tok", Recovery: true}},
			{Title: "totp.title", User: user, MFA: &mfaView{
				QR: "data:image/png;base64,iVBORw0KGgo=", URI: "otpauth://totp/example.com:ada%2Btest%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=example.com",
				Secret: "JBSWY3DPEHPK3PXP", Groups: []string{"JBSW", "Y3DP", "EHPK", "3PXP"},
				Factors: gatehouse.Factors{TOTPPending: true},
			}, Logins: rows, LoginsHTML: loginsHTML(m, rows)},
			{Title: "totp.title", User: user, Error: m.T("error.invalid_code"), Invalid: "code", MFA: &mfaView{}, LoginsHTML: loginsHTML(m, nil)},
			{Title: "codes.title", User: user, Notice: m.T("notice.totp_enabled"), MFA: &mfaView{
				Codes: []string{"7m2k-q9xd-4hpt-0w1b", "0000-1111-2222-3333"}, Download: "data:text/plain;charset=utf-8,Codes%0A7m2k-q9xd-4hpt-0w1b",
				Factors: gatehouse.Factors{TOTP: true, RecoveryCodesLeft: 2},
			}, Invalid: "codes_password", LoginsHTML: loginsHTML(m, rows)},
			{Title: "account.title", User: user, Invalid: "remove_password", MFA: &mfaView{Factors: gatehouse.Factors{TOTP: true, RecoveryCodesLeft: 10}}},
			// OpenID Connect: the consent page, and apps with access.
			{Title: "consent.title", User: user, Consent: &consentView{ID: "req<&>", App: `Grafana "<b>"`, Scopes: scopeKeys(gatehouse.AppScopes)}},
			{Title: "account.title", User: user, Apps: []appRow{{ID: "app1", Name: "Gitea & co", Scopes: []string{"scope.openid", "scope.email"}, Granted: "2026-12-03 10:00 UTC", GrantedISO: "2026-12-03T10:00:00Z"}}},
		} {
			p.L, p.Lang, p.Brand, p.Admin = m, lang, brand, admin
			p.CanAdmin, p.CanAudit = p.User != nil, p.User != nil
			for _, name := range pageNames {
				var a, b bytes.Buffer
				if err := fixed[lang][name].ExecuteTemplate(&a, "layout", &p); err != nil {
					t.Fatalf("%s %s: %v", lang, name, err)
				}
				if err := plain[name].ExecuteTemplate(&b, "layout", &p); err != nil {
					t.Fatalf("%s %s: %v", lang, name, err)
				}
				if a.String() != b.String() {
					t.Errorf("%s %s (%s): the page with fixed words differs:\n%s\nwant:\n%s", lang, name, p.Title, a.String(), b.String())
				}
			}
		}
	}
}

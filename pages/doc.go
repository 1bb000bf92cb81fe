// Package pages serves Gatehouse's HTML pages under /auth/: sign in (with
// its second step, for a user with an authenticator app), sign up, sign
// out, the email flows, the account page (address, password, two-step
// sign-in, logins), and the admin pages under /auth/admin/, for
// browsers, working without JavaScript.
//
// Second factors: when Service.Login answers mfa_required, the sign-in
// answers 401 with a page that asks for a code from the authenticator app
// or a recovery code and posts it, with the step's token, to
// /auth/signin/mfa (Service.LoginMFA); the cookie is then set exactly as
// for a one-step sign-in. The account page sets up an authenticator app
// (its QR code as a data: image, its secret to type by hand, then a code
// to confirm it), shows the ten recovery codes once, with a data: link
// to download them, and makes new ones or removes the app, each behind
// the password (which the Service waives after a recent two-factor
// sign-in). Secrets and codes travel only in POST bodies and in the
// answers to them, never in a URL or a log.
//
// Passkeys, when the Service has them (Service.PasskeysEnabled): the
// account page lists them (name, added, last used, synced), renames and
// removes them (the password, waived after a recent two-factor sign-in)
// and adds one; the sign-in form has "Sign in with a passkey"; and the
// second step offers "Use a passkey" to a user who has one (and only that
// to a user without an authenticator app). Each ceremony is a page whose
// form carries the Service's options in a data-options attribute:
// static/webauthn.js, the pages' only script, asks the browser for the
// passkey when the form is submitted, puts the credential (its toJSON()
// form) in the form's hidden "credential" field and submits it, a plain
// POST. Only those pages allow the script (script-src 'self'); without
// passkeys their routes answer 403 passkeys_disabled.
//
// The admin pages are for users:admin (gatehouse.PermUsersAdmin): find
// users by the start of their email, and on one user's page see their
// roles, state, live logins and recent audit events, disable or enable
// them, set their roles, sign them out everywhere, send them a reset
// link, and see and remove their second factors; and for audit:read
// (gatehouse.PermAuditRead): the audit log, by user and by type. They
// check the same permissions as the JSON API's admin endpoints, act
// through the same Service methods with the admin named in the audit
// events (httpapi.Config.Actor), and answer a signed-in user without the
// permission with a 403 page. The nav links to them only for a user who
// may use them.
//
// Like httpapi, it is a face and holds no rule of its own: every action
// goes through the same gatehouse.Service methods as the JSON API, so
// throttling, audit events and error codes are the same by construction.
// It shares httpapi's session cookie (httpapi.Cookie), client address
// (httpapi.Config.Client) and code-to-status mapping (httpapi.Status), and
// the rule of where a sign-in may return to (gatehouse.ReturnURLs).
//
// Every page answers with a strict Content-Security-Policy (no script
// but webauthn.js on the passkeys' pages, no inline script or style; form-action lists the origins a sign-in may return
// to, since Chromium applies it to the redirect that answers a form's
// POST), Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff
// and Cache-Control: no-store. Every POST is refused with 403, and
// nothing changed, when http.CrossOriginProtection refuses it, as the
// JSON API does. The words come from a catalogue (English, French)
// chosen by Accept-Language.
//
// Later pages have their places: more ways to sign in beside sign-in
// (the "signin-extra" block), apps with access on the account page (the
// "account-extra" block, after the passkeys' card), and a user's passkeys
// on their admin page (the "admin-user-extra" block).
package pages

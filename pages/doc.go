// Package pages serves Gatehouse's HTML pages under /auth/: sign in, sign
// up, sign out and the account page (password, logins), for browsers,
// working without JavaScript.
//
// Like httpapi, it is a face and holds no rule of its own: every action
// goes through the same gatehouse.Service methods as the JSON API, so
// throttling, audit events and error codes are the same by construction.
// It shares httpapi's session cookie (httpapi.Cookie), client address
// (httpapi.Config.Client) and code-to-status mapping (httpapi.Status), and
// the rule of where a sign-in may return to (gatehouse.ReturnURLs).
//
// Every page answers with a strict Content-Security-Policy (no inline
// script or style; form-action lists the origins a sign-in may return
// to, since Chromium applies it to the redirect that answers a form's
// POST), Referrer-Policy: no-referrer, X-Content-Type-Options: nosniff
// and Cache-Control: no-store. Every POST is refused with 403, and
// nothing changed, when http.CrossOriginProtection refuses it, as the
// JSON API does. The words come from a catalogue (English, French)
// chosen by Accept-Language.
//
// Later pages have their places: recovery and email verification beside
// sign-in (the "signin-extra" block), second factors, passkeys, email and
// apps with access on the account page (the "account-extra" block), and
// the admin pages under /auth/admin/ (the nav in layout.html).
package pages

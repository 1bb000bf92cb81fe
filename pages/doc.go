// Package pages serves Gatehouse's HTML pages under /auth/: sign in, sign
// up, sign out and the account page (password, logins), and the admin
// pages under /auth/admin/, for browsers, working without JavaScript.
//
// The admin pages are for users:admin (gatehouse.PermUsersAdmin): find
// users by the start of their email, and on one user's page see their
// roles, state, live logins and recent audit events, disable or enable
// them, set their roles and sign them out everywhere; and for audit:read
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
// apps with access on the account page (the "account-extra" block), and a
// user's second factors and "send a reset email" on their admin page (the
// "admin-user-extra" block).
package pages

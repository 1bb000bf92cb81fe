// Package oidc is Gatehouse's OpenID Connect provider face: other apps
// (oauth2-proxy, Grafana, Gitea, any OpenID Connect client) sign their
// users in with Gatehouse through the authorization code flow.
//
// The protocol is not written here: it is the op package of
// github.com/zitadel/oidc/v3, which is OpenID Certified. This package
// gives it its Storage, implemented over the root Service only (it
// imports the root, token and httpapi, never a store), so that every rule
// stays in the Service: an app's sign-in is a Gatehouse login of mode
// oidc, listed in the user's logins, revocable, on the revocation feed,
// with refresh tokens that rotate by the rule of token logins.
//
// What it adds to the library: the bridge between the library and the
// sign-in pages (GET /oauth2/continue, the library's login URL), which
// reads the browser's session and sends it through sign-in, step-up and
// consent as the request needs; the iss parameter of RFC 9207 in every
// authorization response; a discovery document made once and served
// from memory; and RP-initiated logout that ends the app's login and the
// browser's session (see New).
package oidc

// Package guard protects a Go web application with Gatehouse: it is
// net/http middleware that lets a request through only when it is signed
// in, and hands the handler who the user is. It works with the standard
// library's ServeMux, chi or anything else built on http.Handler, and
// needs nothing of Gatehouse but its URL.
//
//	g, err := guard.New(ctx, "https://auth.example.com",
//		guard.WithServiceAccount("shop@example.com", password))
//	if err != nil { ... }
//	defer g.Close()
//	mux.Handle("GET /me", g.Authenticate(me))              // any signed-in user
//	mux.Handle("POST /cart", g.Require("cart:write")(cart)) // and a permission
//
//	// in a handler:
//	u, _ := guard.UserFrom(r.Context())
//	if u.Can("orders:read") { ... }
//
// # Two credentials
//
// A request signs in with one of the two credentials Gatehouse issues.
//
// The session cookie (a browser that signed in with "mode":"session") is
// checked by asking Gatehouse, GET /v1/verify with that cookie alone. The
// answer, yes or no, is cached for WithSessionCache (5 s by default), so a
// revoked session is refused at the latest that long after the revocation
// (plus about a second when it was revoked by another Gatehouse process,
// such as the CLI). The cookie's name must be the server's: see
// WithCookieName. A state-changing request with the cookie must come from
// the application's own origin (http.CrossOriginProtection), as on the
// server.
//
// A bearer access token (Authorization: Bearer, from a "mode":"token"
// login) is checked here, without a call: its signature against the key
// set Gatehouse publishes at /.well-known/jwks.json, its issuer, audience
// and dates. A verified token is remembered until it expires, so the next
// request with it costs a hash of its signature and a map lookup. The key
// set is fetched by New, refreshed in the background as its Cache-Control
// says, and fetched again when a token names a key it does not hold (after
// `gatehouse keys rotate`), at most once every 10 seconds whatever the
// number of such tokens.
//
// # Revocation
//
// A signature cannot tell that a login was revoked. Without a service
// account, a revoked login's access token is therefore accepted until it
// expires: up to the server's --access-ttl, 10 minutes by default. With
// WithServiceAccount, the Guard signs in as that account (a user with the
// "service" role) and follows Gatehouse's revocation feed as a stream of
// server-sent events: a revoked login's tokens are refused within about a
// second, and a token issued before its user's roles changed is refused
// with 401 invalid_token so that the client refreshes it and gets the new
// roles; the Gatehouse server judges such a token by the same rule,
// gatehouse.RolesStale, so the two agree. The Guard keeps the account's
// token fresh and reconnects on its own, resuming where the stream
// stopped.
//
// # Failing closed
//
// No request goes through unchecked. When Gatehouse cannot answer about a
// cookie, the request gets 503. When the revocation feed has been
// disconnected for longer than WithFeedMaxStale (30 s by default), bearer
// requests get 503 until it is back, since a revocation could have been
// missed. Bearer tokens need Gatehouse for nothing else: they keep working
// while it is briefly away, with the key set already fetched.
//
// Every refusal is RFC 9457 problem details, as Gatehouse writes them;
// see Guard.Authenticate for the list.
package guard

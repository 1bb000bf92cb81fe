// Package shop is Gatehouse Goods, the demo shop that `gatehouse demo`
// runs beside a Gatehouse server: a catalogue, product pages, a cart, a
// checkout, orders, sign-up, sign-in and sign-out, rendered on the server
// with html/template, plus a small script for token mode.
//
// It is the reference application of Gatehouse and uses it the way any
// outside application would: through the guard package and Gatehouse's
// HTTP API, at a base URL, and nothing else of this module. Both ways of
// being remembered work:
//
//   - session mode: the browser holds Gatehouse's HttpOnly session cookie,
//     and every request of the shop is checked by guard, which asks
//     Gatehouse about the cookie;
//   - token mode: the page's script signs in for tokens, keeps the access
//     token in memory and the refresh token in IndexedDB, refreshes
//     under a Web Lock so that two tabs never present the same refresh
//     token, and calls the shop with Authorization: Bearer, which guard
//     verifies locally (following Gatehouse's revocation feed).
//
// Cart, orders and permissions (cart:read, cart:write, orders:read,
// orders:write) are enforced here, on the server, in both modes. A guest
// fills a cart under the shop's own cookie; signing in merges it into the
// account's cart.
//
// Carts and orders live in a SQLite file of the shop's own (Store), so a
// cart survives page loads, restarts and the sign-in itself.
package shop

// Package token issues and checks Gatehouse access tokens: JWS compact JWTs
// (RFC 7519) in the RFC 9068 profile, with header typ "at+jwt". It also
// makes signing keys, seals their private halves at rest (Sealer) and
// renders the public halves as a JWKS. It imports nothing else from
// Gatehouse.
//
// Signing uses EdDSA (Ed25519) by default; ES256 and RS256 (2048-bit keys,
// see RSABits) are there for clients that cannot verify EdDSA. A Verifier
// accepts only the keys it is given, each only with its own algorithm, and
// only tokens of its issuer and audience; see Verifier.Verify for the list
// of refusals and the Err* sentinels for why a token was refused.
//
// # golang-jwt
//
// Tokens are written and read by github.com/golang-jwt/jwt/v5: Sign has it
// encode and sign the header and claims, and Verify runs its Parser, with
// the accepted algorithms, issuer, audience, leeway, clock, the iat check
// and a required exp as options, the header checks (typ, kid, crit) in its
// key function and the claims decoded into a typed struct. The package
// parses and signs no JWT itself; what it adds is the claims type, which
// reads member names exactly and requires the claims Gatehouse needs.
//
// compare_test.go verifies the same Ed25519 token with golang-jwt,
// lestrrat-go/jwx/v3 and go-jose/v4, each with typed claims, a pinned key
// and a pinned algorithm, beside raw ed25519.Verify (on a shared 2-vCPU AMD
// EPYC, Go 1.26; fastest of 15 interleaved runs, as the machine was noisy;
// ratio to the floor):
//
//	ed25519.Verify alone          64.7 µs        0 B    0 allocs  1.00
//	split + base64 + Verify       65.5 µs      800 B    4 allocs  1.01
//	golang-jwt v5.3.1             78.0 µs     3561 B   62 allocs  1.21
//	go-jose v4.1.9                89.6 µs     8712 B  125 allocs  1.39
//	jwx v3.4.0, one pinned key   113.1 µs    20050 B  274 allocs  1.75
//	jwx v3.4.0, key set by kid   129.2 µs    23046 B  347 allocs  2.00
//
// golang-jwt is the fastest, the smallest and the most used. Verify costs
// a little more than its row, for reading member names exactly (below):
// 4144 B and 80 allocations, and 1.18 times ed25519.Verify alone where
// golang-jwt with its RegisteredClaims took 1.15 (10th percentiles of
// 20,000 single verifications of each, interleaved one by one, on the same
// kind of machine, busy). By the same measure a token not seen before,
// checked through the HTTP handler (httpapi's
// BenchmarkTokenCheck/handler-uncached), took 1.26 to 1.29 times the
// floor of ed25519.Verify plus a trivial handler, and 1.30 by the medians
// of ten go test -bench runs, against a budget of 1.35.
//
// # Member names are case-sensitive
//
// encoding/json, decoding into a struct, matches member names without
// regard to case, and even to some Unicode foldings (U+017F, the long s,
// is an s): decoded that way, the members "Sub", "SID", "ROLES", "Scope"
// and "ſub" of a token would be read as sub, sid, roles, scope and sub.
// JSON names are case-sensitive, so the claims type decodes the claims
// into an interface value, a map that keeps names as written, and takes
// its members from it (accessClaims.UnmarshalJSON); header members are
// read from golang-jwt's map, as written too.
//
// # ES256 tokens have two spellings
//
// An ECDSA signature (r, s) verifies as (r, n-s) too, so whoever holds an
// ES256 token can write a second token, with the same header and claims,
// that Verify accepts. (An Ed25519 signature has no second form: Go's
// ed25519.Verify refuses a non-canonical s. Nor has an RSA PKCS #1 v1.5
// one, which the key and the input fix. And Verify refuses non-canonical
// base64 and line breaks, which decoders skip.) Verify does not refuse the
// high-s half of ES256 signatures, because
//
//   - golang-jwt signs with ecdsa.Sign, which makes either half, so Sign
//     would need a signing method of its own and Verify a check beside the
//     Parser's;
//   - a verifier that refused them, such as a Guard, would refuse about
//     half the ES256 tokens of a server that signs with ecdsa.Sign as it
//     is, as Gatehouse servers of earlier releases do; and
//   - other verifiers (Node jose, go-jose) accept both, so one spelling
//     could not be promised to them anyway.
//
// Instead, nothing relies on a token having one spelling. The second one
// carries the same claims under the same key, so it grants nothing the
// first does not. The verified-token caches, the gatehouse package's
// (keyed by the token's hash) and guard's (by its signature's), take it
// for a token not seen before and verify it in full, and revocation, stale
// roles and the revocation feed go by sid and sub, on every request, after
// the cache; no check keys replays on a token's bytes.
// TestMalleatedES256TokenOfRevokedLoginIsRefused, in the gatehouse
// package, holds the malleated token of a revoked login refused.
//
// Regenerate the library figures with
//
//	go test -run x -bench . -benchmem ./token/
package token

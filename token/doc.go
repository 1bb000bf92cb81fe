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
// # Why golang-jwt
//
// Tokens go through github.com/golang-jwt/jwt/v5. compare_test.go verifies
// the same Ed25519 token with golang-jwt, lestrrat-go/jwx/v3 and
// go-jose/v4, each with typed claims, a pinned key and a pinned algorithm,
// beside raw ed25519.Verify (on a shared 2-vCPU AMD EPYC, Go 1.26; fastest
// of 15 interleaved runs, as the machine was noisy; ratio to the floor):
//
//	ed25519.Verify alone          64.7 µs        0 B    0 allocs  1.00
//	split + base64 + Verify       65.5 µs      800 B    4 allocs  1.01
//	golang-jwt v5.3.1             78.0 µs     3561 B   62 allocs  1.21
//	go-jose v4.1.9                89.6 µs     8712 B  125 allocs  1.39
//	jwx v3.4.0, one pinned key   113.1 µs    20050 B  274 allocs  1.75
//	jwx v3.4.0, key set by kid   129.2 µs    23046 B  347 allocs  2.00
//	this package's Verify         76.8 µs     2912 B   48 allocs  1.19
//
// golang-jwt is the fastest and the smallest, the most used and the one
// whose API fits: a Parser built once, a Keyfunc that pins kid and alg, a
// typed claims struct decoded once. Verify stays within its budget of 1.25
// times raw ed25519.Verify because its claims type decodes plain numbers
// and strings instead of golang-jwt's RegisteredClaims, whose dates and
// audience each run a second json.Unmarshal (48 allocations instead of 62).
// Regenerate the figures with
//
//	go test -run x -bench . -benchmem ./token/
package token

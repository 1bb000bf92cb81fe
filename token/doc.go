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
// # Why golang-jwt, and why by hand
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
//	Verify on golang-jwt's Parser 76.8 µs     2912 B   48 allocs  1.19
//	this package's Verify               —     1024 B    6 allocs  1.05
//
// The last row was measured later, when other jobs kept the machine too
// busy for timings, so its ratio is one of CPU time in a profile: Verify
// against the ed25519.Verify inside it (the same method gives 1.19 for the
// row above it, as its timing did).
//
// golang-jwt is the fastest, the smallest and the most used, and its
// signing methods (EdDSA, ES256 with its r||s signatures, RS256) are what
// Sign and Verify use. Its Parser is not: a token check with a token not
// seen before has a budget of 1.25 times raw ed25519.Verify plus a trivial
// HTTP handler, and the Parser alone took 1.19 of it, decoding the header
// into a map and the claims with encoding/json, before the signature was
// even checked. So Verify parses tokens itself, in three steps:
//
//   - A server accepts only tokens it issued, so the header segment of a
//     good token is one Sign writes for one of the keys, byte for byte: a
//     map from that segment to the key replaces decoding the header. Any
//     other header is decoded and checked in full, as golang-jwt with this
//     package's key function did, so what is refused (alg none, HMAC, an
//     unknown kid, an alg not the key's, typ, crit) and what is accepted
//     (typ application/at+jwt, extra header members) is as before.
//   - The signature is checked over the raw signing input before the
//     claims are read, so no claims JSON is decoded unless its signer holds
//     one of the keys.
//   - The claims are read once into a typed struct: in one pass when they
//     are spelled as Sign writes them, else by encoding/json, whose result
//     the one-pass reader must match (FuzzScanClaims).
//
// One refusal is new: a line break in the signature, which base64 decoders
// skip, so that a token has one spelling and one entry in a cache keyed by
// its hash.
//
// Sign writes tokens itself too, the same bytes golang-jwt wrote
// (TestSignGolden, TestSignHeaderIsGolangJWTs), so that the header Verify
// looks for is made by the same function, and clients verify the tokens as
// before (TestLibrariesVerify; Node jose and go-jose in e2e). Regenerate
// the figures with
//
//	go test -run x -bench . -benchmem ./token/
package token

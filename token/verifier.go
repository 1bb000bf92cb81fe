package token

import (
	"crypto"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenBytes is the longest token Verify reads; longer ones are refused
// before any decoding.
const MaxTokenBytes = 8 << 10

// MaxLeeway is the most clock skew a Verifier ever allows.
const MaxLeeway = 60 * time.Second

// The errors Verify returns wrap one of these, for errors.Is. Whatever the
// reason, the caller's answer is the same (401 invalid_token); the reasons
// are told apart for logs and metrics.
var (
	// ErrTooLarge: the token is longer than MaxTokenBytes.
	ErrTooLarge = errors.New("token: too large")
	// ErrMalformed: not a JWS compact JWT of ours: wrong number of segments,
	// bad base64 or JSON, a "typ" other than at+jwt, or a "crit" header.
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey: no "kid", a kid that is not in the key set, or an "alg"
	// that is not the algorithm of the key the kid names.
	ErrUnknownKey = errors.New("token: unknown key")
	// ErrSignature: the signature does not verify, or "alg" names an
	// algorithm this package never accepts (none, HMAC and any other).
	ErrSignature = errors.New("token: bad signature")
	// ErrExpired: "exp" has passed, leeway included.
	ErrExpired = errors.New("token: expired")
	// ErrNotYetValid: "nbf" or "iat" is in the future, leeway included.
	ErrNotYetValid = errors.New("token: not yet valid")
	// ErrInvalidClaims: wrong "iss", "aud" without the audience, or a
	// required claim (exp, iat, sub, sid, jti) missing.
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// refusal is an error this package decides inside a golang-jwt callback.
// Verify returns it as it is instead of inside golang-jwt's wrapping.
type refusal struct{ error }

// publicKey is a verification key pinned to the one algorithm it signs with.
type publicKey struct {
	alg string
	key crypto.PublicKey
}

// Verifier checks access tokens against a pinned key set, issuer and
// audience. It is safe for concurrent use; SetKeys swaps the key set
// atomically, so Verify takes no lock. Make one with NewVerifier.
type Verifier struct {
	issuer   string
	audience string
	parser   *jwt.Parser
	keyfunc  jwt.Keyfunc // v.key, bound once rather than at every Verify
	keys     atomic.Pointer[map[string]publicKey]
}

// NewVerifier returns a Verifier that accepts tokens issued by issuer for
// audience and signed by a key given to SetKeys (it has none until then).
// leeway is the clock skew allowed on exp, nbf and iat, clamped to
// [0, MaxLeeway]; now is the clock, time.Now when nil. A Verifier with an
// empty issuer or audience refuses every token rather than skip the check.
func NewVerifier(issuer, audience string, leeway time.Duration, now func() time.Time) *Verifier {
	leeway = min(max(leeway, 0), MaxLeeway)
	if now == nil {
		now = time.Now
	}
	v := &Verifier{issuer: issuer, audience: audience}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{EdDSA, ES256, RS256}),
		jwt.WithStrictDecoding(),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	)
	v.keyfunc = v.key
	v.SetKeys(nil)
	return v
}

// SetKeys replaces the key set. Only the public halves, each pinned to its
// key's algorithm, are kept; every key must therefore have its Private key.
// Tokens whose kid is no longer in the set are refused from the next Verify
// on. Of keys that share an ID, the last one counts.
func (v *Verifier) SetKeys(keys []Key) {
	set := make(map[string]publicKey, len(keys))
	for _, k := range keys {
		set[k.ID] = publicKey{alg: k.Alg, key: k.Public()}
	}
	v.keys.Store(&set)
}

// Verify checks tok and returns its claims; Claims.Audience is the
// Verifier's audience, which the token's "aud" contains. The signature is
// checked with the key the header's kid names, and only with that key's
// algorithm; no key material in the token (jwk, jku, x5c, x5u) is ever used.
// The error wraps one of the Err* sentinels above.
func (v *Verifier) Verify(tok string) (Claims, error) {
	if len(tok) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(tok))
	}
	if v.issuer == "" || v.audience == "" {
		return Claims{}, fmt.Errorf("%w: verifier has no issuer or audience", ErrInvalidClaims)
	}
	var c accessClaims
	if _, err := v.parser.ParseWithClaims(tok, &c, v.keyfunc); err != nil {
		return Claims{}, classify(err)
	}
	return Claims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  v.audience,
		ID:        c.ID,
		SessionID: c.SessionID,
		Email:     c.Email,
		Roles:     c.Roles,
		Scope:     c.Scope,
		IssuedAt:  c.IssuedAt.asTime(),
		NotBefore: c.NotBefore.asTime(),
		ExpiresAt: c.ExpiresAt.asTime(),
	}, nil
}

// key is the golang-jwt Keyfunc: it checks the header and picks the key.
// golang-jwt has already refused an alg outside EdDSA, ES256 and RS256.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, refusal{fmt.Errorf("%w: crit header", ErrMalformed)}
	}
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, refusal{fmt.Errorf("%w: typ %q is not at+jwt", ErrMalformed, typ)}
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, refusal{fmt.Errorf("%w: no kid", ErrUnknownKey)}
	}
	k, ok := (*v.keys.Load())[kid]
	if !ok {
		return nil, refusal{fmt.Errorf("%w: kid %q is not in the key set", ErrUnknownKey, kid)}
	}
	if alg := t.Method.Alg(); alg != k.alg {
		return nil, refusal{fmt.Errorf("%w: alg %q is not the alg of key %q", ErrUnknownKey, alg, kid)}
	}
	return k.key, nil
}

// classify turns a golang-jwt error into one that wraps our sentinels and
// not golang-jwt's, which are no part of this package's API.
func classify(err error) error {
	var r refusal
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %v", ErrExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: %v", ErrNotYetValid, err)
	case errors.As(err, &r):
		return r.error
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return fmt.Errorf("%w: %v", ErrSignature, err)
	default:
		return fmt.Errorf("%w: %v", ErrInvalidClaims, err)
	}
}

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
	// bad or non-canonical base64, a line break, bad JSON or a claim of the
	// wrong type, a "typ" other than at+jwt, or a "crit" header.
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
	// ErrInvalidClaims: wrong "iss", "aud" without the audience, a
	// required claim (exp, iat, sub, sid, jti) missing, or a date before
	// 1970 or after 9999.
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// publicKey is a verification key pinned to the one algorithm it signs
// with. A key whose alg is none of EdDSA, ES256 and RS256, or whose type
// does not fit its alg, verifies nothing.
type publicKey struct {
	alg string
	key crypto.PublicKey
}

// newPublicKey pins key to alg.
func newPublicKey(alg string, key crypto.PublicKey) *publicKey {
	return &publicKey{alg: alg, key: key}
}

// keySet maps each kid to its key. SetKeys and SetPublicKeys make one and
// swap it in whole; it is never modified.
type keySet map[string]*publicKey

func newKeySet(pub map[string]*publicKey) *keySet {
	s := keySet(pub)
	return &s
}

// Verifier checks access tokens against a pinned key set, issuer and
// audience. It is safe for concurrent use; SetKeys swaps the key set
// atomically, so Verify takes no lock. Make one with NewVerifier.
type Verifier struct {
	issuer   string
	audience string
	parser   *jwt.Parser
	keyFunc  jwt.Keyfunc // v.key, made once
	keys     atomic.Pointer[keySet]
}

// NewVerifier returns a Verifier that accepts tokens issued by issuer for
// audience and signed by a key given to SetKeys (it has none until then).
// leeway is the clock skew allowed on exp, nbf and iat, clamped to
// [0, MaxLeeway]; now is the clock, time.Now when nil. A Verifier with an
// empty issuer or audience refuses every token rather than skip the check.
func NewVerifier(issuer, audience string, leeway time.Duration, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	v := &Verifier{issuer: issuer, audience: audience}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{EdDSA, ES256, RS256}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithLeeway(min(max(leeway, 0), MaxLeeway)),
		jwt.WithTimeFunc(now),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
	)
	v.keyFunc = v.key
	v.SetKeys(nil)
	return v
}

// SetKeys replaces the key set. Only the public halves, each pinned to its
// key's algorithm, are kept; every key must therefore have its Private key.
// Tokens whose kid is no longer in the set are refused from the next Verify
// on. Of keys that share an ID, the last one counts.
func (v *Verifier) SetKeys(keys []Key) {
	set := make(map[string]*publicKey, len(keys))
	for _, k := range keys {
		set[k.ID] = newPublicKey(k.Alg, k.Public())
	}
	v.keys.Store(newKeySet(set))
}

// Verify checks tok and returns its claims; Claims.Audience is the
// Verifier's audience, which the token's "aud" contains. The error wraps
// one of the Err* sentinels above.
//
// The token is parsed and checked by golang-jwt's Parser: strict base64url,
// an "alg" of EdDSA, ES256 or RS256, the header checks of the key function
// (see key), the signature with the key the header's kid names and only
// with that key's algorithm, then the claims. No key material in the token
// (jwk, jku, x5c, x5u) is ever used. exp is required and checked with the
// leeway, as are nbf and iat when present; iss must be the issuer, aud must
// contain the audience, and sub, sid, jti and iat must be there. Times are
// compared to the nanosecond. Claims are read by their exact, case-sensitive
// names (see accessClaims.UnmarshalJSON).
func (v *Verifier) Verify(tok string) (Claims, error) {
	if len(tok) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(tok))
	}
	if v.issuer == "" || v.audience == "" {
		return Claims{}, fmt.Errorf("%w: verifier has no issuer or audience", ErrInvalidClaims)
	}
	// Base64 decoders skip CR and LF, even strict ones.
	if strings.ContainsAny(tok, "\r\n") {
		return Claims{}, fmt.Errorf("%w: line break", ErrMalformed)
	}
	var c accessClaims
	if _, err := v.parser.ParseWithClaims(tok, &c, v.keyFunc); err != nil {
		return Claims{}, refusal(err)
	}
	return Claims{
		Issuer:        c.Issuer,
		Subject:       c.Subject,
		Audience:      v.audience,
		ID:            c.ID,
		SessionID:     c.SessionID,
		Email:         c.Email,
		EmailVerified: c.EmailVerified,
		Roles:         c.Roles,
		Scope:         c.Scope,
		ACR:           c.ACR,
		AMR:           c.AMR,
		IssuedAt:      c.IssuedAt.asTime(),
		NotBefore:     c.NotBefore.asTime(),
		ExpiresAt:     c.ExpiresAt.asTime(),
	}, nil
}

// key is the Parser's key function. It runs once the Parser has decoded
// the header and claims and accepted the alg, before the signature is
// checked: a "crit" header (no extension is understood, RFC 7515 section
// 4.1.11) or a "typ" other than at+jwt (RFC 9068 section 4; also
// application/at+jwt, in any case) is ErrMalformed; no kid, a kid not in
// the set or an alg not the key's is ErrUnknownKey.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if _, ok := t.Header["crit"]; ok {
		return nil, fmt.Errorf("%w: crit header", ErrMalformed)
	}
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrMalformed, typ)
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	k, ok := (*v.keys.Load())[kid]
	if !ok {
		return nil, fmt.Errorf("%w: kid %q is not in the key set", ErrUnknownKey, kid)
	}
	if alg := t.Method.Alg(); alg != k.alg {
		return nil, fmt.Errorf("%w: alg %q is not the alg of key %q", ErrUnknownKey, alg, kid)
	}
	return k.key, nil
}

// refusal returns the error of the Parser as one that wraps a sentinel:
// the key function's own, or the one that fits golang-jwt's. An alg that is
// not accepted (none, HMAC, unknown or absent) is ErrSignature. Of several
// failed claims checks, an expired token is ErrExpired before it is
// ErrNotYetValid, and that before ErrInvalidClaims.
func refusal(err error) error {
	var s error
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUnknownKey):
		return err
	case errors.Is(err, jwt.ErrTokenMalformed):
		s = ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		s = ErrSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		s = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		s = ErrNotYetValid
	default:
		s = ErrInvalidClaims
	}
	return fmt.Errorf("%w: %v", s, err)
}

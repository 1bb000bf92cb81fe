package token

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// bad base64 (a line break in the signature included) or JSON, a "typ"
	// other than at+jwt, or a "crit" header.
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

// segmentEncoding decodes token segments. Strict refuses non-zero padding bits, so
// that a signature has one spelling; CR and LF, which even a strict
// decoder skips, are refused by Verify.
var segmentEncoding = base64.RawURLEncoding.Strict()

// publicKey is a verification key pinned to the one algorithm it signs
// with. method is golang-jwt's implementation of alg, nil when alg is none
// of EdDSA, ES256 and RS256: such a key verifies nothing.
type publicKey struct {
	alg    string
	key    crypto.PublicKey
	method jwt.SigningMethod
}

// keySet is what SetKeys and SetPublicKeys make. byHeader maps the exact
// header segment Sign writes for each key to the key, so that a token of
// ours finds its key with one map lookup and no decoding; byKid serves the
// header of any other spelling, which is decoded and checked in full.
type keySet struct {
	byKid    map[string]*publicKey
	byHeader map[string]*publicKey
}

// newKeySet makes a key set of pub, which maps each kid to its key.
func newKeySet(pub map[string]*publicKey) *keySet {
	s := &keySet{byKid: pub, byHeader: make(map[string]*publicKey, len(pub))}
	for kid, k := range pub {
		if k.method != nil {
			s.byHeader[headerSegment(k.alg, kid)] = k
		}
	}
	return s
}

// newPublicKey pins key to alg.
func newPublicKey(alg string, key crypto.PublicKey) *publicKey {
	k := &publicKey{alg: alg, key: key}
	switch alg {
	case EdDSA, ES256, RS256:
		k.method = jwt.GetSigningMethod(alg)
	}
	return k
}

// Verifier checks access tokens against a pinned key set, issuer and
// audience. It is safe for concurrent use; SetKeys swaps the key set
// atomically, so Verify takes no lock. Make one with NewVerifier.
type Verifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	now      func() time.Time
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
	v := &Verifier{issuer: issuer, audience: audience, leeway: min(max(leeway, 0), MaxLeeway), now: now}
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
// Verifier's audience, which the token's "aud" contains. The signature is
// checked with the key the header's kid names, and only with that key's
// algorithm; no key material in the token (jwk, jku, x5c, x5u) is ever used.
// Times are compared to the nanosecond, leeway included. The error wraps
// one of the Err* sentinels above.
//
// Verify parses tokens itself and uses golang-jwt only for the signature
// algorithms: see "Why golang-jwt, and why by hand" in the package
// documentation. The claims are read only once the signature has verified.
func (v *Verifier) Verify(tok string) (Claims, error) {
	if len(tok) > MaxTokenBytes {
		return Claims{}, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(tok))
	}
	if v.issuer == "" || v.audience == "" {
		return Claims{}, fmt.Errorf("%w: verifier has no issuer or audience", ErrInvalidClaims)
	}
	header, rest, ok := strings.Cut(tok, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return Claims{}, fmt.Errorf("%w: not three segments", ErrMalformed)
	}
	keys := v.keys.Load()
	k := keys.byHeader[header]
	if k == nil {
		var err error
		if k, err = keys.fromHeader(header); err != nil {
			return Claims{}, err
		}
	}
	if strings.ContainsAny(sig, "\r\n") {
		return Claims{}, fmt.Errorf("%w: line break in the signature", ErrMalformed)
	}
	rawSig, err := segmentEncoding.DecodeString(sig)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if err := k.method.Verify(tok[:len(header)+1+len(payload)], rawSig, k.key); err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return Claims{}, err
	}
	return c.check(v.issuer, v.audience, v.now(), v.leeway)
}

// fromHeader finds the key of a header that is not spelled the way Sign
// writes it, as golang-jwt would with this package's key function: an alg
// other than EdDSA, ES256 and RS256 is ErrSignature, then a crit header or
// a typ other than at+jwt (RFC 9068, either spelling, any case) is
// ErrMalformed, and no kid, a kid not in the set or an alg not the key's
// is ErrUnknownKey.
func (s *keySet) fromHeader(header string) (*publicKey, error) {
	b, err := segmentEncoding.DecodeString(header)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	alg, _ := h["alg"].(string)
	if alg != EdDSA && alg != ES256 && alg != RS256 {
		return nil, fmt.Errorf("%w: alg %q is not accepted", ErrSignature, alg)
	}
	if _, ok := h["crit"]; ok {
		return nil, fmt.Errorf("%w: crit header", ErrMalformed)
	}
	typ, _ := h["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, fmt.Errorf("%w: typ %q is not at+jwt", ErrMalformed, typ)
	}
	kid, _ := h["kid"].(string)
	if kid == "" {
		return nil, fmt.Errorf("%w: no kid", ErrUnknownKey)
	}
	k, ok := s.byKid[kid]
	if !ok {
		return nil, fmt.Errorf("%w: kid %q is not in the key set", ErrUnknownKey, kid)
	}
	if alg != k.alg {
		return nil, fmt.Errorf("%w: alg %q is not the alg of key %q", ErrUnknownKey, alg, kid)
	}
	return k, nil
}

// check validates the claims at now and returns them as Claims: dates in
// range, then exp, nbf and iat against now with leeway, then issuer and
// audience, then the claims RFC 9068 and Gatehouse require.
func (c *accessClaims) check(issuer, aud string, now time.Time, leeway time.Duration) (Claims, error) {
	for _, d := range [...]struct {
		name string
		d    numericDate
	}{{"exp", c.ExpiresAt}, {"nbf", c.NotBefore}, {"iat", c.IssuedAt}} {
		if d.d < 0 || d.d > maxNumericDate {
			return Claims{}, fmt.Errorf("%w: %q out of range", ErrInvalidClaims, d.name)
		}
	}
	exp, nbf, iat := c.ExpiresAt.asTime(), c.NotBefore.asTime(), c.IssuedAt.asTime()
	switch {
	case c.ExpiresAt == 0:
		return Claims{}, errMissing("exp")
	case !now.Before(exp.Add(leeway)):
		return Claims{}, fmt.Errorf("%w: at %v", ErrExpired, exp)
	case c.NotBefore != 0 && now.Before(nbf.Add(-leeway)):
		return Claims{}, fmt.Errorf("%w: not before %v", ErrNotYetValid, nbf)
	case c.IssuedAt != 0 && now.Before(iat.Add(-leeway)):
		return Claims{}, fmt.Errorf("%w: issued at %v", ErrNotYetValid, iat)
	case c.Issuer != issuer:
		return Claims{}, fmt.Errorf("%w: issuer %q", ErrInvalidClaims, c.Issuer)
	case !slices.Contains(c.Audience, aud):
		return Claims{}, fmt.Errorf("%w: audience %q", ErrInvalidClaims, []string(c.Audience))
	case c.Subject == "":
		return Claims{}, errMissing("sub")
	case c.SessionID == "":
		return Claims{}, errMissing("sid")
	case c.ID == "":
		return Claims{}, errMissing("jti")
	case c.IssuedAt == 0:
		return Claims{}, errMissing("iat")
	}
	return Claims{
		Issuer:    c.Issuer,
		Subject:   c.Subject,
		Audience:  aud,
		ID:        c.ID,
		SessionID: c.SessionID,
		Email:     c.Email,
		Roles:     c.Roles,
		Scope:     c.Scope,
		IssuedAt:  iat,
		NotBefore: nbf,
		ExpiresAt: exp,
	}, nil
}

func errMissing(claim string) error {
	return fmt.Errorf("%w: no %q claim", ErrInvalidClaims, claim)
}

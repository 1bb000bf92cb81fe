package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ErrInvalidJWKS is wrapped by every error ParseJWKS returns.
var ErrInvalidJWKS = errors.New("token: invalid JWKS")

// MaxRSABits is the largest RSA key ParseJWKS accepts. The cost of an RSA
// verification grows with the key, so a bound keeps a hostile key set from
// making every verification slow; 8192 bits is beyond any key in use.
const MaxRSABits = 8192

// PublicKey is a verification key read from a JWKS: its kid, the one
// algorithm it verifies (EdDSA, ES256 or RS256) and the public key, an
// ed25519.PublicKey, an *ecdsa.PublicKey on P-256 or an *rsa.PublicKey.
type PublicKey struct {
	ID  string
	Alg string
	Key crypto.PublicKey
}

// jwkIn is one key of a JWKS as ParseJWKS reads it: the members it uses,
// read by their exact names as RFC 7517 gives them (encoding/json would
// match "KID" or "Kty" too), and whether it has a private or symmetric
// member, which is refused in any letter case.
type jwkIn struct {
	Kid, Kty, Alg, Use, Crv, X, Y, N, E string
	private                             bool
}

// privateMembers are the members of private and symmetric keys.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// UnmarshalJSON reads a key's members by their exact names; for a
// repeated member the last value counts.
func (j *jwkIn) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		return errors.New("a key must be an object")
	}
	for name := range m {
		for _, p := range privateMembers {
			j.private = j.private || strings.EqualFold(name, p)
		}
	}
	for name, dst := range map[string]*string{
		"kid": &j.Kid, "kty": &j.Kty, "alg": &j.Alg, "use": &j.Use, "crv": &j.Crv,
		"x": &j.X, "y": &j.Y, "n": &j.N, "e": &j.E,
	} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("member %q: %v", name, err)
			}
		}
	}
	return nil
}

// ParseJWKS reads a JSON Web Key Set (RFC 7517), {"keys":[...]}, as a
// Gatehouse server publishes it, into keys for Verifier.SetPublicKeys.
//
// Every key must have a kid (unique in the set), an "alg" of EdDSA, ES256
// or RS256 that matches its type, and "use" "sig" or no "use": an OKP key
// on Ed25519, an EC key on P-256 (whose point must be on the curve) or an
// RSA key of RSABits to MaxRSABits bits. Any other key fails the whole
// set, rather than being skipped as RFC 7517 section 5 allows, because a
// key this package cannot use means the server and its verifiers disagree,
// which should be loud. A key with a private or symmetric member (d, p, q,
// dp, dq, qi, oth, k) fails it too: a server that publishes its private
// key must not be trusted. An empty set is valid.
func ParseJWKS(b []byte) ([]PublicKey, error) {
	var set struct {
		Keys *[]jwkIn `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidJWKS, err)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: no \"keys\" array", ErrInvalidJWKS)
	}
	keys := make([]PublicKey, 0, len(*set.Keys))
	seen := make(map[string]bool, len(*set.Keys))
	for i, j := range *set.Keys {
		k, err := parseJWK(j)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d (kid %q): %v", ErrInvalidJWKS, i, j.Kid, err)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrInvalidJWKS, k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, nil
}

func parseJWK(j jwkIn) (PublicKey, error) {
	if j.private {
		return PublicKey{}, errors.New("has a private or symmetric member")
	}
	switch {
	case j.Kid == "":
		return PublicKey{}, errors.New("no kid")
	case j.Use != "" && j.Use != "sig":
		return PublicKey{}, fmt.Errorf("use %q is not \"sig\"", j.Use)
	}
	var (
		pub crypto.PublicKey
		err error
	)
	switch j.Kty {
	case "OKP":
		pub, err = okpKey(j)
	case "EC":
		pub, err = ecKey(j)
	case "RSA":
		pub, err = rsaKey(j)
	default:
		return PublicKey{}, fmt.Errorf("unsupported kty %q", j.Kty)
	}
	if err != nil {
		return PublicKey{}, err
	}
	if err := checkKey(j.Alg, pub); err != nil {
		return PublicKey{}, err
	}
	return PublicKey{ID: j.Kid, Alg: j.Alg, Key: pub}, nil
}

// b64 decodes a base64url member without padding; it refuses non-zero
// trailing bits, so every key has exactly one encoding.
func b64(name, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("member %q: %v", name, err)
	}
	return b, nil
}

func okpKey(j jwkIn) (crypto.PublicKey, error) {
	if j.Crv != "Ed25519" {
		return nil, fmt.Errorf("unsupported OKP curve %q", j.Crv)
	}
	x, err := b64("x", j.X)
	if err != nil {
		return nil, err
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("Ed25519 key of %d bytes, want %d", len(x), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(x), nil
}

func ecKey(j jwkIn) (crypto.PublicKey, error) {
	if j.Crv != "P-256" {
		return nil, fmt.Errorf("unsupported EC curve %q", j.Crv)
	}
	x, err := b64("x", j.X)
	if err != nil {
		return nil, err
	}
	y, err := b64("y", j.Y)
	if err != nil {
		return nil, err
	}
	// RFC 7518 section 6.2.1.2: each coordinate has the full length of
	// the curve's field, 32 bytes on P-256.
	if len(x) != 32 || len(y) != 32 {
		return nil, fmt.Errorf("P-256 coordinates of %d and %d bytes, want 32", len(x), len(y))
	}
	point := append(append([]byte{4}, x...), y...)
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
}

func rsaKey(j jwkIn) (crypto.PublicKey, error) {
	n, err := b64("n", j.N)
	if err != nil {
		return nil, err
	}
	e, err := b64("e", j.E)
	if err != nil {
		return nil, err
	}
	if len(n) > MaxRSABits/8 {
		return nil, fmt.Errorf("RSA modulus of %d bytes, want at most %d", len(n), MaxRSABits/8)
	}
	if len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("RSA exponent of %d bytes", len(e))
	}
	exp := new(big.Int).SetBytes(e).Int64()
	mod := new(big.Int).SetBytes(n)
	switch {
	case exp < 3 || exp > 1<<31-1 || exp%2 == 0:
		return nil, fmt.Errorf("RSA exponent %d is not an odd number from 3 to 2^31-1", exp)
	case mod.Bit(0) == 0:
		return nil, errors.New("RSA modulus is even")
	}
	return &rsa.PublicKey{N: mod, E: int(exp)}, nil
}

// SetPublicKeys replaces the key set with public keys, such as ParseJWKS
// returns: it is SetKeys for a verifier that holds no private keys, such as
// a service that checks Gatehouse's tokens against its JWKS. Each key
// verifies only tokens whose "alg" is its Alg; a key whose type does not
// fit its Alg verifies nothing. Of keys that share an ID, the last one
// counts.
func (v *Verifier) SetPublicKeys(keys []PublicKey) {
	set := make(map[string]*publicKey, len(keys))
	for _, k := range keys {
		set[k.ID] = newPublicKey(k.Alg, k.Key)
	}
	v.keys.Store(newKeySet(set))
}

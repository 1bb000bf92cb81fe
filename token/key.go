package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// The signing algorithms, named as in the JWS "alg" header (RFC 7518, RFC
// 8037). EdDSA is the default: its keys and signatures are small, signing and
// verifying are fast and it has no nonce to get wrong. ES256 and RS256 are for
// clients that cannot verify EdDSA.
const (
	EdDSA = "EdDSA" // Ed25519
	ES256 = "ES256" // ECDSA on P-256 with SHA-256
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
)

// RSABits is the size of the RSA keys GenerateKey makes, and the smallest
// ParseKey accepts. 2048 bits is the floor of RFC 7518 section 3.3 and is
// rated safe beyond 2030 by NIST SP 800-57; an access token lives minutes and
// its key is rotated, so the extra margin of 3072 bits would buy little for
// signatures that are a third larger and signing that is about three times
// slower. Deployments that need more choose EdDSA or ES256.
const RSABits = 2048

// Key is a signing key. ID is its "kid": random and URL-safe, it is public
// and carries no meaning. Private is an ed25519.PrivateKey for EdDSA, an
// *ecdsa.PrivateKey on P-256 for ES256 and an *rsa.PrivateKey for RS256;
// GenerateKey and ParseKey make keys that satisfy this, and Sign and JWKS
// refuse keys that do not.
type Key struct {
	ID        string
	Alg       string
	Private   crypto.Signer
	CreatedAt time.Time
}

// GenerateKey makes a new key for alg with a fresh random ID. It fails for
// any alg other than EdDSA, ES256 and RS256.
func GenerateKey(alg string, now time.Time) (Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, RSABits)
	default:
		return Key{}, fmt.Errorf("token: unsupported algorithm %q", alg)
	}
	if err != nil {
		return Key{}, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	return Key{ID: newKeyID(), Alg: alg, Private: priv, CreatedAt: now}, nil
}

// newKeyID returns 128 random bits, base64url without padding.
func newKeyID() string {
	b := make([]byte, 16)
	rand.Read(b) // crypto/rand.Read never fails since Go 1.24.
	return base64.RawURLEncoding.EncodeToString(b)
}

// Public returns the public half of the key.
func (k Key) Public() crypto.PublicKey {
	return k.Private.Public()
}

// MarshalPrivate returns the private key as PKCS #8 DER. Seal it before it
// is stored.
func (k Key) MarshalPrivate() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("token: marshal key %s: %w", k.ID, err)
	}
	return der, nil
}

// ParseKey rebuilds a key stored with MarshalPrivate. It fails when id is
// empty or when the key is not of the type alg needs (an RSA key must also
// have at least RSABits bits and an ECDSA key must be on P-256).
func ParseKey(id, alg string, pkcs8 []byte, created time.Time) (Key, error) {
	if id == "" {
		return Key{}, errors.New("token: parse key: empty key id")
	}
	priv, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return Key{}, fmt.Errorf("token: parse key %s: %w", id, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return Key{}, fmt.Errorf("token: parse key %s: %T is not a signing key", id, priv)
	}
	if err := checkKey(alg, signer.Public()); err != nil {
		return Key{}, fmt.Errorf("token: parse key %s: %w", id, err)
	}
	return Key{ID: id, Alg: alg, Private: signer, CreatedAt: created}, nil
}

// checkKey reports whether pub is a key that alg can use.
func checkKey(alg string, pub crypto.PublicKey) error {
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		if alg == EdDSA {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == ES256 && pub.Curve == elliptic.P256() {
			return nil
		}
	case *rsa.PublicKey:
		if alg == RS256 {
			if pub.N.BitLen() < RSABits {
				return fmt.Errorf("RSA key has %d bits, want at least %d", pub.N.BitLen(), RSABits)
			}
			return nil
		}
	}
	return fmt.Errorf("%T is not a key for algorithm %q", pub, alg)
}

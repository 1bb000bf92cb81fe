package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// jwk is the public part of one key, as RFC 7517 and RFC 7518 section 6
// (and RFC 8037 for OKP) spell it.
type jwk struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

// JWKS renders the public halves of keys as a JSON Web Key Set,
// {"keys":[...]}, each with kid, kty, alg and use "sig": OKP keys with crv
// Ed25519 and x, EC keys with crv P-256, x and y, RSA keys with n and e.
// It fails when a key is not of the type its algorithm needs.
func JWKS(keys []Key) ([]byte, error) {
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		j, err := publicJWK(k)
		if err != nil {
			return nil, fmt.Errorf("token: jwks: key %s: %w", k.ID, err)
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

func publicJWK(k Key) (jwk, error) {
	pub := k.Public()
	if err := checkKey(k.Alg, pub); err != nil {
		return jwk{}, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	j := jwk{Kid: k.ID, Alg: k.Alg, Use: "sig"}
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(pub)
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || x || y, each 32 bytes on P-256
		if err != nil {
			return jwk{}, err
		}
		j.Kty, j.Crv, j.X, j.Y = "EC", "P-256", b64(point[1:33]), b64(point[33:])
	case *rsa.PublicKey:
		j.Kty, j.N, j.E = "RSA", b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes())
	}
	return j, nil
}

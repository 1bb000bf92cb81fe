package token_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"testing"

	"github.com/gatehouse/gatehouse/token"
)

func TestGenerateKey(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			if k.Alg != alg || !k.CreatedAt.Equal(t0) {
				t.Errorf("Alg, CreatedAt = %q, %v; want %q, %v", k.Alg, k.CreatedAt, alg, t0)
			}
			if id, err := base64.RawURLEncoding.DecodeString(k.ID); err != nil || len(id) != 16 {
				t.Errorf("ID = %q, want 16 bytes base64url (%v)", k.ID, err)
			}
			switch pub := k.Public().(type) {
			case ed25519.PublicKey:
			case *ecdsa.PublicKey:
				if pub.Curve != elliptic.P256() {
					t.Errorf("curve = %v, want P-256", pub.Curve.Params().Name)
				}
			case *rsa.PublicKey:
				if pub.N.BitLen() != token.RSABits {
					t.Errorf("RSA bits = %d, want %d", pub.N.BitLen(), token.RSABits)
				}
			default:
				t.Errorf("public key is %T", pub)
			}
		})
	}
}

func TestGenerateKeyIDsDiffer(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		k, err := token.GenerateKey(token.EdDSA, t0)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.ID] {
			t.Fatalf("ID %q generated twice", k.ID)
		}
		seen[k.ID] = true
	}
}

func TestGenerateKeyUnknownAlg(t *testing.T) {
	for _, alg := range []string{"", "none", "HS256", "ES384", "RS512", "eddsa"} {
		if k, err := token.GenerateKey(alg, t0); err == nil {
			t.Errorf("GenerateKey(%q) = %+v, want an error", alg, k)
		}
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			der, err := k.MarshalPrivate()
			if err != nil {
				t.Fatalf("MarshalPrivate: %v", err)
			}
			got, err := token.ParseKey(k.ID, k.Alg, der, k.CreatedAt)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if got.ID != k.ID || got.Alg != k.Alg || !got.CreatedAt.Equal(k.CreatedAt) {
				t.Errorf("ParseKey = %+v, want %+v", got, k)
			}
			if !got.Private.(interface{ Equal(crypto.PrivateKey) bool }).Equal(k.Private) {
				t.Error("parsed private key differs from the original")
			}
		})
	}
}

func TestParseKeyRefuses(t *testing.T) {
	der := func(key any) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ed, err := testKey(token.EdDSA).MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, alg string
		der           []byte
	}{
		{name: "empty id", alg: token.EdDSA, der: ed},
		{name: "Ed25519 key as ES256", id: "k", alg: token.ES256, der: ed},
		{name: "Ed25519 key as RS256", id: "k", alg: token.RS256, der: ed},
		{name: "unknown alg", id: "k", alg: "HS256", der: ed},
		{name: "P-384 key as ES256", id: "k", alg: token.ES256, der: der(p384)},
		{name: "RSA 1024 key", id: "k", alg: token.RS256, der: der(rsa1024)},
		{name: "garbage", id: "k", alg: token.EdDSA, der: []byte("not DER")},
		{name: "empty", id: "k", alg: token.EdDSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := token.ParseKey(tt.id, tt.alg, tt.der, t0); err == nil {
				t.Errorf("ParseKey = %+v, want an error", k)
			}
		})
	}
}

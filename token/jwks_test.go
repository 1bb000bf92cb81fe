package token_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/gatehouse/gatehouse/token"
)

func TestJWKSShape(t *testing.T) {
	tests := []struct {
		alg     string
		members []string
		want    map[string]string
	}{
		{alg: token.EdDSA, members: []string{"alg", "crv", "kid", "kty", "use", "x"}, want: map[string]string{"kty": "OKP", "crv": "Ed25519"}},
		{alg: token.ES256, members: []string{"alg", "crv", "kid", "kty", "use", "x", "y"}, want: map[string]string{"kty": "EC", "crv": "P-256"}},
		{alg: token.RS256, members: []string{"alg", "e", "kid", "kty", "n", "use"}, want: map[string]string{"kty": "RSA", "e": "AQAB"}},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			k := testKey(tt.alg)
			b, err := token.JWKS([]token.Key{k})
			if err != nil {
				t.Fatalf("JWKS: %v", err)
			}
			var set struct {
				Keys []map[string]string `json:"keys"`
			}
			if err := json.Unmarshal(b, &set); err != nil {
				t.Fatalf("JWKS is not a key set: %v\n%s", err, b)
			}
			if len(set.Keys) != 1 {
				t.Fatalf("JWKS has %d keys, want 1", len(set.Keys))
			}
			got := set.Keys[0]
			// Only the listed members: in particular none of the private
			// ones (d, p, q, dp, dq, qi).
			if names := slices.Sorted(maps.Keys(got)); !slices.Equal(names, tt.members) {
				t.Errorf("members = %v, want %v", names, tt.members)
			}
			tt.want["kid"], tt.want["alg"], tt.want["use"] = k.ID, tt.alg, "sig"
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s = %q, want %q", name, got[name], want)
				}
			}
		})
	}
}

func TestJWKSEmpty(t *testing.T) {
	b, err := token.JWKS(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"keys":[]}`; got != want {
		t.Errorf("JWKS(nil) = %s, want %s", got, want)
	}
}

func TestJWKSRefusesMismatchedKey(t *testing.T) {
	k := testKey(token.EdDSA)
	k.Alg = token.RS256
	if b, err := token.JWKS([]token.Key{k}); err == nil {
		t.Errorf("JWKS = %s, want an error", b)
	}
}

// TestJWKSVerifiesTokens is what a relying party does: it reads the key set
// with another library (go-jose) and verifies our tokens with it.
func TestJWKSVerifiesTokens(t *testing.T) {
	keys := []token.Key{testKey(token.EdDSA), testKey(token.ES256), testKey(token.RS256)}
	b, err := token.JWKS(keys)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("go-jose cannot read the key set: %v", err)
	}
	for _, k := range keys {
		t.Run(k.Alg, func(t *testing.T) {
			found := set.Key(k.ID)
			if len(found) != 1 {
				t.Fatalf("key set has %d keys with kid %s, want 1", len(found), k.ID)
			}
			jwk := found[0]
			if !jwk.Valid() || !jwk.IsPublic() || jwk.Algorithm != k.Alg || jwk.Use != "sig" {
				t.Errorf("key: valid %v, public %v, alg %q, use %q; want true, true, %q, sig",
					jwk.Valid(), jwk.IsPublic(), jwk.Algorithm, jwk.Use, k.Alg)
			}
			parsed, err := josejwt.ParseSigned(sign(t, k, testClaims(t0)), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(k.Alg)})
			if err != nil {
				t.Fatalf("go-jose ParseSigned: %v", err)
			}
			var c josejwt.Claims
			if err := parsed.Claims(jwk.Key, &c); err != nil {
				t.Fatalf("go-jose cannot verify the token with the JWKS key: %v", err)
			}
			if c.Subject != testClaims(t0).Subject {
				t.Errorf("sub = %q, want %q", c.Subject, testClaims(t0).Subject)
			}
		})
	}
}

package token_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

// TestParseJWKSVerifies is the round trip a verifier relies on: the key
// set JWKS renders, read back by ParseJWKS, verifies tokens of each
// algorithm, and only with that key's own algorithm.
func TestParseJWKSVerifies(t *testing.T) {
	keys := []token.Key{testKey(token.EdDSA), testKey(token.ES256), testKey(token.RS256)}
	b, err := token.JWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := token.ParseJWKS(b)
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if len(pub) != len(keys) {
		t.Fatalf("ParseJWKS returned %d keys, want %d", len(pub), len(keys))
	}
	v := token.NewVerifier(testIssuer, testAudience, 30*time.Second, clock(t0))
	v.SetPublicKeys(pub)
	for i, k := range keys {
		if pub[i].ID != k.ID || pub[i].Alg != k.Alg {
			t.Errorf("key %d = %s %s, want %s %s", i, pub[i].ID, pub[i].Alg, k.ID, k.Alg)
		}
		if _, err := v.Verify(sign(t, k, testClaims(t0))); err != nil {
			t.Errorf("%s: Verify: %v", k.Alg, err)
		}
	}

	// The Ed25519 key's kid with the ES256 key's alg: refused, as with
	// SetKeys.
	ed, es := testKey(token.EdDSA), testKey(token.ES256)
	es.ID = ed.ID
	if _, err := v.Verify(sign(t, es, testClaims(t0))); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("token signed with another algorithm under a known kid: error %v, want %v", err, token.ErrUnknownKey)
	}

	v.SetPublicKeys(pub[1:])
	if _, err := v.Verify(sign(t, ed, testClaims(t0))); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("after the key left the set: error %v, want %v", err, token.ErrUnknownKey)
	}
}

func TestParseJWKSEmpty(t *testing.T) {
	pub, err := token.ParseJWKS([]byte(`{"keys":[]}`))
	if err != nil || len(pub) != 0 {
		t.Errorf("ParseJWKS(empty set) = %v, %v; want no keys and no error", pub, err)
	}
}

// TestParseJWKSRefuses checks each refusal on a key that is otherwise
// valid.
func TestParseJWKSRefuses(t *testing.T) {
	ed := jwkOf(t, testKey(token.EdDSA))
	ec := jwkOf(t, testKey(token.ES256))
	rs := jwkOf(t, testKey(token.RS256))
	b64 := base64.RawURLEncoding.EncodeToString
	set := func(keys ...map[string]any) string {
		b, err := json.Marshal(map[string]any{"keys": keys})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		jwks string
	}{
		{name: "not JSON", jwks: `{"keys":[`},
		{name: "not an object", jwks: `[]`},
		{name: "no keys", jwks: `{}`},
		{name: "keys null", jwks: `{"keys":null}`},
		{name: "key not an object", jwks: `{"keys":["x"]}`},
		{name: "member of the wrong type", jwks: set(with(ed, "x", 42))},
		{name: "private d", jwks: set(with(ed, "d", b64(make([]byte, 32))))},
		{name: "private d null", jwks: set(with(ed, "d", json.RawMessage("null")))},
		{name: "private D upper case", jwks: set(with(ed, "D", b64(make([]byte, 32))))},
		{name: "RSA private p", jwks: set(with(rs, "p", "AQAB"))},
		{name: "symmetric k", jwks: set(map[string]any{"kid": "h", "kty": "oct", "alg": "HS256", "k": "c2VjcmV0"})},
		{name: "unknown kty", jwks: set(with(ed, "kty", "XYZ"))},
		{name: "no kid", jwks: set(with(ed, "kid", nil))},
		{name: "kid only in upper case", jwks: set(with(with(ed, "kid", nil), "KID", "k1"))},
		{name: "kty only in other case", jwks: set(with(with(ed, "kty", nil), "Kty", "OKP"))},
		{name: "duplicate kid", jwks: set(ed, with(ec, "kid", ed["kid"]))},
		{name: "use enc", jwks: set(with(ed, "use", "enc"))},
		{name: "no alg", jwks: set(with(ed, "alg", nil))},
		{name: "alg none", jwks: set(with(ed, "alg", "none"))},
		{name: "alg HS256", jwks: set(with(ed, "alg", "HS256"))},
		{name: "OKP key with RS256", jwks: set(with(ed, "alg", token.RS256))},
		{name: "EC key with EdDSA", jwks: set(with(ec, "alg", token.EdDSA))},
		{name: "RSA key with PS256", jwks: set(with(rs, "alg", "PS256"))},
		{name: "OKP X25519", jwks: set(with(ed, "crv", "X25519"))},
		{name: "Ed25519 short", jwks: set(with(ed, "x", b64(make([]byte, 31))))},
		{name: "Ed25519 padded", jwks: set(with(ed, "x", ed["x"].(string)+"="))},
		{name: "Ed25519 trailing bits", jwks: set(with(ed, "x", flipLastBit(ed["x"].(string))))},
		{name: "EC P-384", jwks: set(with(ec, "crv", "P-384"))},
		{name: "EC no y", jwks: set(with(ec, "y", nil))},
		{name: "EC point off the curve", jwks: set(with(ec, "y", b64(make([]byte, 32))))},
		{name: "EC short coordinate", jwks: set(with(ec, "x", b64(make([]byte, 31))))},
		{name: "RSA 1024 bits", jwks: set(with(rs, "n", b64(oddModulus(1024))))},
		{name: "RSA beyond MaxRSABits", jwks: set(with(rs, "n", b64(oddModulus(token.MaxRSABits+8))))},
		{name: "RSA even modulus", jwks: set(with(rs, "n", b64(new(big.Int).Lsh(big.NewInt(1), 2048).Bytes())))},
		{name: "RSA exponent 1", jwks: set(with(rs, "e", "AQ"))},
		{name: "RSA even exponent", jwks: set(with(rs, "e", "AQAA"))},
		{name: "RSA exponent of 5 bytes", jwks: set(with(rs, "e", b64([]byte{1, 0, 0, 0, 1})))},
		{name: "RSA no e", jwks: set(with(rs, "e", nil))},
		{name: "one bad key fails the set", jwks: set(ed, ec, with(rs, "d", "AQAB"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := token.ParseJWKS([]byte(tt.jwks))
			if !errors.Is(err, token.ErrInvalidJWKS) {
				t.Errorf("ParseJWKS(%s) = %v, %v; want an error wrapping %v", tt.jwks, pub, err, token.ErrInvalidJWKS)
			}
		})
	}
}

// TestParseJWKSIgnoresOtherMembers: members a verifier does not use
// (x5c, key_ops, anything new) do not make a key unusable.
func TestParseJWKSIgnoresOtherMembers(t *testing.T) {
	ed := with(jwkOf(t, testKey(token.EdDSA)), "x5t#S256", "abc")
	ed = with(ed, "use", nil)
	b, _ := json.Marshal(map[string]any{"keys": []any{ed}, "extra": true})
	if _, err := token.ParseJWKS(b); err != nil {
		t.Errorf("ParseJWKS: %v", err)
	}
}

// TestFuzzCorpusJWKSSeeds keeps the FuzzParseJWKS seed corpus honest: the
// seeds named valid* parse and the others fail, so the fuzzer starts on
// both sides of every check.
func TestFuzzCorpusJWKSSeeds(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseJWKS", "*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a one-[]byte fuzz seed", path)
		}
		jwks, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_, err = token.ParseJWKS([]byte(jwks))
		if valid := strings.HasPrefix(filepath.Base(path), "valid"); valid != (err == nil) {
			t.Errorf("%s: ParseJWKS error = %v, want valid %v", path, err, valid)
		}
	}
}

// FuzzParseJWKS feeds ParseJWKS hostile key sets. Its seed corpus in
// testdata/fuzz/FuzzParseJWKS holds the key sets of TestParseJWKSRefuses
// and valid ones. ParseJWKS must not panic, must refuse with
// ErrInvalidJWKS, and may return only keys a Verifier can use: a unique
// kid and a key of the type its algorithm needs.
func FuzzParseJWKS(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := token.ParseJWKS(b)
		if err != nil {
			if !errors.Is(err, token.ErrInvalidJWKS) {
				t.Fatalf("ParseJWKS error %v does not wrap %v", err, token.ErrInvalidJWKS)
			}
			return
		}
		seen := make(map[string]bool)
		for _, k := range pub {
			if k.ID == "" || seen[k.ID] {
				t.Fatalf("key with empty or repeated kid %q", k.ID)
			}
			seen[k.ID] = true
			switch key := k.Key.(type) {
			case ed25519.PublicKey:
				if k.Alg != token.EdDSA || len(key) != ed25519.PublicKeySize {
					t.Fatalf("Ed25519 key of %d bytes with alg %q", len(key), k.Alg)
				}
			case *ecdsa.PublicKey:
				if k.Alg != token.ES256 || key.Curve.Params().Name != "P-256" {
					t.Fatalf("ECDSA key on %s with alg %q", key.Curve.Params().Name, k.Alg)
				}
			case *rsa.PublicKey:
				if bits := key.N.BitLen(); k.Alg != token.RS256 || bits < token.RSABits || bits > token.MaxRSABits {
					t.Fatalf("RSA key of %d bits with alg %q", bits, k.Alg)
				}
			default:
				t.Fatalf("key of type %T with alg %q", k.Key, k.Alg)
			}
		}
	})
}

// jwkOf returns k's public JWK as JWKS renders it, as a map to edit.
func jwkOf(t *testing.T, k token.Key) map[string]any {
	t.Helper()
	b, err := token.JWKS([]token.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	return set.Keys[0]
}

// flipLastBit changes the last base64url character of s so that only its
// unused trailing bits differ.
func flipLastBit(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i^1])
}

// oddModulus returns an odd number of exactly bits bits.
func oddModulus(bits int) []byte {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return n.SetBit(n, 0, 1).Bytes()
}

// ExampleParseJWKS is what a service that trusts Gatehouse's tokens does:
// it reads the key set the server publishes at /.well-known/jwks.json and
// verifies tokens with it, holding no private key.
func ExampleParseJWKS() {
	// The server's side, here with a key from a fixed seed.
	key := token.Key{ID: "k1", Alg: token.EdDSA, Private: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))}
	published, err := token.JWKS([]token.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	tok, err := token.Sign(key, token.Claims{
		Issuer: "https://auth.example.com", Subject: "user_123", Audience: "gatehouse",
		ID: "jti_1", SessionID: "sid_1", IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	})
	if err != nil {
		log.Fatal(err)
	}

	// The verifying service's side.
	keys, err := token.ParseJWKS(published)
	if err != nil {
		log.Fatal(err)
	}
	v := token.NewVerifier("https://auth.example.com", "gatehouse", 30*time.Second, nil)
	v.SetPublicKeys(keys)
	claims, err := v.Verify(tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keys[0].ID, keys[0].Alg, claims.Subject)

	_, err = token.ParseJWKS([]byte(`{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"c2VjcmV0"}]}`))
	fmt.Println(errors.Is(err, token.ErrInvalidJWKS))
	// Output:
	// k1 EdDSA user_123
	// true
}

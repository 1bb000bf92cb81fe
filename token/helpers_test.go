package token_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

const (
	testIssuer   = "https://auth.example.test"
	testAudience = "gatehouse"
)

// t0 is the fixed time every test runs at.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testKeys holds one key per algorithm, made once because RSA keys are slow
// to generate, above all under the race detector.
var testKeys = sync.OnceValue(func() map[string]token.Key {
	keys := make(map[string]token.Key)
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		k, err := token.GenerateKey(alg, t0)
		if err != nil {
			panic(err)
		}
		keys[alg] = k
	}
	return keys
})

func testKey(alg string) token.Key { return testKeys()[alg] }

// fixedKey is an Ed25519 key that never changes, for the fuzz corpus and
// the benchmarks.
func fixedKey() token.Key {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return token.Key{ID: "fixed-test-key", Alg: token.EdDSA, Private: ed25519.NewKeyFromSeed(seed), CreatedAt: t0}
}

// testClaims are valid claims issued at now.
func testClaims(now time.Time) token.Claims {
	return token.Claims{
		Issuer:    testIssuer,
		Subject:   "user_123",
		Audience:  testAudience,
		ID:        "jti_abc",
		SessionID: "sid_xyz",
		Email:     "ada@example.test",
		Roles:     []string{"customer"},
		Scope:     "cart:read cart:write orders:read",
		IssuedAt:  now,
		NotBefore: now,
		ExpiresAt: now.Add(10 * time.Minute),
	}
}

func newVerifier(keys ...token.Key) *token.Verifier {
	v := token.NewVerifier(testIssuer, testAudience, 30*time.Second, clock(t0))
	v.SetKeys(keys)
	return v
}

func sign(t testing.TB, k token.Key, c token.Claims) string {
	t.Helper()
	tok, err := token.Sign(k, c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// segments splits a compact JWT and decodes its header and claims as maps.
func segments(t testing.TB, tok string) (header, claims map[string]any, sig string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	return decodeSegment(t, parts[0]), decodeSegment(t, parts[1]), parts[2]
}

func decodeSegment(t testing.TB, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("decode segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("unmarshal segment: %v", err)
	}
	return m
}

func encodeSegment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal segment: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// with returns a copy of m with key set to val, or without key when val is
// nil.
func with(m map[string]any, key string, val any) map[string]any {
	m = maps.Clone(m)
	if val == nil {
		delete(m, key)
	} else {
		m[key] = val
	}
	return m
}

// craft builds a token from any header and claims, signed by signFunc over
// the signing input, so tests can make tokens Sign never would.
func craft(t testing.TB, header, claims any, signFunc func(input []byte) []byte) string {
	t.Helper()
	input := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(signFunc([]byte(input)))
}

// edSigner signs with an Ed25519 key.
func edSigner(k token.Key) func([]byte) []byte {
	priv := k.Private.(ed25519.PrivateKey)
	return func(input []byte) []byte { return ed25519.Sign(priv, input) }
}

package token_test

import (
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gjwt "github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse/gatehouse/token"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := testKey(alg)
			want := testClaims(t0)
			tok := sign(t, k, want)

			header, _, _ := segments(t, tok)
			wantHeader := map[string]any{"alg": alg, "typ": "at+jwt", "kid": k.ID}
			if !maps.Equal(header, wantHeader) {
				t.Errorf("header = %v, want %v", header, wantHeader)
			}

			got, err := newVerifier(k).Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !equalClaims(got, want) {
				t.Errorf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

func equalClaims(a, b token.Claims) bool {
	return a.Issuer == b.Issuer && a.Subject == b.Subject && a.Audience == b.Audience &&
		a.ID == b.ID && a.SessionID == b.SessionID && a.Email == b.Email && a.EmailVerified == b.EmailVerified &&
		slices.Equal(a.Roles, b.Roles) && a.Scope == b.Scope &&
		a.IssuedAt.Equal(b.IssuedAt) && a.NotBefore.Equal(b.NotBefore) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func TestSignClaimsNames(t *testing.T) {
	_, claims, _ := segments(t, sign(t, testKey(token.EdDSA), testClaims(t0)))
	want := []string{"aud", "email", "email_verified", "exp", "iat", "iss", "jti", "nbf", "roles", "scope", "sid", "sub"}
	if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, want) {
		t.Errorf("claims = %v, want %v", got, want)
	}
	if got, want := claims["exp"], float64(t0.Add(10*time.Minute).Unix()); got != want {
		t.Errorf("exp = %v, want %v (whole seconds)", got, want)
	}
	if got := claims["aud"]; got != testAudience {
		t.Errorf("aud = %v, want the string %q", got, testAudience)
	}
}

func TestSignTruncatesToSeconds(t *testing.T) {
	k := testKey(token.EdDSA)
	c := testClaims(t0.Add(900 * time.Millisecond))
	got, err := newVerifier(k).Verify(sign(t, k, c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !got.IssuedAt.Equal(t0) {
		t.Errorf("IssuedAt = %v, want %v", got.IssuedAt, t0)
	}
}

func TestSignRefuses(t *testing.T) {
	k := testKey(token.EdDSA)
	tests := []struct {
		name   string
		key    token.Key
		change func(*token.Claims)
	}{
		{name: "no issuer", key: k, change: func(c *token.Claims) { c.Issuer = "" }},
		{name: "no subject", key: k, change: func(c *token.Claims) { c.Subject = "" }},
		{name: "no audience", key: k, change: func(c *token.Claims) { c.Audience = "" }},
		{name: "no jti", key: k, change: func(c *token.Claims) { c.ID = "" }},
		{name: "no sid", key: k, change: func(c *token.Claims) { c.SessionID = "" }},
		{name: "no iat", key: k, change: func(c *token.Claims) { c.IssuedAt = time.Time{} }},
		{name: "no exp", key: k, change: func(c *token.Claims) { c.ExpiresAt = time.Time{} }},
		{name: "key without id", key: token.Key{Alg: token.EdDSA, Private: k.Private}},
		{name: "key without private key", key: token.Key{ID: "x", Alg: token.EdDSA}},
		{name: "alg not the key's", key: token.Key{ID: "x", Alg: token.ES256, Private: k.Private}},
		{name: "unknown alg", key: token.Key{ID: "x", Alg: "HS256", Private: k.Private}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClaims(t0)
			if tt.change != nil {
				tt.change(&c)
			}
			if tok, err := token.Sign(tt.key, c); err == nil {
				t.Errorf("Sign = %q, want an error", tok)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	ed := testKey(token.EdDSA)
	rs := testKey(token.RS256)
	v := newVerifier(ed, testKey(token.ES256), rs)

	valid := sign(t, ed, testClaims(t0))
	header, claims, sig := segments(t, valid)
	input := valid[:strings.LastIndexByte(valid, '.')]

	claimsWith := func(change func(*token.Claims)) token.Claims {
		c := testClaims(t0)
		change(&c)
		return c
	}

	otherKey, err := token.GenerateKey(token.EdDSA, t0)
	if err != nil {
		t.Fatal(err)
	}
	otherKey.ID = ed.ID

	hs256 := func(input []byte) []byte {
		mac := hmac.New(sha256.New, ed.Public().(ed25519.PublicKey)) // the public key as an HMAC secret
		mac.Write(input)
		return mac.Sum(nil)
	}

	// The signature with unused low bits of its last character set (they are
	// zero in canonical base64): the same bytes to a lenient decoder, refused
	// by a strict one.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	nonCanonical := input + "." + sig[:len(sig)-1] + string(alphabet[last|3])

	tests := []struct {
		name string
		tok  string
		want error
	}{
		{name: "empty", tok: "", want: token.ErrMalformed},
		{name: "garbage", tok: "not a token", want: token.ErrMalformed},
		{name: "two dots", tok: "..", want: token.ErrMalformed},
		{name: "two segments", tok: input, want: token.ErrMalformed},
		{name: "extra segment", tok: valid + "." + sig, want: token.ErrMalformed},
		{name: "oversize", tok: valid + strings.Repeat("A", token.MaxTokenBytes+1-len(valid)), want: token.ErrTooLarge},
		{name: "header not base64", tok: "!!!." + valid[strings.IndexByte(valid, '.')+1:], want: token.ErrMalformed},
		{name: "header not JSON", tok: base64.RawURLEncoding.EncodeToString([]byte("{")) + valid[strings.IndexByte(valid, '.'):], want: token.ErrMalformed},
		{name: "signature not canonical base64", tok: nonCanonical, want: token.ErrMalformed},
		{
			name: "tampered payload",
			tok:  encodeSegment(t, header) + "." + encodeSegment(t, with(claims, "sub", "admin")) + "." + sig,
			want: token.ErrSignature,
		},
		{
			name: "tampered header",
			tok:  encodeSegment(t, with(header, "typ", "AT+JWT")) + "." + encodeSegment(t, claims) + "." + sig,
			want: token.ErrSignature,
		},
		{name: "wrong key with the same kid", tok: sign(t, otherKey, testClaims(t0)), want: token.ErrSignature},
		{
			name: "jwk header with the signing key",
			tok: craft(t, with(header, "jwk", map[string]any{
				"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(otherKey.Public().(ed25519.PublicKey)),
			}), claims, edSigner(otherKey)),
			want: token.ErrSignature,
		},
		{name: "alg none", tok: craft(t, with(header, "alg", "none"), claims, func([]byte) []byte { return nil }), want: token.ErrSignature},
		{name: "HS256 with the public key as secret", tok: craft(t, with(header, "alg", "HS256"), claims, hs256), want: token.ErrSignature},
		{name: "unknown alg", tok: craft(t, with(header, "alg", "EdDSA2"), claims, edSigner(ed)), want: token.ErrSignature},
		{name: "no alg", tok: craft(t, with(header, "alg", nil), claims, edSigner(ed)), want: token.ErrSignature},
		{
			name: "RS256 token for the EdDSA key's kid",
			tok:  sign(t, token.Key{ID: ed.ID, Alg: token.RS256, Private: rs.Private}, testClaims(t0)),
			want: token.ErrUnknownKey,
		},
		{name: "unknown kid", tok: craft(t, with(header, "kid", "nope"), claims, edSigner(ed)), want: token.ErrUnknownKey},
		{name: "missing kid", tok: craft(t, with(header, "kid", nil), claims, edSigner(ed)), want: token.ErrUnknownKey},
		{name: "kid not a string", tok: craft(t, with(header, "kid", 1), claims, edSigner(ed)), want: token.ErrUnknownKey},
		{name: "typ JWT", tok: craft(t, with(header, "typ", "JWT"), claims, edSigner(ed)), want: token.ErrMalformed},
		{name: "no typ", tok: craft(t, with(header, "typ", nil), claims, edSigner(ed)), want: token.ErrMalformed},
		{name: "crit header", tok: craft(t, with(header, "crit", []string{"exp"}), claims, edSigner(ed)), want: token.ErrMalformed},
		{name: "claims not an object", tok: craft(t, header, []string{"sub"}, edSigner(ed)), want: token.ErrMalformed},
		{name: "roles not an array", tok: craft(t, header, with(claims, "roles", "admin"), edSigner(ed)), want: token.ErrMalformed},
		{name: "wrong issuer", tok: sign(t, ed, claimsWith(func(c *token.Claims) { c.Issuer = "https://evil.test" })), want: token.ErrInvalidClaims},
		{name: "wrong audience", tok: sign(t, ed, claimsWith(func(c *token.Claims) { c.Audience = "other" })), want: token.ErrInvalidClaims},
		{name: "audience array without ours", tok: craft(t, header, with(claims, "aud", []string{"a", "b"}), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no audience", tok: craft(t, header, with(claims, "aud", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no issuer", tok: craft(t, header, with(claims, "iss", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no exp", tok: craft(t, header, with(claims, "exp", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no iat", tok: craft(t, header, with(claims, "iat", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no sub", tok: craft(t, header, with(claims, "sub", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no sid", tok: craft(t, header, with(claims, "sid", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "no jti", tok: craft(t, header, with(claims, "jti", nil), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "exp after year 9999", tok: craft(t, header, with(claims, "exp", 1e300), edSigner(ed)), want: token.ErrInvalidClaims},
		{name: "iat before 1970", tok: craft(t, header, with(claims, "iat", -1), edSigner(ed)), want: token.ErrInvalidClaims},
		{
			name: "expired beyond leeway",
			tok: sign(t, ed, claimsWith(func(c *token.Claims) {
				c.IssuedAt = t0.Add(-time.Hour)
				c.NotBefore = c.IssuedAt
				c.ExpiresAt = t0.Add(-31 * time.Second)
			})),
			want: token.ErrExpired,
		},
		{
			name: "not yet valid beyond leeway",
			tok:  sign(t, ed, claimsWith(func(c *token.Claims) { c.NotBefore = t0.Add(31 * time.Second) })),
			want: token.ErrNotYetValid,
		},
		{
			name: "issued in the future beyond leeway",
			tok:  sign(t, ed, claimsWith(func(c *token.Claims) { c.IssuedAt = t0.Add(31 * time.Second); c.NotBefore = time.Time{} })),
			want: token.ErrNotYetValid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(tt.tok)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %+v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	ed := testKey(token.EdDSA)
	v := newVerifier(ed)
	valid := sign(t, ed, testClaims(t0))
	header, claims, _ := segments(t, valid)
	tests := []struct {
		name string
		tok  string
	}{
		{name: "as signed", tok: valid},
		{name: "typ application/at+jwt", tok: craft(t, with(header, "typ", "application/at+jwt"), claims, edSigner(ed))},
		{name: "typ in upper case", tok: craft(t, with(header, "typ", "AT+JWT"), claims, edSigner(ed))},
		{name: "aud a string", tok: craft(t, header, with(claims, "aud", testAudience), edSigner(ed))},
		{name: "aud an array with ours", tok: craft(t, header, with(claims, "aud", []string{"other", testAudience}), edSigner(ed))},
		{name: "no nbf", tok: craft(t, header, with(claims, "nbf", nil), edSigner(ed))},
		{name: "unknown claims and headers", tok: craft(t, with(header, "x5u", "https://evil.test/k"), with(claims, "extra", true), edSigner(ed))},
		{
			name: "expired within leeway",
			tok:  craft(t, header, with(claims, "exp", t0.Add(-29*time.Second).Unix()), edSigner(ed)),
		},
		{
			name: "not yet valid within leeway",
			tok:  craft(t, header, with(claims, "nbf", t0.Add(29*time.Second).Unix()), edSigner(ed)),
		},
		{
			name: "issued in the future within leeway",
			tok:  craft(t, header, with(claims, "iat", t0.Add(29*time.Second).Unix()), edSigner(ed)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(tt.tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// tokenOfLength returns a valid token exactly n bytes long, padded with the
// email claim, and the key that signs it: a kid one byte longer moves the
// length by one where base64 cannot.
func tokenOfLength(t *testing.T, k token.Key, n int) (token.Key, string) {
	t.Helper()
	c := testClaims(t0)
	grow := (n - len(sign(t, k, c))) * 3 / 4 // base64 makes 4 bytes of 3
	for extra := range 4 {
		kk := k
		kk.ID += strings.Repeat("x", extra)
		for pad := grow - 8; pad < grow+8; pad++ {
			c.Email = strings.Repeat("a", pad) + "@example.test"
			if tok := sign(t, kk, c); len(tok) == n {
				return kk, tok
			}
		}
	}
	t.Fatalf("no token of length %d", n)
	return token.Key{}, ""
}

func TestVerifyMaxTokenBytes(t *testing.T) {
	k, tok := tokenOfLength(t, testKey(token.EdDSA), token.MaxTokenBytes)
	v := newVerifier(k)
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("token of MaxTokenBytes: Verify: %v", err)
	}
	if _, err := v.Verify(tok + "A"); !errors.Is(err, token.ErrTooLarge) {
		t.Errorf("token of MaxTokenBytes+1: Verify error = %v, want %v", err, token.ErrTooLarge)
	}
}

func TestVerifyLeewayIsClamped(t *testing.T) {
	ed := testKey(token.EdDSA)
	c := testClaims(t0.Add(-time.Hour))
	c.ExpiresAt = t0.Add(-61 * time.Second)
	tok := sign(t, ed, c)

	v := token.NewVerifier(testIssuer, testAudience, time.Hour, clock(t0))
	v.SetKeys([]token.Key{ed})
	if _, err := v.Verify(tok); !errors.Is(err, token.ErrExpired) {
		t.Errorf("leeway 1h, expired 61s ago: Verify error = %v, want %v", err, token.ErrExpired)
	}

	c.ExpiresAt = t0.Add(-time.Second)
	tok = sign(t, ed, c)
	v = token.NewVerifier(testIssuer, testAudience, -time.Hour, clock(t0))
	v.SetKeys([]token.Key{ed})
	if _, err := v.Verify(tok); !errors.Is(err, token.ErrExpired) {
		t.Errorf("leeway -1h, expired 1s ago: Verify error = %v, want %v", err, token.ErrExpired)
	}
}

func TestVerifyEmptyIssuerOrAudienceRefusesAll(t *testing.T) {
	ed := testKey(token.EdDSA)
	for _, tt := range []struct{ name, issuer, audience string }{
		{name: "no issuer", audience: testAudience},
		{name: "no audience", issuer: testIssuer},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := token.NewVerifier(tt.issuer, tt.audience, 0, clock(t0))
			v.SetKeys([]token.Key{ed})
			c := testClaims(t0)
			c.Issuer, c.Audience = cmpOr(tt.issuer, "x"), cmpOr(tt.audience, "x")
			if _, err := v.Verify(sign(t, ed, c)); !errors.Is(err, token.ErrInvalidClaims) {
				t.Errorf("Verify error = %v, want %v", err, token.ErrInvalidClaims)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestVerifyWithoutKeys(t *testing.T) {
	v := token.NewVerifier(testIssuer, testAudience, 0, clock(t0))
	tok := sign(t, testKey(token.EdDSA), testClaims(t0))
	if _, err := v.Verify(tok); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("Verify error = %v, want %v", err, token.ErrUnknownKey)
	}
}

func TestSetKeysSwap(t *testing.T) {
	a := testKey(token.EdDSA)
	b := testKey(token.ES256)
	tokA, tokB := sign(t, a, testClaims(t0)), sign(t, b, testClaims(t0))
	v := newVerifier(a, b)
	for _, tok := range []string{tokA, tokB} {
		if _, err := v.Verify(tok); err != nil {
			t.Fatalf("before the swap: Verify: %v", err)
		}
	}

	v.SetKeys([]token.Key{b})
	if _, err := v.Verify(tokA); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("removed key: Verify error = %v, want %v", err, token.ErrUnknownKey)
	}
	if _, err := v.Verify(tokB); err != nil {
		t.Errorf("kept key: Verify: %v", err)
	}
}

// TestSetKeysConcurrent gives the race detector Verify and SetKeys at once.
func TestSetKeysConcurrent(t *testing.T) {
	a, b := testKey(token.EdDSA), testKey(token.ES256)
	tokA := sign(t, a, testClaims(t0))
	v := newVerifier(a)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(tokA); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			v.SetKeys([]token.Key{b, a})
			v.SetKeys([]token.Key{a})
		}
	})
	wg.Wait()
}

// TestSignGolden pins the bytes Sign writes: the token fixedKey signs for
// testClaims(t0) (Ed25519 signatures are deterministic), header and claims
// members in this order. Clients and verifiers elsewhere (Node jose,
// go-jose) check these bytes, so they must not drift.
func TestSignGolden(t *testing.T) {
	const want = "eyJhbGciOiJFZERTQSIsImtpZCI6ImZpeGVkLXRlc3Qta2V5IiwidHlwIjoiYXQrand0In0." +
		"eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS50ZXN0Iiwic3ViIjoidXNlcl8xMjMiLCJhdWQiOiJnYXRlaG91c2UiLCJleHAiOjE4OTM1NTQwNDUsIm5iZiI6MTg5MzU1MzQ0NSwiaWF0IjoxODkzNTUzNDQ1LCJqdGkiOiJqdGlfYWJjIiwic2lkIjoic2lkX3h5eiIsImVtYWlsIjoiYWRhQGV4YW1wbGUudGVzdCIsImVtYWlsX3ZlcmlmaWVkIjpmYWxzZSwicm9sZXMiOlsiY3VzdG9tZXIiXSwic2NvcGUiOiJjYXJ0OnJlYWQgY2FydDp3cml0ZSBvcmRlcnM6cmVhZCJ9." +
		"AdNWV2o-kHYOE0rZdkjoWc06NiBvxppJHHZrhmKwv2tNr26CFzx32W0zbUUCaJbxRmdfOcSrcSAladGJbRe1CA"
	if got := sign(t, fixedKey(), testClaims(t0)); got != want {
		t.Errorf("Sign =\n%s\nwant\n%s", got, want)
	}
}

// TestSignHeaderIsGolangJWTs checks, for every algorithm and for key IDs
// that JSON escapes, that the header segment Sign writes is the one
// golang-jwt writes for a token of typ at+jwt with that kid.
func TestSignHeaderIsGolangJWTs(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		for _, kid := range []string{"k1", `<a&b>"\` + "\u2028é"} {
			k := testKey(alg)
			k.ID = kid
			jt := gjwt.New(gjwt.GetSigningMethod(alg))
			jt.Header["typ"] = "at+jwt"
			jt.Header["kid"] = kid
			s, err := jt.SigningString()
			if err != nil {
				t.Fatal(err)
			}
			want, _, _ := strings.Cut(s, ".")
			got, _, _ := strings.Cut(sign(t, k, testClaims(t0)), ".")
			if got != want {
				t.Errorf("%s, kid %q: header %s, want %s", alg, kid, got, want)
			}
		}
	}
}

// TestVerifyRefusesLineBreaks: base64 decoders skip CR and LF, so a
// signature with a line break in it would decode to the same bytes.
// Verify refuses it, as it refuses non-canonical base64.
func TestVerifyRefusesLineBreaks(t *testing.T) {
	k := testKey(token.EdDSA)
	tok := sign(t, k, testClaims(t0))
	for _, lb := range []string{"\n", "\r"} {
		bad := tok[:len(tok)-4] + lb + tok[len(tok)-4:]
		if _, err := newVerifier(k).Verify(bad); !errors.Is(err, token.ErrMalformed) {
			t.Errorf("line break %q in the signature: error %v, want %v", lb, err, token.ErrMalformed)
		}
	}
}

// TestVerifyClaimNamesAreCaseSensitive: JSON member names are case
// sensitive (RFC 8259, RFC 7519 section 4), so a signed token whose claims
// spell a member in another case lacks that member. Each token here is
// signed with a key of the set, has the real member removed and the
// wrong-case one added; the wrong-case member must not be read.
func TestVerifyClaimNamesAreCaseSensitive(t *testing.T) {
	ed := testKey(token.EdDSA)
	v := newVerifier(ed)
	header, claims, _ := segments(t, sign(t, ed, testClaims(t0)))
	swap := func(real, wrong string, val any) map[string]any {
		return with(with(claims, real, nil), wrong, val)
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   error                    // the refusal, nil for none
		check  func(token.Claims) error // for an accepted token
	}{
		{name: "Sub", claims: swap("sub", "Sub", "admin"), want: token.ErrInvalidClaims},
		{name: "SID", claims: swap("sid", "SID", "sid_other"), want: token.ErrInvalidClaims},
		// encoding/json folds U+017F, the long s, to S as well.
		{name: "\u017fub", claims: swap("sub", "\u017fub", "admin"), want: token.ErrInvalidClaims},
		{name: "ROLES", claims: swap("roles", "ROLES", []string{"admin"}), check: func(c token.Claims) error {
			if len(c.Roles) != 0 {
				return fmt.Errorf("Roles = %q, want none", c.Roles)
			}
			return nil
		}},
		{name: "Scope", claims: swap("scope", "Scope", "admin:all"), check: func(c token.Claims) error {
			if c.Scope != "" {
				return fmt.Errorf("Scope = %q, want none", c.Scope)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(craft(t, header, tt.claims, edSigner(ed)))
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Errorf("Verify = %+v, %v; want error %v", c, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if err := tt.check(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestVerifyRepeatedClaim: of a repeated member, the last counts (RFC 7519
// section 4 allows that or a refusal).
func TestVerifyRepeatedClaim(t *testing.T) {
	ed := testKey(token.EdDSA)
	valid := sign(t, ed, testClaims(t0))
	header, claims, _ := segments(t, valid)
	b, err := json.Marshal(with(claims, "sub", "first"))
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Replace(string(b), "{", `{"sub":"zeroth",`, 1)
	input := encodeSegment(t, header) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	tok := input + "." + base64.RawURLEncoding.EncodeToString(edSigner(ed)([]byte(input)))
	c, err := newVerifier(ed).Verify(tok)
	if err != nil || c.Subject != "first" {
		t.Errorf("Verify = %q, %v; want subject %q", c.Subject, err, "first")
	}
}

// TestVerifyMalleatedES256: an ECDSA signature (r, s) verifies as
// (r, n-s) too, so an ES256 token has a second spelling that anyone can
// make from the first. Verify accepts it, with the same claims: what
// relies on a token's bytes must allow for it (see the package
// documentation).
func TestVerifyMalleatedES256(t *testing.T) {
	k := testKey(token.ES256)
	tok := sign(t, k, testClaims(t0))
	other := malleate(t, tok)
	if other == tok {
		t.Fatal("the malleated token is the token")
	}
	v := newVerifier(k)
	want, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(other)
	if err != nil || !equalClaims(got, want) {
		t.Errorf("Verify(malleated) = %+v, %v; want %+v", got, err, want)
	}
}

// malleate returns the ES256 token tok with its signature (r, s) replaced
// by (r, n-s).
func malleate(t *testing.T, tok string) string {
	t.Helper()
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("not an ES256 signature: %d bytes, %v", len(sig), err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	return tok[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
}

package token_test

// This file measures the JWT libraries this package could be built on, each
// verifying the same Ed25519 token as well as its API allows (typed claims,
// a pinned key looked up by kid, a pinned algorithm, one parse), beside the
// floor of raw ed25519.Verify. doc.go records the figures and the choice;
// regenerate them with
//
//	go test -run x -bench . -benchmem ./token/

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	xjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse/gatehouse/token"
)

const benchLeeway = 30 * time.Second

// benchToken is the token every verify benchmark checks.
var benchToken = sync.OnceValue(func() string {
	tok, err := token.Sign(fixedKey(), testClaims(t0))
	if err != nil {
		panic(err)
	}
	return tok
})

// verifyFunc verifies a token and returns its subject.
type verifyFunc func(tok string) (string, error)

var errRequired = errors.New("required claim missing")

// libraries are the candidates, each set up once, as a server would.
var libraries = []struct {
	name  string
	setup func(tb testing.TB) verifyFunc
}{
	{name: "golang-jwt", setup: golangJWTVerifier},
	{name: "jwx-keyset", setup: jwxKeySetVerifier},
	{name: "jwx-key", setup: jwxKeyVerifier},
	{name: "go-jose", setup: goJoseVerifier},
}

// golangJWTClaims is the typed claims struct golang-jwt decodes into.
type golangJWTClaims struct {
	gjwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Email     string   `json:"email"`
	Roles     []string `json:"roles"`
	Scope     string   `json:"scope"`
}

func golangJWTVerifier(testing.TB) verifyFunc {
	k := fixedKey()
	keys := map[string]any{k.ID: k.Public()}
	keyfunc := func(t *gjwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := keys[kid]
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return key, nil
	}
	parser := gjwt.NewParser(
		gjwt.WithValidMethods([]string{"EdDSA"}),
		gjwt.WithIssuer(testIssuer),
		gjwt.WithAudience(testAudience),
		gjwt.WithExpirationRequired(),
		gjwt.WithIssuedAt(),
		gjwt.WithLeeway(benchLeeway),
		gjwt.WithTimeFunc(clock(t0)),
	)
	return func(tok string) (string, error) {
		var c golangJWTClaims
		if _, err := parser.ParseWithClaims(tok, &c, keyfunc); err != nil {
			return "", err
		}
		if c.Subject == "" || c.SessionID == "" || c.ID == "" || c.IssuedAt == nil {
			return "", errRequired
		}
		return c.Subject, nil
	}
}

// jwxOptions are the claim checks jwx runs inside Parse. The private claims
// are typed through jwx's global registry, which is faster than the per-call
// WithTypedClaim.
func jwxOptions(key xjwt.ParseOption) []xjwt.ParseOption {
	xjwt.RegisterCustomField("sid", "")
	xjwt.RegisterCustomField("email", "")
	xjwt.RegisterCustomField("roles", []string{})
	xjwt.RegisterCustomField("scope", "")
	opts := []xjwt.ParseOption{
		key,
		xjwt.WithIssuer(testIssuer),
		xjwt.WithAudience(testAudience),
		xjwt.WithAcceptableSkew(benchLeeway),
		xjwt.WithClock(xjwt.ClockFunc(clock(t0))),
	}
	for _, name := range []string{"exp", "iat", "sub", "jti", "sid"} {
		opts = append(opts, xjwt.WithRequiredClaim(name))
	}
	return opts
}

func jwxVerify(opts []xjwt.ParseOption) verifyFunc {
	return func(tok string) (string, error) {
		t, err := xjwt.ParseString(tok, opts...)
		if err != nil {
			return "", err
		}
		var (
			sid, email, scope string
			roles             []string
		)
		sub, _ := t.Subject()
		for name, dst := range map[string]any{"sid": &sid, "email": &email, "scope": &scope, "roles": &roles} {
			if err := t.Get(name, dst); err != nil {
				return "", err
			}
		}
		return sub, nil
	}
}

// jwxKeySetVerifier looks the key up by kid in a set whose key pins its alg.
func jwxKeySetVerifier(tb testing.TB) verifyFunc {
	k := fixedKey()
	key, err := jwk.Import(k.Public())
	if err != nil {
		tb.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, k.ID); err != nil {
		tb.Fatal(err)
	}
	if err := key.Set(jwk.AlgorithmKey, jwa.EdDSA()); err != nil {
		tb.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		tb.Fatal(err)
	}
	return jwxVerify(jwxOptions(xjwt.WithKeySet(set)))
}

// jwxKeyVerifier pins one key and alg without a kid lookup, jwx's fast path;
// it is the upper bound of jwx's speed, not a fit for a rotating key set.
func jwxKeyVerifier(testing.TB) verifyFunc {
	return jwxVerify(jwxOptions(xjwt.WithKey(jwa.EdDSA(), fixedKey().Public())))
}

// goJoseClaims is the typed claims struct go-jose decodes into, once.
type goJoseClaims struct {
	josejwt.Claims
	SessionID string   `json:"sid"`
	Email     string   `json:"email"`
	Roles     []string `json:"roles"`
	Scope     string   `json:"scope"`
}

func goJoseVerifier(testing.TB) verifyFunc {
	k := fixedKey()
	keys := map[string]any{k.ID: k.Public()}
	algs := []jose.SignatureAlgorithm{jose.EdDSA}
	now := clock(t0)
	return func(tok string) (string, error) {
		t, err := josejwt.ParseSigned(tok, algs)
		if err != nil {
			return "", err
		}
		key, ok := keys[t.Headers[0].KeyID]
		if !ok {
			return "", errors.New("unknown kid")
		}
		var c goJoseClaims
		if err := t.Claims(key, &c); err != nil {
			return "", err
		}
		want := josejwt.Expected{Issuer: testIssuer, AnyAudience: josejwt.Audience{testAudience}, Time: now()}
		if err := c.ValidateWithLeeway(want, benchLeeway); err != nil {
			return "", err
		}
		if c.Expiry == nil || c.IssuedAt == nil || c.Subject == "" || c.ID == "" || c.SessionID == "" {
			return "", errRequired
		}
		return c.Subject, nil
	}
}

// TestLibrariesVerify makes sure every benchmarked set-up really verifies:
// it accepts the token and refuses it with a bad signature or when expired.
func TestLibrariesVerify(t *testing.T) {
	tok := benchToken()
	badSig := tok[:len(tok)-3] + "AAA"
	c := testClaims(t0.Add(-time.Hour))
	expired, err := token.Sign(fixedKey(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			verify := lib.setup(t)
			if sub, err := verify(tok); err != nil || sub != testClaims(t0).Subject {
				t.Errorf("valid token: got %q, %v; want %q, nil", sub, err, testClaims(t0).Subject)
			}
			if _, err := verify(badSig); err == nil {
				t.Error("bad signature accepted")
			}
			if _, err := verify(expired); err == nil {
				t.Error("expired token accepted")
			}
		})
	}
}

// BenchmarkVerifyFloor is what no verify can beat: "signature" is
// ed25519.Verify alone over the decoded signing input and signature;
// "split+decode" adds splitting the token and decoding its three segments,
// which every real verify must do (no JSON).
func BenchmarkVerifyFloor(b *testing.B) {
	tok := benchToken()
	pub := fixedKey().Public().(ed25519.PublicKey)
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		b.Fatal(err)
	}

	b.Run("signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, input, sig) {
				b.Fatal("signature does not verify")
			}
		}
	})

	b.Run("split+decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			header, rest, _ := strings.Cut(tok, ".")
			payload, sigB64, _ := strings.Cut(rest, ".")
			if _, err := base64.RawURLEncoding.DecodeString(header); err != nil {
				b.Fatal(err)
			}
			if _, err := base64.RawURLEncoding.DecodeString(payload); err != nil {
				b.Fatal(err)
			}
			sig, err := base64.RawURLEncoding.DecodeString(sigB64)
			if err != nil {
				b.Fatal(err)
			}
			if !ed25519.Verify(pub, []byte(tok[:len(header)+1+len(payload)]), sig) {
				b.Fatal("signature does not verify")
			}
		}
	})
}

// BenchmarkLibrary verifies the same token with each candidate library.
func BenchmarkLibrary(b *testing.B) {
	tok := benchToken()
	for _, lib := range libraries {
		b.Run(lib.name, func(b *testing.B) {
			verify := lib.setup(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

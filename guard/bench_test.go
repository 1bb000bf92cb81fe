package guard_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/guard"
	"github.com/gatehouse/gatehouse/token"
)

// trivial is the handler behind the Guard, and alone the floor.
var trivial = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// serve runs h on requests made by req(i), b.N times, and checks that each
// was let through.
func serve(b *testing.B, h http.Handler, req func(i int) *http.Request) {
	w := &discard{h: make(http.Header)}
	h.ServeHTTP(w, req(0)) // warm the caches
	if w.status != http.StatusNoContent {
		b.Fatalf("status %d, want 204", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.status = 0
		h.ServeHTTP(w, req(i))
		if w.status != http.StatusNoContent {
			b.Fatalf("status %d, want 204", w.status)
		}
	}
}

func bearerRequest(tok string) *http.Request {
	r := httptest.NewRequest("GET", "/cart", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// BenchmarkMiddlewareFloor is the trivial handler alone, on the request
// of BenchmarkMiddlewareBearer.
func BenchmarkMiddlewareFloor(b *testing.B) {
	r := bearerRequest(strings.Repeat("x", 600))
	serve(b, trivial, func(int) *http.Request { return r })
}

// BenchmarkMiddlewareBearer is the steady state of token mode: a token
// seen before, from the verified-token cache, checked against the
// revocation feed of a real Gatehouse.
func BenchmarkMiddlewareBearer(b *testing.B) {
	s := newServer(b, nil)
	s.addUser(b, "ada@example.com", "customer")
	h := newGuard(b, s, withService()).Require("cart:read")(trivial)
	r := bearerRequest(s.login(b, "ada@example.com", gatehouse.ModeToken))
	serve(b, h, func(int) *http.Request { return r })
}

// BenchmarkMiddlewareBearerUncached checks a token never seen before at
// every request: its signature and claims. The tokens are signed by the
// benchmark's own key, whose key set a stub serves, since a benchmark
// cannot make Gatehouse sign thousands of tokens in time.
func BenchmarkMiddlewareBearerUncached(b *testing.B) {
	now := time.Now()
	k, err := token.GenerateKey(token.EdDSA, now)
	if err != nil {
		b.Fatal(err)
	}
	jwks, err := token.JWKS([]token.Key{k})
	if err != nil {
		b.Fatal(err)
	}
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer stub.Close()
	g, err := guard.New(context.Background(), stub.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		tok, err := token.Sign(k, token.Claims{
			Issuer: stub.URL, Subject: "u1", Audience: "gatehouse", ID: base64.RawURLEncoding.EncodeToString([]byte{byte(i), byte(i >> 8), byte(i >> 16), byte(i >> 24)}),
			SessionID: "s1", Email: "ada@example.com", Roles: []string{"customer"},
			Scope:    "cart:read cart:write orders:read orders:write profile:read profile:write",
			IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute),
		})
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = bearerRequest(tok)
	}
	h := g.Require("cart:read")(trivial)
	serve(b, h, func(i int) *http.Request { return reqs[i] })
}

// BenchmarkEd25519VerifyFloor is the signature check alone, the floor of
// BenchmarkMiddlewareBearerUncached.
func BenchmarkEd25519VerifyFloor(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(strings.Repeat("x", 450))
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
}

// BenchmarkMiddlewareCookieCached is the steady state of session mode: a
// cookie Gatehouse vouched for within the session cache period.
func BenchmarkMiddlewareCookieCached(b *testing.B) {
	s := newServer(b, nil)
	s.addUser(b, "ada@example.com", "customer")
	h := newGuard(b, s, guard.WithSessionCache(time.Hour)).Require("cart:read")(trivial)
	r := httptest.NewRequest("GET", "/cart", nil)
	r.AddCookie(&http.Cookie{Name: "__Host-gatehouse", Value: s.login(b, "ada@example.com", gatehouse.ModeSession)})
	serve(b, h, func(int) *http.Request { return r })
}

package httpapi_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
	"github.com/gatehouse/gatehouse/token"
)

// liveSessions is how many sessions the store holds during the session
// check benchmark.
const liveSessions = 100_000

// seedSessions stores n session logins for one user and returns their
// cookie secrets.
func seedSessions(b *testing.B, st *sqlite.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	u := gatehouse.User{ID: "bench-user", Email: "bench@example.com", PasswordHash: "x", Roles: []string{"customer"}, CreatedAt: now}
	if err := st.CreateUser(ctx, u, gatehouse.AuditEvent{At: now, Type: gatehouse.EventUserCreated, UserID: u.ID}); err != nil {
		b.Fatal(err)
	}
	secrets := make([]string, n)
	for i := range secrets {
		var raw [32]byte
		rand.Read(raw[:])
		secrets[i] = base64.RawURLEncoding.EncodeToString(raw[:])
		h := sha256.Sum256([]byte(secrets[i]))
		l := gatehouse.Login{
			ID: fmt.Sprintf("login-%07d", i), UserID: u.ID, Mode: gatehouse.ModeSession, SecretHash: h[:],
			Device: "bench", IP: "127.0.0.1", CreatedAt: now, LastSeenAt: now,
			ExpiresAt: now.Add(24 * time.Hour), IdleExpiresAt: now.Add(time.Hour),
		}
		if err := st.CreateLogin(ctx, l, gatehouse.AuditEvent{At: now, Type: gatehouse.EventLoginSucceeded, UserID: u.ID}); err != nil {
			b.Fatal(err)
		}
	}
	return secrets
}

// BenchmarkSessionCheck measures GET /v1/verify with a session cookie
// through the whole handler stack (routing, logging middleware, cookie
// parsing, the check), with 100,000 live sessions in a SQLite file.
// "cached" is the steady state (one session checked again and again);
// "spread" cycles through 1,000 sessions, each re-read from the store once
// its cache entry is a second old. The floor is a trivial handler.
func BenchmarkSessionCheck(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secrets := seedSessions(b, st, liveSessions)
	svc, err := gatehouse.NewService(st, gatehouse.Config{})
	if err != nil {
		b.Fatal(err)
	}
	h := httpapi.NewServer(svc, nil, httpapi.Config{Dev: true})
	cookie := func(secret func(i int) string) func(i int) (string, string) {
		return func(i int) (string, string) { return "Cookie", "gatehouse=" + secret(i) }
	}
	b.Run("cached", func(b *testing.B) { benchVerify(b, h, cookie(func(int) string { return secrets[0] })) })
	b.Run("spread", func(b *testing.B) { benchVerify(b, h, cookie(func(i int) string { return secrets[i%1000] })) })
	b.Run("floor", func(b *testing.B) { benchVerify(b, trivial, cookie(func(int) string { return secrets[0] })) })
}

// trivial is the floor of the HTTP benchmarks: a handler that does nothing.
var trivial = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

// benchVerify sends GET /v1/verify to h with the header that header(i)
// gives for iteration i, and fails on anything but 200.
func benchVerify(b *testing.B, h http.Handler, header func(i int) (string, string)) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		key, value := header(i)
		verifyOnce(b, h, key, value)
	}
}

// verifyOnce sends GET /v1/verify with one header to h and fails on
// anything but 200.
func verifyOnce(b *testing.B, h http.Handler, key, value string) {
	req := httptest.NewRequest("GET", "/v1/verify", nil)
	req.Header.Set(key, value)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

// BenchmarkLogin measures POST /v1/login in session mode with the default
// argon2id parameters; compare it with the password package's
// BenchmarkArgon2IDKeyFloor.
func BenchmarkLogin(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := gatehouse.NewService(st, gatehouse.Config{Hasher: password.NewHasher(password.DefaultParams, 0, time.Minute)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Register(context.Background(), "bench@example.com", pw, gatehouse.Client{}); err != nil {
		b.Fatal(err)
	}
	h := httpapi.NewServer(svc, nil, httpapi.Config{Dev: true})
	body := `{"email":"bench@example.com","password":"` + pw + `","mode":"session"}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/login", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkTokenCheck measures GET /v1/verify with a bearer token through
// the whole handler stack, beside the raw ed25519.Verify of the same
// token's signature and a trivial handler: the budget of handler-uncached
// is 1.25 times the sum of the two floors.
func BenchmarkTokenCheck(b *testing.B) {
	st, svc, res := tokenLogin(b, gatehouse.Limits{})
	access := res.Tokens.AccessToken
	h := httpapi.NewServer(svc, nil, httpapi.Config{})
	ctx := context.Background()

	bearer := func(tok func(i int) string) func(i int) (string, string) {
		return func(i int) (string, string) { return "Authorization", "Bearer " + tok(i) }
	}
	// handler: the same token again and again, as a client sends it
	// until it expires (the verified-token cache answers).
	b.Run("handler", func(b *testing.B) { benchVerify(b, h, bearer(func(int) string { return access })) })
	// handler-uncached: a token never seen before on each request, so
	// every check verifies the signature. The tokens are signed before
	// the timer starts, b.N of them, each with a jti no earlier run used
	// (the cache outlives a run of -count).
	key := signingKey(b, st)
	claims := accessClaims(b, key, access)
	b.Run("handler-uncached", func(b *testing.B) {
		fresh := distinctTokens(b, key, claims, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			verifyOnce(b, h, "Authorization", "Bearer "+fresh[i])
		}
	})
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.AuthenticateToken(ctx, access); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor-ed25519", func(b *testing.B) {
		pub := key.Public().(ed25519.PublicKey)
		i := strings.LastIndexByte(access, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(access[i+1:])
		msg := []byte(access[:i])
		b.ReportAllocs()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("bad signature")
			}
		}
	})
	b.Run("floor-handler", func(b *testing.B) { benchVerify(b, trivial, bearer(func(int) string { return access })) })
}

// tokenLogin opens a SQLite store in token mode with a user in it, logs
// the user in with a token and returns the login's result.
func tokenLogin(b *testing.B, limits gatehouse.Limits) (*sqlite.Store, *gatehouse.Service, gatehouse.LoginResult) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Hasher: password.NewHasher(fastParams, 0, 0), Tokens: testTokens(), Limits: limits,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Register(ctx, "bench@example.com", pw, gatehouse.Client{}); err != nil {
		b.Fatal(err)
	}
	res, err := svc.Login(ctx, gatehouse.LoginRequest{Email: "bench@example.com", Password: pw, Mode: gatehouse.ModeToken})
	if err != nil {
		b.Fatal(err)
	}
	return st, svc, res
}

// BenchmarkRefresh measures POST /v1/token/refresh through the whole
// handler stack, each request with the refresh token the one before got
// back, as a client refreshes: a lookup, a rotation written to SQLite with
// its audit event, and an access token signed. Its floors are the trivial
// handler with the same request and one raw ed25519.Sign of an access
// token's signing input.
func BenchmarkRefresh(b *testing.B) {
	st, svc, res := tokenLogin(b, gatehouse.Limits{Refreshes: math.MaxInt32})
	h := httpapi.NewServer(svc, nil, httpapi.Config{})
	refresh := res.Tokens.RefreshToken
	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := postRefresh(b, h, refresh)
			var body struct {
				RefreshToken string `json:"refresh_token"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.RefreshToken == "" {
				b.Fatalf("no refresh token in %s: %v", w.Body, err)
			}
			refresh = body.RefreshToken
		}
	})
	b.Run("floor-handler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			postRefresh(b, trivial, refresh)
		}
	})
	b.Run("floor-ed25519-sign", func(b *testing.B) {
		priv := signingKey(b, st).Private.(ed25519.PrivateKey)
		access := res.Tokens.AccessToken
		msg := []byte(access[:strings.LastIndexByte(access, '.')])
		b.ReportAllocs()
		for b.Loop() {
			ed25519.Sign(priv, msg)
		}
	})
}

// postRefresh sends POST /v1/token/refresh with refresh to h and fails on
// anything but 200.
func postRefresh(b *testing.B, h http.Handler, refresh string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/v1/token/refresh", strings.NewReader(`{"refresh_token":"`+refresh+`"}`))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return w
}

// accessClaims returns the claims of access, which key signed.
func accessClaims(b *testing.B, key token.Key, access string) token.Claims {
	v := token.NewVerifier(testIssuer, gatehouse.DefaultAudience, time.Minute, nil)
	v.SetKeys([]token.Key{key})
	c, err := v.Verify(access)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// tokenSerial numbers the jti of every token distinctTokens signs, so
// that no two benchmark runs share a token.
var tokenSerial int

// distinctTokens signs n copies of c with key, each with a jti of its own.
func distinctTokens(b *testing.B, key token.Key, c token.Claims, n int) []string {
	out := make([]string, n)
	for i := range out {
		tokenSerial++
		c.ID = fmt.Sprintf("bench-%d", tokenSerial)
		var err error
		if out[i], err = token.Sign(key, c); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// signingKey opens the store's newest signing key with the test secret.
func signingKey(b *testing.B, st *sqlite.Store) token.Key {
	keys, err := st.ListKeys(context.Background())
	if err != nil || len(keys) == 0 {
		b.Fatalf("no keys: %v", err)
	}
	sealer, _ := token.NewSealer(testTokens().Secret)
	der, err := sealer.Open(keys[0].Sealed, []byte(keys[0].ID))
	if err != nil {
		b.Fatal(err)
	}
	k, err := token.ParseKey(keys[0].ID, keys[0].Alg, der, keys[0].CreatedAt)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

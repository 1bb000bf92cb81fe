package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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
	svc := gatehouse.NewService(st, gatehouse.Config{})
	h := httpapi.NewServer(svc, nil, httpapi.Config{Dev: true})
	check := func(b *testing.B, secret func(i int) string) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			req := httptest.NewRequest("GET", "/v1/verify", nil)
			req.Header.Set("Cookie", "gatehouse="+secret(i))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	}
	b.Run("cached", func(b *testing.B) { check(b, func(int) string { return secrets[0] }) })
	b.Run("spread", func(b *testing.B) { check(b, func(i int) string { return secrets[i%1000] }) })
	b.Run("floor", func(b *testing.B) {
		trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest("GET", "/v1/verify", nil)
			req.Header.Set("Cookie", "gatehouse="+secrets[0])
			trivial.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
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
	svc := gatehouse.NewService(st, gatehouse.Config{Hasher: password.NewHasher(password.DefaultParams, 0, time.Minute)})
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

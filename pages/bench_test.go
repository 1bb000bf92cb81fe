package pages_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/pages"
)

// BenchmarkPages renders the sign-in page and the account page of a user
// with 20 logins (and of one with 2) through the whole handler stack (pages under the same
// mux as serve's, the session check, the store's list of logins), without
// the network. The budget is 150 µs each.
func BenchmarkPages(b *testing.B) {
	e := newEnv(b, options{})
	// logIn makes n logins of a new user and returns the last one's cookie
	// secret.
	logIn := func(email string, n int) string {
		e.register(email)
		var secret string
		for i := range n {
			res, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{
				Email: email, Password: pw, Mode: gatehouse.ModeSession,
				Client: gatehouse.Client{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15"},
				Device: []string{"", "Work laptop"}[i%2],
			})
			if err != nil {
				b.Fatal(err)
			}
			secret = res.Secret
		}
		return secret
	}
	secret, few := logIn("ada@example.com", 20), logIn("bob@example.com", 2)
	h := e.srv.Config.Handler
	run := func(b *testing.B, path string, cookie *http.Cookie) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		b.ReportAllocs()
		size := 0
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				b.Fatalf("%s: %d", path, rec.Code)
			}
			size = rec.Body.Len()
		}
		b.ReportMetric(float64(size), "bytes/page")
	}
	b.Run("signin", func(b *testing.B) { run(b, "/auth/signin?rd=%2Fauth%2Faccount", nil) })
	b.Run("account-20-logins", func(b *testing.B) {
		run(b, "/auth/account", &http.Cookie{Name: "__Host-gatehouse", Value: secret})
	})
	b.Run("account-2-logins", func(b *testing.B) {
		run(b, "/auth/account", &http.Cookie{Name: "__Host-gatehouse", Value: few})
	})
}

var _ = pages.Config{}

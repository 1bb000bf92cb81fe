package guard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/guard"
)

// Example protects an application's cart with a Gatehouse running in this
// process; in production, the URL is that of `gatehouse serve`.
func Example() {
	gh, err := startGatehouse(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer gh.Close()
	ctx := context.Background()
	gh.svc.CreateUser(ctx, "ada@example.com", testPassword, []string{"customer"}, gatehouse.Client{})

	g, err := guard.New(ctx, gh.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer g.Close()
	mux := http.NewServeMux()
	mux.Handle("GET /cart", g.Require("cart:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := guard.UserFrom(r.Context())
		fmt.Fprintf(w, "the cart of %s, signed in with a %s", u.Email, u.Mode)
	})))
	shop := httptest.NewServer(mux)
	defer shop.Close()

	// A client signs in with Gatehouse in token mode (POST /v1/login) and
	// calls the shop with its access token.
	res, err := gh.svc.Login(ctx, gatehouse.LoginRequest{Email: "ada@example.com", Password: testPassword, Mode: gatehouse.ModeToken})
	if err != nil {
		log.Fatal(err)
	}
	for _, auth := range []string{"Bearer " + res.Tokens.AccessToken, ""} {
		req, _ := http.NewRequest("GET", shop.URL+"/cart", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s\n", resp.StatusCode, bytes.TrimSpace(body))
	}
	// Output:
	// 200 the cart of ada@example.com, signed in with a token
	// 401 {"type":"about:blank","title":"Unauthorized","status":401,"detail":"sign in first","code":"unauthenticated"}
}

// ExampleNew sets a Guard up as a production service does: it follows
// the revocation feed as a service account, so a revoked login's tokens
// are refused within a second rather than at their expiry.
func ExampleNew() {
	ctx := context.Background()
	g, err := guard.New(ctx, "https://auth.example.com",
		guard.WithServiceAccount("shop@example.com", os.Getenv("SHOP_GATEHOUSE_PASSWORD")),
		guard.WithCookieName("__Secure-gatehouse"), // gatehouse serve --cookie-domain example.com
		guard.WithSessionCache(2*time.Second),
		guard.WithLogger(slog.Default()),
	)
	if err != nil {
		log.Fatal(err) // Gatehouse unreachable, or the service account refused
	}
	defer g.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /orders", g.Require("orders:read")(http.HandlerFunc(listOrders)))
	mux.Handle("POST /orders", g.Require("orders:write")(http.HandlerFunc(placeOrder)))
	log.Fatal(http.ListenAndServe(":8000", mux))
}

func listOrders(w http.ResponseWriter, r *http.Request) {}
func placeOrder(w http.ResponseWriter, r *http.Request) {}

// ExampleGuard_Check serves a page to guests and signed-in users alike.
func ExampleGuard_Check() {
	g, err := guard.New(context.Background(), "https://auth.example.com")
	if err != nil {
		log.Fatal(err)
	}
	home := func(w http.ResponseWriter, r *http.Request) {
		u, err := g.Check(r)
		var refused *guard.Error
		switch {
		case err == nil:
			fmt.Fprintf(w, "Welcome back, %s", u.Email)
		case errors.As(err, &refused) && refused.Status == http.StatusServiceUnavailable:
			http.Error(w, "sign-in is unavailable; try again shortly", refused.Status)
		default: // no credential, or one that is no longer valid
			fmt.Fprint(w, "Welcome, guest: sign in to see your orders")
		}
	}
	http.HandleFunc("GET /{$}", home)
}

// ExampleUserFrom reads the user a Guard let through.
func ExampleUserFrom() {
	profile := func(w http.ResponseWriter, r *http.Request) {
		u, ok := guard.UserFrom(r.Context())
		if !ok { // only without a Guard in front
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s (%s): may write the cart: %v, may administer users: %v",
			u.Email, u.Mode, u.Can("cart:write"), u.Can("users:admin"))
	}

	// What a Guard puts in the context; tests of handlers can do the same.
	ctx := guard.NewContext(context.Background(), guard.User{
		ID: "u1", Email: "ada@example.com", Roles: []string{"customer"},
		Permissions: []string{"cart:*", "orders:read"}, Mode: guard.ModeSession,
	})
	w := httptest.NewRecorder()
	profile(w, httptest.NewRequest("GET", "/profile", nil).WithContext(ctx))
	fmt.Println(w.Body)
	// Output:
	// ada@example.com (session): may write the cart: true, may administer users: false
}

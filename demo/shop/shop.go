package shop

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/guard"
)

// Account is an email and password, shown on the sign-in page so that a
// newcomer can try the shop at once.
type Account struct {
	Email, Password string
}

// Config sets up a Shop. Gatehouse and Store are required.
type Config struct {
	// Gatehouse is the base URL of the Gatehouse server, such as
	// "http://127.0.0.1:8080". The browser must reach the same server on
	// the shop's own origin (paths /v1/ and /.well-known/), because the
	// page's script signs in there and the session cookie must reach the
	// shop.
	Gatehouse string
	// Store keeps the catalogue, carts and orders.
	Store *Store
	// CookieName is the name of Gatehouse's session cookie:
	// "__Host-gatehouse" (the default) or "gatehouse" with `serve --dev`.
	CookieName string
	// ServiceEmail and ServicePassword are an account with the role
	// "service", with which guard follows the revocation feed so that a
	// revoked token login is refused within about a second. Without them
	// it is refused only when its access token expires.
	ServiceEmail, ServicePassword string
	// Demo, when set, is shown on the sign-in page.
	Demo *Account
	// Insecure drops the Secure flag of the shop's guest cookie, for plain
	// HTTP during development only.
	Insecure bool
	// Logger receives what goes wrong; nil discards it.
	Logger *slog.Logger
	// GuardOptions are added to those the shop gives guard.New.
	GuardOptions []guard.Option
}

// Shop is the shop as an http.Handler.
type Shop struct {
	cfg     Config
	store   *Store
	guard   *guard.Guard
	log     *slog.Logger
	api     *http.Client // to Gatehouse, for the logins page and sign-out
	pages   *templates
	limiter *limiter
	origin  *http.CrossOriginProtection
	handler http.Handler
	stop    context.CancelFunc
	done    chan struct{}
}

// New returns the shop, once guard has reached Gatehouse (see guard.New):
// the Gatehouse server must be answering at cfg.Gatehouse. Close it when
// done.
func New(ctx context.Context, cfg Config) (*Shop, error) {
	if cfg.Gatehouse == "" || cfg.Store == nil {
		return nil, errors.New("shop: Config.Gatehouse and Config.Store are required")
	}
	cfg.Gatehouse = strings.TrimSuffix(cfg.Gatehouse, "/")
	if cfg.CookieName == "" {
		cfg.CookieName = "__Host-gatehouse"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	opts := []guard.Option{
		guard.WithCookieName(cfg.CookieName),
		// Ask Gatehouse about the cookie on every request, so that a
		// session signed out elsewhere is refused at once. In the demo
		// Gatehouse is in the same process; a real shop might cache a few
		// seconds.
		guard.WithSessionCache(0),
		guard.WithLogger(cfg.Logger),
	}
	if cfg.ServiceEmail != "" {
		opts = append(opts, guard.WithServiceAccount(cfg.ServiceEmail, cfg.ServicePassword))
	}
	g, err := guard.New(ctx, cfg.Gatehouse, append(opts, cfg.GuardOptions...)...)
	if err != nil {
		return nil, err
	}
	s := &Shop{
		cfg: cfg, store: cfg.Store, guard: g, log: cfg.Logger, pages: pages,
		api: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		limiter: newLimiter(writeBurst, writeRate),
		origin:  http.NewCrossOriginProtection(),
		done:    make(chan struct{}),
	}
	s.handler = s.routes()
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.housekeeping(bg)
	return s, nil
}

// ServeHTTP serves the shop.
func (s *Shop) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops the background work and guard. It does not close the Store.
func (s *Shop) Close() {
	s.stop()
	<-s.done
	s.guard.Close()
}

// guestCartLife is how long an untouched guest cart is kept.
const guestCartLife = 30 * 24 * time.Hour

// housekeeping forgets old guest carts and idle rate-limit entries.
func (s *Shop) housekeeping(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.store.DeleteGuestCartsBefore(ctx, time.Now().Add(-guestCartLife)); err != nil && ctx.Err() == nil {
			s.log.Warn("shop: forgetting old guest carts", "err", err)
		} else if n > 0 {
			s.log.Info("shop: forgot old guest carts", "lines", n)
		}
		s.limiter.sweep(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Shop) routes() http.Handler {
	mux := http.NewServeMux()
	page := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.visit(h)) }

	// Pages: anyone may look; what is personal needs a sign-in.
	page("GET /{$}", s.home)
	page("GET /products/{id}", s.product)
	page("GET /cart", s.cartPage)
	page("GET /checkout", s.checkoutPage)
	page("GET /orders", s.ordersPage)
	page("GET /orders/{number}", s.orderPage)
	page("GET /signin", s.signinPage)
	page("GET /signup", s.signupPage)
	page("GET /help", s.helpPage)
	page("GET /account/logins", s.loginsPage)

	// Forms, for session mode and guests (token mode sends the same to
	// the JSON API with a bearer token).
	page("POST /cart/items", s.formAdd)
	page("POST /cart/items/{id}", s.formSetQuantity)
	page("POST /cart/items/{id}/remove", s.formRemove)
	page("POST /checkout", s.formCheckout)
	page("POST /signin", s.formNeedsScript)
	page("POST /signup", s.formNeedsScript)
	page("POST /signout", s.formSignout)
	page("POST /account/logins/{id}/signout", s.formRevokeLogin)
	page("POST /account/logins/signout-others", s.formRevokeOthers)

	// The JSON API. The cart is a guest's or a user's; orders only a
	// user's, so guard's own middleware protects them.
	mux.Handle("GET /api/cart", s.visit(s.apiCart))
	mux.Handle("POST /api/cart/items", s.visit(s.apiAdd))
	mux.Handle("PATCH /api/cart/items/{id}", s.visit(s.apiSetQuantity))
	mux.Handle("DELETE /api/cart/items/{id}", s.visit(s.apiRemove))
	mux.Handle("POST /api/cart/merge", s.visit(s.apiMerge))
	mux.Handle("GET /api/orders", s.guard.Require("orders:read")(http.HandlerFunc(s.apiOrders)))
	mux.Handle("POST /api/checkout", s.limited(s.guard.Require("orders:write", "cart:write")(http.HandlerFunc(s.apiCheckout))))
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "not_found", "no such endpoint")
	}))

	mux.Handle("GET /static/", staticHandler())
	mux.Handle("/", s.visit(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "")
	}))
	return s.secure(mux)
}

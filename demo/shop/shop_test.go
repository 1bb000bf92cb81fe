package shop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/demo/shop"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
	"github.com/gatehouse/gatehouse/sqlite"
)

// The handler tests run the shop against a real Gatehouse (SQLite store,
// HTTP API) on one httptest server, as `gatehouse demo` does: the API
// under /v1/ and /.well-known/, the shop everywhere else. Only the tests
// import more of the module than guard; the shop itself does not.

const pw = "a walk in the shop"

type env struct {
	t   *testing.T
	url string
	svc *gatehouse.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var shopHandler atomic.Pointer[http.Handler]
	var api http.Handler
	mux := http.NewServeMux()
	mux.Handle("/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api.ServeHTTP(w, r) }))
	mux.Handle("/.well-known/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { api.ServeHTTP(w, r) }))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*shopHandler.Load()).ServeHTTP(w, r) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, 0),
		Tokens: &gatehouse.TokenConfig{Issuer: srv.URL, Secret: []byte("a test secret of at least thirty-two bytes"),
			RefreshGrace: gatehouse.DefaultRefreshGrace},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(bg); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	api = httpapi.NewServer(svc, nil, httpapi.Config{Dev: true})
	if _, err := svc.CreateUser(ctx, "service@example.com", "service account password", []string{gatehouse.RoleService}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}

	store, err := shop.OpenStore(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.SeedCatalogue(ctx, shop.DemoCatalogue); err != nil {
		t.Fatal(err)
	}
	sh, err := shop.New(ctx, shop.Config{
		Gatehouse: srv.URL, Store: store, CookieName: "gatehouse", Insecure: true,
		ServiceEmail: "service@example.com", ServicePassword: "service account password",
		Demo: &shop.Account{Email: "demo@example.com", Password: "gatehouse goods demo"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sh.Close)
	var h http.Handler = sh
	shopHandler.Store(&h)
	return &env{t: t, url: srv.URL, svc: svc}
}

// user registers an account and returns its email.
func (e *env) user(email string) string {
	e.t.Helper()
	if _, err := e.svc.Register(context.Background(), email, pw, gatehouse.Client{}); err != nil {
		e.t.Fatal(err)
	}
	return email
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see the 303s.
type browser struct {
	e      *env
	c      *http.Client
	bearer string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type reply struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

func (b *browser) do(method, path string, body any, headers ...string) reply {
	b.e.t.Helper()
	var rd io.Reader
	ct := ""
	switch v := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	default:
		j, _ := json.Marshal(v)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, b.e.url+path, rd)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if b.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+b.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, body: string(raw)}
	json.Unmarshal(raw, &r.json)
	return r
}

func (b *browser) want(r reply, status int, code string) {
	b.e.t.Helper()
	if r.status != status || (code != "" && r.json["code"] != code) {
		b.e.t.Fatalf("got %d %.400s, want %d %s", r.status, r.body, status, code)
	}
}

// signIn logs in through Gatehouse's API, as the page's script does.
func (b *browser) signIn(email, mode string) {
	b.e.t.Helper()
	r := b.do("POST", "/v1/login", map[string]any{"email": email, "password": pw, "mode": mode})
	b.want(r, 200, "")
	if mode == "token" {
		b.bearer = r.json["access_token"].(string)
	}
}

// cart returns the visitor's cart through the API, as "product:quantity".
func (b *browser) cart() []string {
	b.e.t.Helper()
	r := b.do("GET", "/api/cart", nil)
	b.want(r, 200, "")
	return cartItems(r.json)
}

func cartItems(m map[string]any) []string {
	out := []string{}
	for _, it := range m["items"].([]any) {
		i := it.(map[string]any)
		out = append(out, i["product_id"].(string)+":"+jsonNumber(i["quantity"]))
	}
	return out
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// A guest fills a cart through the forms (no script), then signs in in
// each mode: the merge moves the items into the account's cart, once.
func TestGuestCartMergesAtSignIn(t *testing.T) {
	for _, mode := range []string{"session", "token"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			ada := e.user("ada@example.com")
			b := e.browser()
			r := b.do("POST", "/cart/items", url.Values{"product_id": {"stoneware-mug"}, "quantity": {"2"}, "next": {"/products/stoneware-mug?added=1"}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/products/stoneware-mug?added=1" {
				t.Fatalf("adding as a guest: %d to %q", r.status, r.header.Get("Location"))
			}
			if b.cookie("shop_guest") == "" {
				t.Fatal("no guest cookie")
			}
			b.do("POST", "/cart/items", url.Values{"product_id": {"beeswax-candle"}})
			if got, want := b.cart(), []string{"stoneware-mug:2", "beeswax-candle:1"}; !equal(got, want) {
				t.Fatalf("guest cart = %v, want %v", got, want)
			}
			page := b.do("GET", "/cart", nil)
			if !strings.Contains(page.body, "shopping as a guest") || !strings.Contains(page.body, "Stoneware mug") {
				t.Errorf("the guest's cart page:\n%s", page.body)
			}

			b.signIn(ada, mode)
			// Before the merge the account's cart is its own (empty).
			if got := b.cart(); len(got) != 0 {
				t.Fatalf("the account's cart before the merge = %v", got)
			}
			r = b.do("POST", "/api/cart/merge", nil)
			b.want(r, 200, "")
			if r.json["merged"].(float64) != 3 {
				t.Errorf("merged %v articles, want 3", r.json["merged"])
			}
			if b.cookie("shop_guest") != "" {
				t.Error("the guest cookie survived the merge")
			}
			if got, want := b.cart(), []string{"stoneware-mug:2", "beeswax-candle:1"}; !equal(got, want) {
				t.Fatalf("account cart = %v, want %v", got, want)
			}
			r = b.do("POST", "/api/cart/merge", nil)
			b.want(r, 200, "")
			if r.json["merged"].(float64) != 0 {
				t.Errorf("a second merge merged %v", r.json["merged"])
			}
		})
	}
}

// The JSON API in token mode: bearer in, cart out; a bad token is 401
// with the challenge so that the script refreshes.
func TestTokenModeAPI(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.user("bo@example.com"), "token")
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "linen-notebook", "quantity": 2}), 200, "")
	b.want(b.do("PATCH", "/api/cart/items/linen-notebook", map[string]any{"quantity": 5}), 200, "")
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw"}), 200, "")
	b.want(b.do("DELETE", "/api/cart/items/wool-throw", nil), 200, "")
	if got, want := b.cart(), []string{"linen-notebook:5"}; !equal(got, want) {
		t.Fatalf("cart = %v, want %v", got, want)
	}
	if b.cookie("shop_guest") != "" {
		t.Error("a signed-in visitor got a guest cookie")
	}
	// The page, loaded with the token, is the user's.
	page := b.do("GET", "/cart", nil, "Accept", "text/html")
	if page.status != 200 || !strings.Contains(page.body, `data-mode="token"`) || !strings.Contains(page.body, "Linen notebook") {
		t.Errorf("the cart page with a bearer token: %d\n%.600s", page.status, page.body)
	}

	// Checkout and orders, behind guard.Require.
	r := b.do("POST", "/api/checkout", nil)
	b.want(r, 201, "")
	n := jsonNumber(r.json["number"])
	r = b.do("GET", "/api/orders", nil)
	b.want(r, 200, "")
	if orders := r.json["orders"].([]any); len(orders) != 1 || jsonNumber(orders[0].(map[string]any)["number"]) != n {
		t.Errorf("orders = %v, want #%s", orders, n)
	}
	b.want(b.do("POST", "/api/checkout", nil), 409, "empty_cart")

	for _, bad := range []string{"nonsense", b.bearer + "x"} {
		b2 := e.browser()
		b2.bearer = bad
		r := b2.do("GET", "/api/cart", nil)
		b2.want(r, 401, "invalid_token")
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("no challenge: %v", r.header)
		}
		// A page load with a refused token is refused too, not a guest's
		// page: the script must refresh.
		b2.want(b2.do("GET", "/cart", nil), 401, "")
	}
	// Bad requests.
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "nope"}), 404, "not_found")
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw", "quantity": 0}), 400, "invalid_request")
	b.want(b.do("PATCH", "/api/cart/items/wool-throw", map[string]any{}), 400, "invalid_request")
	b.want(b.do("POST", "/api/cart/items", "not an object"), 400, "invalid_request")
	b.want(b.do("GET", "/api/nothing", nil), 404, "not_found")
}

// A token login revoked elsewhere is refused by the shop within about a
// second: guard follows Gatehouse's revocation feed.
func TestRevokedTokenIsRefused(t *testing.T) {
	e := newEnv(t)
	email := e.user("cy@example.com")
	phone := e.browser()
	phone.signIn(email, "token")
	phone.want(phone.do("GET", "/api/cart", nil), 200, "")
	laptop := e.browser()
	laptop.signIn(email, "session")
	r := phone.do("GET", "/v1/me", nil)
	phone.want(r, 200, "")
	sid := r.json["auth"].(map[string]any)["session_id"].(string)

	// The laptop signs the phone out, through the shop's logins form.
	r = laptop.do("POST", "/account/logins/"+sid+"/signout", url.Values{})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account/logins" {
		t.Fatalf("signing the phone out: %d %s", r.status, r.body)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		r := phone.do("GET", "/api/cart", nil)
		if r.status == 401 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token still gets %d after 3s", r.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A revoked session cookie is refused at once: it makes a guest.
	laptopSID := laptop.do("GET", "/v1/me", nil).json["auth"].(map[string]any)["session_id"].(string)
	other := e.browser()
	other.signIn(email, "token")
	other.want(other.do("DELETE", "/v1/sessions/"+laptopSID, nil), 204, "")
	page := laptop.do("GET", "/cart", nil)
	if page.status != 200 || !strings.Contains(page.body, `data-mode="guest"`) || !strings.Contains(page.body, "Sign in to see your cart") {
		t.Errorf("the revoked session's cart page: %d\n%.800s", page.status, page.body)
	}
}

// Permissions come from Gatehouse: a user whose roles lack the cart's
// permissions is refused, in both modes.
func TestPermissionsAreEnforced(t *testing.T) {
	e := newEnv(t)
	email := e.user("dee@example.com")
	u, _ := e.svc.UserByEmail(context.Background(), email)
	if _, err := e.svc.SetRoles(context.Background(), u.ID, []string{gatehouse.RoleService}, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	// guard takes a token whose iat (whole seconds) is before the role
	// change (to the nanosecond) for stale: sign in from the next second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	for _, mode := range []string{"session", "token"} {
		b := e.browser()
		b.signIn(email, mode)
		b.want(b.do("GET", "/api/cart", nil), 403, "forbidden")
		b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw"}), 403, "forbidden")
		b.want(b.do("POST", "/api/checkout", nil), 403, "forbidden")
		b.want(b.do("GET", "/api/orders", nil), 403, "forbidden")
		b.want(b.do("POST", "/api/cart/merge", nil), 403, "forbidden")
		for _, p := range []string{"/cart", "/orders", "/checkout"} {
			if r := b.do("GET", p, nil); r.status != 403 || !strings.Contains(r.body, "Not allowed") {
				t.Errorf("%s GET %s: %d", mode, p, r.status)
			}
		}
		if r := b.do("POST", "/cart/items", url.Values{"product_id": {"wool-throw"}}); r.status != 403 {
			t.Errorf("%s: form add = %d, want 403", mode, r.status)
		}
	}
}

// Every answer carries the security headers; errors are pages of their
// own; state-changing requests from another origin are refused; what a
// visitor sends is escaped.
func TestSecurity(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, c := range []struct {
		path   string
		status int
		text   string
	}{
		{"/", 200, "The catalogue"},
		{"/products/wool-throw", 200, "Wool throw"},
		{"/products/nope", 404, "We have no such product"},
		{"/nowhere", 404, "Page not found"},
		{"/orders", 401, "Please sign in"},
		{"/checkout", 401, "Please sign in"},
		{"/orders/1001", 401, "Please sign in"},
		{"/account/logins", 401, "Please sign in"},
		{"/help", 200, "IndexedDB"},
		{"/signin", 200, "demo@example.com"},
	} {
		r := b.do("GET", c.path, nil)
		if r.status != c.status || !strings.Contains(r.body, c.text) {
			t.Errorf("GET %s = %d, want %d with %q", c.path, r.status, c.status, c.text)
		}
		h := r.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", c.path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: headers %v", c.path, h)
		}
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, " style=") {
			t.Errorf("GET %s has an inline script or style", c.path)
		}
	}
	// A token-mode browser's page load (the hint cookie, no token yet)
	// renders as "signing you in" for the script to finish.
	r := b.do("GET", "/orders", nil, "Cookie", "shop_mode=token")
	if r.status != 200 || !strings.Contains(r.body, "Restoring your sign-in") {
		t.Errorf("pending page: %d", r.status)
	}
	// Escaping: a hostile next parameter stays text.
	r = b.do("GET", `/signin?next=/"><script>alert(1)</script>`, nil)
	if strings.Contains(r.body, "<script>alert") {
		t.Errorf("the next parameter is not escaped:\n%s", r.body)
	}
	r = b.do("GET", "/signin?next=//evil.example/", nil)
	if strings.Contains(r.body, "evil.example") {
		t.Error("the sign-in page keeps a next parameter to another site")
	}
	// Cross-origin state changes are refused, for guests and signed-in
	// visitors, on forms and the API.
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw"}, "Sec-Fetch-Site", "cross-site"), 403, "cross_origin")
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw"}, "Origin", "https://evil.example"), 403, "cross_origin")
	b.signIn(e.user("eve@example.com"), "session")
	if r := b.do("POST", "/cart/items", url.Values{"product_id": {"wool-throw"}}, "Origin", "https://evil.example"); r.status != 403 {
		t.Errorf("cross-origin form post = %d, want 403", r.status)
	}
	if r := b.do("POST", "/checkout", url.Values{}, "Sec-Fetch-Site", "same-site"); r.status != 403 {
		t.Errorf("same-site checkout = %d, want 403", r.status)
	}
	if got := b.cart(); len(got) != 0 {
		t.Errorf("a refused request changed the cart: %v", got)
	}
	// Same origin is fine.
	b.want(b.do("POST", "/api/cart/items", map[string]any{"product_id": "wool-throw"}, "Origin", e.url, "Sec-Fetch-Site", "same-origin"), 200, "")
	// Static files are served with their type and cached when versioned.
	r = b.do("GET", "/static/app.js", nil)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
		t.Errorf("app.js: %d %s", r.status, r.header.Get("Content-Type"))
	}
	b.want(b.do("GET", "/static/nothing.js", nil), 404, "")
}

// The session-mode flow through the forms, without a script: add, change,
// remove, check out, see the order, sign out.
func TestSessionFormsFlow(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(e.user("fox@example.com"), "session")
	seeOther := func(r reply, where string) {
		t.Helper()
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), where) {
			t.Fatalf("got %d to %q, want 303 to %s\n%.400s", r.status, r.header.Get("Location"), where, r.body)
		}
	}
	seeOther(b.do("POST", "/cart/items", url.Values{"product_id": {"brass-desk-lamp"}, "quantity": {"1"}, "next": {"https://evil.example/"}}), "/cart")
	seeOther(b.do("POST", "/cart/items", url.Values{"product_id": {"canvas-tote"}, "next": {"/cart"}}), "/cart")
	seeOther(b.do("POST", "/cart/items/canvas-tote", url.Values{"quantity": {"4"}}), "/cart")
	seeOther(b.do("POST", "/cart/items/brass-desk-lamp/remove", url.Values{}), "/cart")
	if got, want := b.cart(), []string{"canvas-tote:4"}; !equal(got, want) {
		t.Fatalf("cart = %v, want %v", got, want)
	}
	page := b.do("GET", "/checkout", nil)
	if page.status != 200 || !strings.Contains(page.body, "€96.00") {
		t.Errorf("checkout page: %d", page.status)
	}
	r := b.do("POST", "/checkout", url.Values{})
	seeOther(r, "/orders/")
	order := b.do("GET", r.header.Get("Location"), nil)
	if order.status != 200 || !strings.Contains(order.body, "Thank you!") || !strings.Contains(order.body, "Canvas tote") {
		t.Errorf("order page: %d", order.status)
	}
	seeOther(b.do("POST", "/checkout", url.Values{}), "/cart") // nothing left to order
	logins := b.do("GET", "/account/logins", nil)
	if logins.status != 200 || !strings.Contains(logins.body, "this browser") {
		t.Errorf("logins page: %d\n%.600s", logins.status, logins.body)
	}
	seeOther(b.do("POST", "/signout", url.Values{}), "/signin?signed_out=1")
	if b.cookie("gatehouse") != "" {
		t.Error("the session cookie survived sign-out")
	}
	if r := b.do("GET", "/orders", nil); r.status != 401 {
		t.Errorf("after sign-out /orders = %d, want 401", r.status)
	}
}

package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The demo shop in a real browser (headless Chromium), in both ways of
// being remembered: the cart never vanishes.

// shopModes are the two ways to sign in.
var shopModes = []string{"session", "token"}

// accessTTL is the demo's access-token lifetime in these tests: short, so
// that refreshes happen while a test runs.
const accessTTL = 5 * time.Second

// Sign in, add two products, visit three other pages, reload: the cart
// still holds both. Another person, in another browser context, sees only
// their own cart. After signing out, the cart page asks to sign in again.
func TestShopCartSurvivesPageLoads(t *testing.T) {
	s := startDemo(t, "--access-ttl", accessTTL.String())
	for _, mode := range shopModes {
		t.Run(mode, func(t *testing.T) {
			browser := newBrowser(t)
			ada := newAccount(t, s, "ada-"+mode+"@example.com")
			bob := newAccount(t, s, "bob-"+mode+"@example.com")

			a := openTab(t, browser, s.url, "ada")
			a.signIn(ada, mode, "/")
			a.add("stoneware-mug")
			a.add("beeswax-candle")
			for _, p := range []string{"/", "/orders", "/help"} {
				a.open(p)
			}
			a.open("/cart")
			a.reload()
			want := []string{"stoneware-mug:1", "beeswax-candle:1"}
			if got := a.lines(); !sameItems(got, want) {
				t.Fatalf("after three pages and a reload the cart holds %v, want %v\n%s", got, want, a.describe())
			}
			if got := eval[string](a, `document.getElementById("cart-count").textContent`); got != "2" {
				t.Errorf("header cart count = %q, want 2", got)
			}
			a.openPanel()
			panel := eval[string](a, `document.getElementById("panel-body").innerText`)
			wantPanel := map[string][]string{
				"session": {"HttpOnly", "SameSite", "session ends in", "Session ends in", "level 1: one factor", "pwd"},
				"token":   {`"typ": "at+jwt"`, `"sid":`, "IndexedDB", "Access token expires in", "level 1: one factor", `"acr": "1"`},
			}[mode]
			for _, w := range wantPanel {
				if !strings.Contains(panel, w) && !strings.Contains(eval[string](a, `document.getElementById("remember").innerText`), w) {
					t.Errorf("the panel does not show %q:\n%s", w, panel)
				}
			}
			if mode == "token" && strings.Contains(panel, "refresh_token\":") {
				t.Errorf("the panel shows a refresh token:\n%s", panel)
			}
			a.screenshot("shop-cart-" + mode + ".png")
			// And on a narrow phone screen.
			a.do("emulating a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
			a.reload()
			a.screenshot("shop-cart-" + mode + "-phone.png")
			a.do("back to a desktop", chromedp.EmulateReset())

			// Bob, in a browser of his own, has his own cart.
			b := openTab(t, browser, s.url, "bob")
			b.signIn(bob, mode, "/cart")
			if got := b.lines(); len(got) != 0 {
				t.Fatalf("bob's new cart holds %v, want nothing", got)
			}
			b.add("linen-notebook")
			if got, want := b.cart(), []string{"linen-notebook:1"}; !sameItems(got, want) {
				t.Fatalf("bob's cart = %v, want %v", got, want)
			}
			if got := a.cart(); !sameItems(got, want) {
				t.Fatalf("ada's cart = %v after bob shopped, want %v", got, want)
			}

			// Signed out, the cart page asks to sign in again.
			a.signOut()
			a.open("/cart")
			if got := a.lines(); len(got) != 0 {
				t.Errorf("signed out, the cart page still shows %v", got)
			}
			if txt := a.text(); !strings.Contains(txt, "Sign in to see your cart") {
				t.Errorf("signed out, the cart page does not ask to sign in:\n%s", txt)
			}
			// The account's cart is intact for the next sign-in.
			if got := signedInAPI(t, s, ada).cart(); !sameItems(got, want) {
				t.Errorf("ada's cart after signing out = %v, want %v", got, want)
			}
		})
	}
}

// A guest fills a cart, then signs in: the items join the account's cart,
// which already held something.
func TestShopGuestCartMergesAtSignIn(t *testing.T) {
	s := startDemo(t, "--access-ttl", accessTTL.String())
	for _, mode := range shopModes {
		t.Run(mode, func(t *testing.T) {
			browser := newBrowser(t)
			cleo := newAccount(t, s, "cleo-"+mode+"@example.com")
			signedInAPI(t, s, cleo).add("cast-iron-teapot", 1)

			g := openTab(t, browser, s.url, "guest")
			g.add("terracotta-planter")
			g.add("stoneware-mug")
			g.add("stoneware-mug")
			if got, want := g.cart(), []string{"terracotta-planter:1", "stoneware-mug:2"}; !sameItems(got, want) {
				t.Fatalf("guest cart = %v, want %v", got, want)
			}
			if txt := g.text(); !strings.Contains(txt, "shopping as a guest") {
				t.Errorf("the guest's cart page does not say so:\n%s", txt)
			}
			g.signIn(cleo, mode, "/cart")
			want := []string{"cast-iron-teapot:1", "terracotta-planter:1", "stoneware-mug:2"}
			if got := g.lines(); !sameItems(got, want) {
				t.Fatalf("after signing in the cart holds %v, want %v\n%s", got, want, g.describe())
			}
			g.reload()
			if got := g.lines(); !sameItems(got, want) {
				t.Fatalf("after a reload the cart holds %v, want %v", got, want)
			}
			// The guest cookie is gone: nothing merges twice.
			if has := eval[bool](g, `document.getElementById("app").dataset.guest === "true"`); has {
				t.Error("the guest cookie survived the merge")
			}
			if got := signedInAPI(t, s, cleo).cart(); !sameItems(got, want) {
				t.Errorf("the account's cart = %v, want %v", got, want)
			}
		})
	}
}

// The access token lives 5 s. The page stays open for longer, and keeps
// working: in token mode through refreshes (under the Web Lock), in
// session mode because the session lives on. Then a checkout records an
// order.
func TestShopKeepsWorkingPastTokenExpiry(t *testing.T) {
	s := startDemo(t, "--access-ttl", accessTTL.String())
	for _, mode := range shopModes {
		t.Run(mode, func(t *testing.T) {
			browser := newBrowser(t)
			dan := newAccount(t, s, "dan-"+mode+"@example.com")
			a := openTab(t, browser, s.url, "dan")
			a.signIn(dan, mode, "/")
			a.add("wool-throw")
			a.open("/cart")
			a.openPanel()
			jti := func() string {
				return eval[string](a, `(document.querySelector("#panel-body pre")?.textContent.match(/"jti": "([^"]+)"/) || [,""])[1]`)
			}
			first := jti()
			if mode == "token" && first == "" {
				t.Fatalf("the panel shows no jti:\n%s", eval[string](a, `document.getElementById("panel-body").innerText`))
			}

			// Longer than an access token lives, without reloading.
			a.do("waiting past the access token's life", chromedp.Sleep(accessTTL+2*time.Second))

			// Change the quantity on the open page: the request carries a
			// refreshed token (token mode) or the cookie (session mode).
			a.do("changing the quantity", chromedp.Evaluate[chromedp.Void](`(() => {
				const q = document.querySelector('#cart-lines .line[data-product="wool-throw"] input[name=quantity]');
				q.value = "3";
				q.dispatchEvent(new Event("change", {bubbles: true}));
			})()`))
			a.waitFor("the new quantity", settled+` && document.getElementById("cart-articles")?.textContent === "3"`, stepTimeout)
			if got, want := a.lines(), []string{"wool-throw:3"}; !sameItems(got, want) {
				t.Fatalf("cart = %v, want %v", got, want)
			}
			if mode == "token" {
				a.waitFor("the panel to show a refreshed token", `document.querySelector("#panel-body pre") !== null`, stepTimeout)
				if now := jti(); now == first || now == "" {
					t.Errorf("the access token was not refreshed: jti %q then %q", first, now)
				}
				if n := eval[string](a, `document.getElementById("panel-body").innerText.match(/Refreshed\s+(\d+) time/)?.[1] || ""`); n == "" || n == "0" {
					t.Errorf("the panel counts %q refreshes", n)
				}
			}

			// Check out: the order is recorded and the cart is empty.
			a.open("/checkout")
			a.do("placing the order", chromedp.Click(chromedp.CSS("#place-order")))
			a.waitFor("the order page", settled+` && /^\/orders\/\d+$/.test(location.pathname)`, stepTimeout)
			if txt := a.text(); !strings.Contains(txt, "Your order #") || !strings.Contains(txt, "Wool throw") || !strings.Contains(txt, "€225.00") {
				t.Errorf("the order page shows:\n%s", txt)
			}
			a.open("/orders")
			if txt := a.text(); !strings.Contains(txt, "Order #") {
				t.Errorf("the orders page shows:\n%s", txt)
			}
			if got := a.cart(); len(got) != 0 {
				t.Errorf("after checkout the cart holds %v", got)
			}
		})
	}
}

// One person signed in on two browsers signs the other one out from the
// logins page: a session cookie is refused at once; a token login is
// refused as soon as the shop hears of it on the revocation feed (and at
// the latest when the access token expires), and its refresh token never
// works again.
func TestShopSignOutAnotherLogin(t *testing.T) {
	s := startDemo(t, "--access-ttl", accessTTL.String())
	for _, mode := range shopModes {
		t.Run(mode, func(t *testing.T) {
			browser := newBrowser(t)
			eve := newAccount(t, s, "eve-"+mode+"@example.com")
			laptop := openTab(t, browser, s.url, "laptop")
			phone := openTab(t, browser, s.url, "phone")
			laptop.signIn(eve, mode, "/")
			phone.signIn(eve, mode, "/")
			phone.add("canvas-tote")
			if got, want := phone.cart(), []string{"canvas-tote:1"}; !sameItems(got, want) {
				t.Fatalf("phone's cart = %v, want %v", got, want)
			}
			phoneLogin := eval[string](phone, `document.getElementById("app").dataset.session`)
			if phoneLogin == "" {
				t.Fatal("the page does not name its login")
			}

			laptop.open("/account/logins")
			if n := eval[int](laptop, `document.querySelectorAll("#logins .login").length`); n != 2 {
				t.Fatalf("the logins page lists %d logins, want 2\n%s", n, laptop.describe())
			}
			laptop.do("signing the phone out", chromedp.Click(chromedp.CSS(fmt.Sprintf(`.login[data-login=%s] button`, jsonString(phoneLogin)))))
			laptop.waitFor("the phone's login to go", settled+fmt.Sprintf(` && document.querySelector('.login[data-login=%s]') === null && document.querySelectorAll("#logins .login").length === 1`,
				jsonString(phoneLogin)), stepTimeout)
			revoked := time.Now()

			if mode == "session" {
				// At once: the very next request is refused.
				phone.open("/cart")
				if got := phone.lines(); len(got) != 0 {
					t.Fatalf("the phone still sees the cart %v after being signed out", got)
				}
				if txt := phone.text(); !strings.Contains(txt, "Sign in to see your cart") {
					t.Errorf("the phone's cart page does not ask to sign in:\n%s", txt)
				}
			} else {
				// The phone's page is still open with an access token in
				// memory. Its next request is refused (revocation feed);
				// its refresh fails (revoked login); the page signs out.
				phone.do("removing the tote", chromedp.Click(chromedp.CSS(`.line[data-product="canvas-tote"] .line-remove button`)))
				phone.waitFor("the phone to be signed out", settled+` && document.getElementById("signin-prompt") !== null`, accessTTL+5*time.Second)
				if d := time.Since(revoked); d > accessTTL+5*time.Second {
					t.Errorf("the phone was signed out %v after the revocation", d)
				}
				if got := phone.lines(); len(got) != 0 {
					t.Errorf("the phone still sees the cart %v", got)
				}
			}
			// The refused request changed nothing; the laptop still works.
			if got, want := laptop.cart(), []string{"canvas-tote:1"}; !sameItems(got, want) {
				t.Errorf("the laptop's cart = %v, want %v", got, want)
			}
		})
	}
}

// Two tabs of one browser share the refresh token in IndexedDB, and
// each refreshes on every page load and before its access token expires.
// With the server's refresh grace off, a refresh token presented twice is
// taken for theft and ends the login: the tabs stay signed in only because
// the Web Lock serialises their refreshes and each reads the stored token
// inside the lock. (Navigating a tab while its own refresh is in flight
// would lose the new token, which the grace is for; the test leaves the
// timers alone while it navigates.)
func TestShopTabsNeverPresentTheSameRefreshToken(t *testing.T) {
	// Each tab refreshes 8 s after its last refresh: long enough that no
	// timer fires while the test reloads a tab, even on a slow machine.
	const ttl = 10 * time.Second
	s := startDemo(t, "--access-ttl", ttl.String(), "--refresh-grace", "0")
	browser := newBrowser(t)
	fay := newAccount(t, s, "fay@example.com")
	one := openTab(t, browser, s.url, "tab one")
	one.signIn(fay, "token", "/")
	one.add("brass-desk-lamp")
	one.open("/cart")
	two := one.sibling("tab two")
	two.open("/cart")
	signedIn := settled + ` && document.getElementById("app").dataset.mode === "token"`
	two.waitFor("the second tab to sign in with the stored refresh token", signedIn, stepTimeout)

	// Reload both tabs at the same moment, a few times: on load, each
	// refreshes at once, so two refreshes race for the lock.
	for i := range 3 {
		errs := make(chan error, 2)
		for _, tb := range []*tab{one, two} {
			go func() {
				ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
				defer cancel()
				errs <- chromedp.Do(ctx, chromedp.Reload())
			}()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("reload %d: %v", i, err)
			}
		}
		for _, tb := range []*tab{one, two} {
			tb.waitFor(fmt.Sprintf("%s to stay signed in after reload %d", tb.name, i), signedIn, stepTimeout)
		}
	}
	// Then leave both tabs alone while their timers refresh, at nearly
	// the same moment.
	one.do("waiting for timed refreshes", chromedp.Sleep(ttl))
	for i, tb := range []*tab{one, two} {
		if mode := eval[string](tb, `document.getElementById("app").dataset.mode`); mode != "token" {
			t.Fatalf("%s was signed out\n%s\n%s", tb.name, tb.describe(), s.logs)
		}
		// A request with the tab's current access token still works.
		want := fmt.Sprint(i + 2)
		tb.do("changing the quantity", chromedp.Evaluate[chromedp.Void](`(() => {
			const q = document.querySelector('#cart-lines input[name=quantity]');
			q.value = "`+want+`";
			q.dispatchEvent(new Event("change", {bubbles: true}));
		})()`))
		tb.waitFor(tb.name+"'s change", settled+` && document.getElementById("cart-articles")?.textContent === "`+want+`"`, stepTimeout)
	}
	if strings.Contains(s.logs.String(), "path=/v1/token/refresh status=401") {
		t.Errorf("a refresh was refused: two tabs presented the same refresh token\n%s", s.logs)
	}
	if n := strings.Count(s.logs.String(), "path=/v1/token/refresh status=200"); n < 10 {
		t.Errorf("only %d refreshes happened; the test did not race them", n)
	}
}

// Security headers, error pages and cross-origin protection, over plain
// HTTP: what every page of a real shop needs.
func TestShopHeadersAndErrors(t *testing.T) {
	s := startDemo(t)
	c := newClient()
	for _, path := range []string{"/", "/cart", "/products/stoneware-mug", "/help", "/nowhere", "/orders"} {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: X-Content-Type-Options = %q, Referrer-Policy = %q", path, h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		want := map[string]int{"/nowhere": 404, "/orders": 401}[path]
		if want == 0 {
			want = 200
		}
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	// A form posted from another site is refused.
	r := s.call(c, "POST", "/api/cart/items", map[string]any{"product_id": "stoneware-mug"}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	s.want(r, 403, "cross_origin")
	// Orders need a sign-in, and the API says so as Gatehouse would.
	s.want(s.call(c, "GET", "/api/orders", nil), 401, "unauthenticated")
}

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The shop's browser tests drive Debian's Chromium, headless, through
// chromedp. Each test runs its own `gatehouse demo`, and each test or
// subtest its own browser, bounded to shopTestTimeout.
const (
	shopTestTimeout = 60 * time.Second
	stepTimeout     = 20 * time.Second
	chromiumPath    = "/usr/bin/chromium"
)

// shopPassword is the password of every account the tests create.
const shopPassword = "a walk in the shop"

var chromiumOnce struct {
	sync.Mutex
	path string
}

// needChromium returns Chromium's path, installing the Debian package
// (as root, apt-get install -y chromium) when it is missing. A failed
// install fails the test rather than skipping it: CI must run the browser
// tests for real.
func needChromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Lock()
	defer chromiumOnce.Unlock()
	if chromiumOnce.path != "" {
		return chromiumOnce.path
	}
	find := func() string {
		if isExecutable(chromiumPath) {
			return chromiumPath
		}
		if p, err := exec.LookPath("chromium"); err == nil {
			return p
		}
		return ""
	}
	if p := find(); p != "" {
		chromiumOnce.path = p
		return p
	}
	t.Logf("chromium is missing: installing the Debian package chromium")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"update", "-qq"},
		{"install", "-y", "-qq", "-o", "DPkg::Lock::Timeout=120", "chromium"},
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s\n(the shop's browser tests need Chromium: run them as root with apt, or install the package chromium first)",
				strings.Join(args, " "), err, out)
		}
	}
	p := find()
	if p == "" {
		t.Fatal("installed chromium but found no chromium command")
	}
	chromiumOnce.path = p
	return p
}

// startDemo runs `gatehouse demo` on a free port with a database in a
// temporary directory, and waits until the shop answers (after Gatehouse,
// since the shop reaches it over HTTP).
func startDemo(t *testing.T, extra ...string) *server {
	t.Helper()
	db := filepath.Join(t.TempDir(), "demo.db")
	addr := freeAddr(t)
	s := startArgs(t, db, addr, append([]string{"demo", "--addr", addr, "--db", db}, extra...)...)
	eventually(t, 20*time.Second, "the shop answers", func() bool {
		res, err := http.Get(s.url + "/")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return s
}

// newAccount registers an account through the API.
func newAccount(t *testing.T, s *server, email string) string {
	t.Helper()
	s.want(s.call(newClient(), "POST", "/v1/users", map[string]string{"email": email, "password": shopPassword}), 201, "")
	return email
}

// newBrowser starts a headless Chromium that lives until the test ends or
// shopTestTimeout passes, whichever comes first: a test that hangs fails
// within the minute. extra adds to the options (more flags).
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	exe := needChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// Without these, Chromium reaches for Google's servers, and on a
		// closed network its connections are refused.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	opts = append(opts, extra...)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), shopTestTimeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelTimeout() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// tab is one tab in a browser context of its own: its own cookies and
// storage, like another person's browser.
type tab struct {
	t       *testing.T
	ctx     context.Context
	browser context.Context // the browser the tab's context belongs to
	base    string
	name    string
}

func openTab(t *testing.T, browser context.Context, base, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a browser context: %v", err)
	}
	return &tab{t: t, ctx: ctx, browser: browser, base: base, name: name}
}

// sibling opens another tab in the same browser context: the same cookies
// and storage, as a second tab of one person's browser.
func (b *tab) sibling(name string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab: %v", err)
	}
	return &tab{t: b.t, ctx: ctx, browser: b.browser, base: b.base, name: name}
}

// do runs steps, each bounded to stepTimeout.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v\n%s", b.name, what, err, b.describe())
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluating %s: %v", b.name, expr, err)
	}
	return v
}

// describe says where the tab is, for failure messages.
func (b *tab) describe() string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 3*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.querySelector("main") || document.body).innerText.slice(0, 600)`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return "page: " + v
}

// waitFor waits until the JavaScript condition holds, within timeout. It
// evaluates the condition again and again rather than in one poll in the
// page, because the page may navigate meanwhile (a form post, a reload by
// the script).
func (b *tab) waitFor(what, cond string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+cond+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if b.ctx.Err() != nil || time.Now().After(deadline) {
			b.t.Fatalf("%s: waiting for %s: not within %v (last error: %v)\n%s", b.name, what, timeout, last, b.describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settled is true once the page's script has finished: signed in, page
// swapped in.
const settled = `document.readyState === "complete" && document.documentElement.dataset.ready === "1"`

// open loads a page and waits until it has settled.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("opening "+path, chromedp.Navigate(b.base+path))
	b.waitFor("the page to settle at "+path, settled, stepTimeout)
}

// reload reloads the page and waits until it has settled.
func (b *tab) reload() {
	b.t.Helper()
	b.do("reloading", chromedp.Reload())
	b.waitFor("the reloaded page to settle", settled, stepTimeout)
}

// signIn signs in through the sign-in page, in mode "session" or
// "token", and lands on next.
func (b *tab) signIn(email, mode, next string) {
	b.t.Helper()
	b.open("/signin?next=" + next)
	b.do("filling the sign-in form",
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
		chromedp.Click(chromedp.CSS("#mode-"+mode)),
		chromedp.Click(chromedp.CSS("#auth-submit")),
	)
	b.waitFor("signing in ("+mode+")", fmt.Sprintf(`%s && location.pathname === %q && document.getElementById("app").dataset.mode === %q`,
		settled, strings.SplitN(next, "?", 2)[0], mode), stepTimeout)
}

// signOut signs out from the account menu.
func (b *tab) signOut() {
	b.t.Helper()
	b.do("signing out",
		chromedp.Click(chromedp.CSS(".menu summary")),
		chromedp.Click(chromedp.CSS("form[data-signout] button")),
	)
	b.waitFor("the signed-out page", settled+` && location.pathname === "/signin" && document.getElementById("app").dataset.mode === "guest"`, stepTimeout)
}

// add puts one of a product into the cart from its page.
func (b *tab) add(productID string) {
	b.t.Helper()
	b.open("/products/" + productID)
	b.do("adding "+productID, chromedp.Click(chromedp.CSS("#add-to-cart")))
	b.waitFor(productID+" to be added", settled+` && document.querySelector(".added") !== null`, stepTimeout)
}

// cart opens the cart page and returns what it holds, as "product:quantity".
func (b *tab) cart() []string {
	b.t.Helper()
	b.open("/cart")
	return b.lines()
}

// lines reads the cart lines of the page shown.
func (b *tab) lines() []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll("#cart-lines .line")].map(l => l.dataset.product + ":" + l.querySelector("input[name=quantity]").value)`)
}

// text is the visible text of the page's main part.
func (b *tab) text() string {
	b.t.Helper()
	return eval[string](b, `document.getElementById("main").innerText`)
}

// openPanel opens the "How am I remembered?" panel and waits until it
// shows what Gatehouse holds.
func (b *tab) openPanel() {
	b.t.Helper()
	b.do("opening the panel", chromedp.Evaluate[chromedp.Void](`document.querySelector("#remember details").open = true`))
	b.waitFor("the panel to show the server's record", `document.querySelector("#panel-body pre") !== null`, stepTimeout)
}

// screenshot saves a PNG of the whole page under the artifacts directory:
// $GATEHOUSE_ARTIFACTS, else a temporary directory of the test.
func (b *tab) screenshot(name string) string {
	b.t.Helper()
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// shopAPI is a Go client of the shop's JSON API, signed in with a session
// cookie: the test's way to look behind the browser.
type shopAPI struct {
	s *server
	c *http.Client
}

func signedInAPI(t *testing.T, s *server, email string) shopAPI {
	t.Helper()
	c := newClient()
	s.want(s.call(c, "POST", "/v1/login", map[string]any{"email": email, "password": shopPassword, "mode": "session"}), 200, "")
	return shopAPI{s, c}
}

// cart returns the account's cart as "product:quantity".
func (a shopAPI) cart() []string {
	a.s.t.Helper()
	r := a.s.call(a.c, "GET", "/api/cart", nil)
	a.s.want(r, 200, "")
	var out []string
	for _, it := range r.body["items"].([]any) {
		m := it.(map[string]any)
		out = append(out, fmt.Sprintf("%s:%v", m["product_id"], m["quantity"]))
	}
	return out
}

func (a shopAPI) add(productID string, qty int) {
	a.s.t.Helper()
	a.s.want(a.s.call(a.c, "POST", "/api/cart/items", map[string]any{"product_id": productID, "quantity": qty}), 200, "")
}

// sameItems compares two carts as sets of "product:quantity".
func sameItems(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] == 0 {
			return false
		}
		seen[w]--
	}
	return true
}

// jsonString is a Go string as a JavaScript string literal.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSpace(b.String())
}

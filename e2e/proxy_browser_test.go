package e2e_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Forward authentication for browsers, in real Chromium, through real
// nginx and Caddy running the configs committed under deploy/: a browser
// that opens a protected app without a login is sent to Gatehouse's
// sign-in page and, once signed in, lands back on exactly the URL it
// opened, path and query (with & and =) kept.

// signInTarget is the app URL the browser opens, after the proxy's origin:
// a path, and a query holding & and = both as separators and escaped
// inside values, which a naive rd=<URL> without escaping would cut short.
const signInTarget = "/reports/2026/q3?view=full&filter=a%3Db&sort=name=asc&next=%2Fx%3Fy%3D1%26z%3D2&empty="

// TestProxyBrowserSignIn runs deploy/nginx/gatehouse.conf and
// deploy/caddy/Caddyfile on one origin, plain HTTP (gatehouse serve --dev
// with --issuer the proxy's URL, the pages under /auth/ on the app's
// origin), and checks in Chromium: sign-in and back to the exact URL, the
// "no access" page of /admin/, a browser restart after a login without
// "keep me signed in" (signed out) and after one with it (still signed
// in), and signing out from the account page.
func TestProxyBrowserSignIn(t *testing.T) {
	for _, p := range []struct {
		name string
		run  func(*testing.T) proxyRunner
	}{{"nginx", nginxRunner}, {"caddy", caddyRunner}} {
		t.Run(p.name, func(t *testing.T) { testBrowserSignIn(t, p.name, p.run(t)) })
	}
}

func testBrowserSignIn(t *testing.T, name string, run proxyRunner) {
	listen := freeAddr(t)
	base := "http://" + listen
	gh := start(t, "", "--trusted-proxies", "127.0.0.1", "--issuer", base)
	a := startProtectedApp(t)
	a.name = "the app"
	run(t, strings.TrimPrefix(gh.url, "http://"), a.addr, listen)
	ada := newBrowserUser(t, gh, "ada@example.com")
	target := base + signInTarget

	browser := newBrowser(t)
	b := openTab(t, browser, base, name)
	b.wantSignIn(base, target)
	b.screenshot("proxy-" + name + "-signin.png")
	b.signInBack(ada, false, target, "the app")
	b.screenshot("proxy-" + name + "-app.png")

	// A page of the app that needs a permission ada lacks: Gatehouse's
	// "no access" page, through the proxy, whose link signs in as someone
	// else and comes back to it.
	admin := base + "/admin/users?page=2&q=a%26b"
	b.do("opening the admin page", chromedp.Navigate(admin))
	b.waitFor("the no-access page", fmt.Sprintf(`document.readyState === "complete" && location.href === %s && document.querySelector("a.button") !== null`, jsonString(admin)), stepTimeout)
	text := b.mainText()
	for _, want := range []string{ada.email, "users:admin"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s: the no-access page does not show %q:\n%s", name, want, text)
		}
	}
	if got := eval[string](b, `new URL(document.querySelector("a.button").href).searchParams.get("rd")`); got != admin {
		t.Errorf("%s: the no-access page's sign-in link returns to %q, want %q", name, got, admin)
	}
	b.screenshot("proxy-" + name + "-forbidden.png")

	// A restart ends a browser-session login: its cookie is gone.
	b = b.restart([]string{base})
	b.wantSignIn(base, target)
	// "Keep me signed in" survives the restart.
	b.signInBack(ada, true, target, "the app")
	b = b.restart([]string{base})
	b.do("opening the app after a restart", chromedp.Navigate(target))
	b.wantApp(ada, target, "the app")

	// A part of the app that needs two factors, opened with this
	// password login once ada has an authenticator app: the proxy sends
	// the browser to step up (not to sign in again), and the code brings
	// it back to exactly the URL it opened, now at aal2.
	secret := ada.enrolTOTP(t, gh)
	secure := base + "/secure/report?q=a%26b&x=1"
	b.do("opening a page that needs two factors", chromedp.Navigate(secure))
	b.waitFor("the step-up page", fmt.Sprintf(`document.readyState === "complete" && location.origin + location.pathname === %s && document.querySelector("#code") !== null`,
		jsonString(base+"/auth/step-up")), stepTimeout)
	if got := eval[string](b, `document.querySelector("input[name=rd]").value`); got != secure {
		t.Errorf("%s: the step-up page returns to %q, want %q", name, got, secure)
	}
	b.screenshot("proxy-" + name + "-step-up.png")
	b.do("giving the code", chromedp.SetValue(chromedp.CSS("#code"), totpCode(t, secret, 1)), chromedp.Click(chromedp.CSS("#code ~ button, form:has(#code) button")))
	b.wantApp(ada, secure, "the app")
	if got := eval[string](b, `JSON.parse(document.getElementById("hit").textContent).header["X-Gatehouse-Aal"].join()`); got != "2" {
		t.Errorf("%s: the app behind /secure/ was told X-Gatehouse-AAL %q, want 2", name, got)
	}

	// Signing out on the account page: the next visit signs in again.
	b.signOutAt(base)
	b.wantSignIn(base, target)
	a.checkAllSignedIn(t, ada)
}

// TestProxyBrowserSubdomains runs deploy/subdomains/Caddyfile and
// deploy/subdomains/nginx.conf: Gatehouse at auth.example.test, two apps
// at app1.example.test and app2.example.test, and checks in Chromium that
// one sign-in opens both apps, survives a restart with "keep me signed
// in", and one sign-out closes both.
//
// It runs over HTTPS, without --dev, as deployed: the cookie is then
// __Secure-gatehouse with Domain=example.test and Secure, which is what
// this deployment stands on (plain HTTP with --dev would test a cookie
// without Secure, which no real deployment has). The certificate is made
// for the test; Chromium accepts it by its public key
// (--ignore-certificate-errors-spki-list), so the pages are a secure
// context with no certificate error, as with a real certificate. The names
// resolve to 127.0.0.1 in Chromium (--host-resolver-rules) and every server
// listens on 127.0.0.1 only. The proxy listens on a free port rather than
// 443, so the URLs carry it, and Gatehouse is told --redirect-domains
// .example.test:PORT (with 443 the default, example.test and its
// subdomains, is enough).
func TestProxyBrowserSubdomains(t *testing.T) {
	cert := newTestCertificate(t, "example.test", "*.example.test")
	for _, p := range []struct{ name, config string }{{"caddy", "deploy/subdomains/Caddyfile"}, {"nginx", "deploy/subdomains/nginx.conf"}} {
		t.Run(p.name, func(t *testing.T) { testBrowserSubdomains(t, p.name, p.config, cert) })
	}
}

func testBrowserSubdomains(t *testing.T, name, config string, cert testCertificate) {
	_, port, _ := net.SplitHostPort(freeAddr(t))
	auth := "https://auth.example.test:" + port
	db := filepath.Join(t.TempDir(), "gatehouse.db")
	addr := freeAddr(t)
	gh := startArgs(t, db, addr, "serve", "--addr", addr, "--db", db, "--trusted-proxies", "127.0.0.1",
		"--issuer", auth, "--cookie-domain", "example.test", "--redirect-domains", ".example.test:"+port)
	app1, app2 := startProtectedApp(t), startProtectedApp(t)
	app1.name, app2.name = "app1", "app2"

	dir := t.TempDir()
	conf := renderConfig(t, config, dir, map[string]string{
		"PORT": port, "GATEHOUSE": strings.TrimPrefix(gh.url, "http://"), "APP1": app1.addr, "APP2": app2.addr,
		"CERT": cert.certFile, "KEY": cert.keyFile, "TMP": dir,
	})
	client := cert.client(port)
	switch name {
	case "nginx":
		startProxyClient(t, name, nil, client, auth+"/.well-known/jwks.json",
			needCommand(t, "nginx", "nginx"), "-p", dir, "-c", conf, "-e", "stderr", "-g", "daemon off;")
	case "caddy":
		env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
		startProxyClient(t, name, env, client, auth+"/.well-known/jwks.json",
			needCommand(t, "caddy", "caddy"), "run", "--config", conf, "--adapter", "caddyfile")
	}
	ada := newBrowserUser(t, gh, "ada@example.com")
	url1 := "https://app1.example.test:" + port + signInTarget
	url2 := "https://app2.example.test:" + port + "/inbox?filter=unread&sort=date=desc"

	// An API client is refused with 401 problem details, not sent to sign in.
	res, err := client.Get(url1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 401 || !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: an API client without a login got %d %q, want 401 problem details", name, res.StatusCode, ct)
	}
	// The cookie of a sign-in at auth.example.test opens app1, which is
	// told Gatehouse's identity and nothing the client sent under those
	// names.
	login, _ := http.NewRequest("POST", auth+"/v1/login", strings.NewReader(
		fmt.Sprintf(`{"email":%s,"password":%s,"mode":"session"}`, jsonString(ada.email), jsonString(shopPassword))))
	login.Header.Set("Content-Type", "application/json")
	login.Header.Set("Origin", auth)
	if res, err = client.Do(login); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == "__Secure-gatehouse" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if res.StatusCode != 200 || cookie == "" {
		t.Fatalf("%s: signing in at %s: %d, Set-Cookie %q", name, auth, res.StatusCode, res.Header.Values("Set-Cookie"))
	}
	req, _ := http.NewRequest("GET", url1, nil)
	req.Header["Cookie"] = []string{cookie}
	req.Header["X-Gatehouse-User"] = []string{"forged-id"}
	req.Header["x-gatehouse-email"] = []string{"root@example.com"}
	req.Header["X-Gatehouse-Roles"] = []string{"admin"}
	if res, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if hits := app1.take(); res.StatusCode != 200 || len(hits) != 1 {
		t.Errorf("%s: GET app1 with the cookie = %d, app reached %d times; want 200 and once", name, res.StatusCode, len(hits))
	} else {
		want := map[string]string{"X-Gatehouse-User": ada.id, "X-Gatehouse-Email": ada.email, "X-Gatehouse-Roles": "customer"}
		for k, v := range want {
			if got := hits[0].Header[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: app1 was told %s %q, want exactly %q", name, k, got, v)
			}
		}
	}

	browser := newBrowser(t,
		chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", cert.spki),
	)
	b := openTab(t, browser, auth, name)
	b.wantSignIn(auth, url1)
	b.screenshot("proxy-subdomains-" + name + "-signin.png")
	b.signInBack(ada, true, url1, "app1")
	b.screenshot("proxy-subdomains-" + name + "-app1.png")
	// One sign-in opens the other app too.
	b.do("opening app2", chromedp.Navigate(url2))
	b.wantApp(ada, url2, "app2")

	// The cookie is the one this deployment stands on.
	origins := []string{auth, "https://app1.example.test:" + port, "https://app2.example.test:" + port}
	var found bool
	for _, c := range b.cookies(origins) {
		if c.Name != "__Secure-gatehouse" {
			t.Errorf("%s: a cookie %q for %s, want only __Secure-gatehouse", name, c.Name, c.Domain)
			continue
		}
		found = true
		if c.Domain != ".example.test" || !c.Secure || !c.HTTPOnly || c.Session || c.SameSite != network.CookieSameSiteLax {
			t.Errorf("%s: the session cookie is %+v, want Domain .example.test, Secure, HttpOnly, SameSite=Lax, persistent", name, c)
		}
	}
	if !found {
		t.Fatalf("%s: no __Secure-gatehouse cookie after signing in", name)
	}

	// "Keep me signed in": both apps still open after a restart.
	b = b.restart(origins)
	b.do("opening app2 after a restart", chromedp.Navigate(url2))
	b.wantApp(ada, url2, "app2")
	b.do("opening app1 after a restart", chromedp.Navigate(url1))
	b.wantApp(ada, url1, "app1")

	// Signing out at auth.example.test closes both apps.
	b.signOutAt(auth)
	b.wantSignIn(auth, url2)
	b.wantSignIn(auth, url1)
	app1.checkAllSignedIn(t, ada)
	app2.checkAllSignedIn(t, ada)
}

// browserUser is an account the browser signs in as.
type browserUser struct{ id, email string }

// newBrowserUser registers an account on Gatehouse directly.
func newBrowserUser(t *testing.T, gh *server, email string) browserUser {
	t.Helper()
	r := gh.call(newClient(), "POST", "/v1/users", map[string]string{"email": email, "password": shopPassword})
	gh.want(r, 201, "")
	return browserUser{r.body["id"].(string), email}
}

// enrolTOTP sets up an authenticator app for u through the API, in a
// token login of its own, and returns its secret; the code of the
// current 30-second step is spent.
func (u browserUser) enrolTOTP(t *testing.T, gh *server) string {
	t.Helper()
	login := gh.call(newClient(), "POST", "/v1/login", map[string]any{"email": u.email, "password": shopPassword, "mode": "token"})
	gh.want(login, 200, "")
	bearer := []string{"Authorization", "Bearer " + login.body["access_token"].(string)}
	key := gh.call(newClient(), "POST", "/v1/mfa/totp", map[string]string{"password": shopPassword}, bearer...)
	gh.want(key, 200, "")
	secret := key.body["secret"].(string)
	gh.want(gh.call(newClient(), "POST", "/v1/mfa/totp/confirm", map[string]string{"code": totpCode(t, secret, 0)}, bearer...), 200, "")
	return secret
}

// wantSignIn opens target and checks that the browser lands on the
// sign-in page of the issuer, which will send it back to target: the rd
// that reached the page is target, whole.
func (b *tab) wantSignIn(issuer, target string) {
	b.t.Helper()
	b.do("opening "+target, chromedp.Navigate(target))
	b.waitFor("the sign-in page", fmt.Sprintf(`document.readyState === "complete" && location.origin + location.pathname === %s && document.querySelector("input[name=rd]") !== null`,
		jsonString(issuer+"/auth/signin")), stepTimeout)
	if got := eval[string](b, `document.querySelector("input[name=rd]").value`); got != target {
		b.t.Errorf("%s: the sign-in page returns to %q, want %q", b.name, got, target)
	}
}

// signInBack fills the sign-in page shown and checks that the browser
// lands back on target, in the app.
func (b *tab) signInBack(u browserUser, remember bool, target, app string) {
	b.t.Helper()
	b.do("filling the sign-in form",
		chromedp.SetValue(chromedp.CSS("#email"), u.email),
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
	)
	if remember {
		b.do("keeping me signed in", chromedp.Click(chromedp.CSS("#remember")))
	}
	b.do("signing in", chromedp.Click(chromedp.CSS("button.primary")))
	b.wantApp(u, target, app)
}

// wantApp waits until the browser shows the app at exactly target, and
// checks what the app was told: the path and query as asked for, and the
// user.
func (b *tab) wantApp(u browserUser, target, app string) {
	b.t.Helper()
	b.waitFor("the app at "+target, fmt.Sprintf(`document.readyState === "complete" && location.href === %s && document.getElementById("hit") !== null`, jsonString(target)), stepTimeout)
	var hit appHit
	if err := json.Unmarshal([]byte(eval[string](b, `document.getElementById("hit").textContent`)), &hit); err != nil {
		b.t.Fatalf("%s: the app's page: %v", b.name, err)
	}
	want, err := url.Parse(target)
	if err != nil {
		b.t.Fatal(err)
	}
	if hit.App != app || hit.Path != want.Path || hit.Query != want.RawQuery {
		b.t.Errorf("%s: %s got %s?%s, want %s to get %s?%s", b.name, hit.App, hit.Path, hit.Query, app, want.Path, want.RawQuery)
	}
	if got := hit.Header["X-Gatehouse-User"]; len(got) != 1 || got[0] != u.id {
		b.t.Errorf("%s: the app was told X-Gatehouse-User %q, want %q", b.name, got, u.id)
	}
	if got := hit.Header["X-Gatehouse-Email"]; len(got) != 1 || got[0] != u.email {
		b.t.Errorf("%s: the app was told X-Gatehouse-Email %q, want %q", b.name, got, u.email)
	}
}

// signOutAt signs out with the button of the account page's navigation.
func (b *tab) signOutAt(issuer string) {
	b.t.Helper()
	b.do("opening the account page", chromedp.Navigate(issuer+"/auth/account"))
	b.waitFor("the account page", fmt.Sprintf(`document.readyState === "complete" && location.href === %s && document.querySelector("nav form button") !== null`, jsonString(issuer+"/auth/account")), stepTimeout)
	b.do("signing out", chromedp.Click(chromedp.CSS("nav form button")))
	b.waitFor("the sign-in page after signing out", fmt.Sprintf(`document.readyState === "complete" && location.href === %s`, jsonString(issuer+"/auth/signin")), stepTimeout)
}

// mainText is the visible text of the page's main element.
func (b *tab) mainText() string {
	b.t.Helper()
	return eval[string](b, `(document.querySelector("main") || document.body).innerText`)
}

// cookies returns the cookies the browser would send to any of origins.
func (b *tab) cookies(origins []string) []*network.Cookie {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: origins})
	if err != nil {
		b.t.Fatalf("%s: reading the cookies: %v", b.name, err)
	}
	return res.Cookies
}

// restart stands for quitting the browser and starting it again: a new
// browser context, with the cookies of origins that a browser keeps on
// disk (those with an expiry) and none of its session cookies, as a real
// restart does. The old context is closed.
func (b *tab) restart(origins []string) *tab {
	b.t.Helper()
	var keep []*network.CookieParam
	for _, c := range b.cookies(origins) {
		if c.Session {
			continue
		}
		p := &network.CookieParam{
			Name: c.Name, Value: c.Value, Path: c.Path, Secure: c.Secure, HTTPOnly: c.HTTPOnly,
			SameSite: c.SameSite, Expires: cdp.TimeSinceEpoch(c.Expires),
		}
		if strings.HasPrefix(c.Domain, ".") {
			p.Domain = c.Domain // a domain cookie stays one
		} else {
			// A host-only cookie is set from a URL, so it stays host-only.
			scheme := "http"
			if c.Secure {
				scheme = "https"
			}
			p.URL = scheme + "://" + net.JoinHostPort(c.Domain, fmt.Sprint(c.SourcePort)) + c.Path
		}
		keep = append(keep, p)
	}
	b.t.Logf("%s: restarting the browser, keeping %d persistent cookies", b.name, len(keep))
	if err := chromedp.Cancel(b.ctx); err != nil {
		b.t.Logf("%s: closing the old browser context: %v", b.name, err)
	}
	nb := openTab(b.t, b.browser, b.base, b.name)
	if len(keep) > 0 {
		ctx, cancel := context.WithTimeout(nb.ctx, stepTimeout)
		defer cancel()
		if _, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: keep}); err != nil {
			b.t.Fatalf("%s: restoring the cookies: %v", b.name, err)
		}
	}
	return nb
}

// checkAllSignedIn checks that every request that reached the app came
// with u's identity: the proxy let nothing through without a login.
func (a *protectedApp) checkAllSignedIn(t *testing.T, u browserUser) {
	t.Helper()
	hits := a.take()
	if len(hits) == 0 {
		t.Errorf("%s was never reached", a.name)
	}
	for _, h := range hits {
		if got := h.Header["X-Gatehouse-User"]; len(got) != 1 || got[0] != u.id {
			t.Errorf("%s was reached by %s %s?%s with X-Gatehouse-User %q, want %q", a.name, h.Method, h.Path, h.Query, got, u.id)
		}
	}
}

// testCertificate is a self-signed certificate made for one test run, in
// PEM files, with the hash of its public key as Chromium's
// --ignore-certificate-errors-spki-list takes it.
type testCertificate struct {
	certFile, keyFile string
	spki              string
	pool              *x509.CertPool
}

func newTestCertificate(t *testing.T, names ...string) testCertificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := testCertificate{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	if err := os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	c.spki = base64.StdEncoding.EncodeToString(sum[:])
	c.pool.AddCert(cert)
	return c
}

// client is an HTTP client that reaches every name on 127.0.0.1:port and
// trusts the certificate, as Chromium is told to; it does not follow
// redirects.
func (c testCertificate) client(port string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
			TLSClientConfig: &tls.Config{RootCAs: c.pool},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

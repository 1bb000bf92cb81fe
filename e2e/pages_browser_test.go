package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPagesInChromium signs in on Gatehouse's own sign-in page in real
// Chromium, with JavaScript as the browser has it, against `gatehouse
// serve --dev`: the sign-in page, the account page with its logins list,
// and sign-out. It takes screenshots at desktop (1280 px) and phone
// (360 px) widths into the shop's artifacts directory.
func TestPagesInChromium(t *testing.T) {
	s := start(t, "", "--brand-name", "Gatehouse")
	email := newAccount(t, s, "pages@example.com")
	// A second login, from the API, so that the list shows two.
	signedInAPI(t, s, email)

	b := openTab(t, newBrowser(t), s.url, "pages")
	at := func(path, extra string) string {
		return fmt.Sprintf(`document.readyState === "complete" && location.pathname === %q%s`, path, extra)
	}
	width := func(w int64) { b.do(fmt.Sprintf("setting the width to %d", w), chromedp.EmulateViewport(w, 900)) }

	b.do("opening the account page", chromedp.Navigate(s.url+"/auth/account"))
	b.waitFor("the sign-in page, rd kept", at("/auth/signin", ` && document.querySelector("input[name=rd]").value === "/auth/account"`), stepTimeout)
	width(1280)
	b.screenshot("pages-signin-1280.png")
	width(360)
	b.screenshot("pages-signin-360.png")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the sign-in page is %d px wide at 360 px", w)
	}

	// A wrong password first: the form comes back with the email kept.
	b.do("signing in wrongly",
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the refused form", at("/auth/signin", ` && document.querySelector(".error") !== null && document.querySelector("#email").value === `+jsonString(email)), stepTimeout)
	b.screenshot("pages-signin-error-360.png")

	b.do("signing in",
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the account page", at("/auth/account", ` && document.querySelectorAll("li.login").length === 2`), stepTimeout)
	text := eval[string](b, `document.querySelector("main").innerText`)
	for _, want := range []string{email, "This device", "Sign out everywhere else", "Change password"} {
		if !strings.Contains(text, want) {
			t.Errorf("the account page does not show %q:\n%s", want, text)
		}
	}
	if n := eval[int](b, `document.querySelectorAll("li.login.current").length`); n != 1 {
		t.Errorf("%d logins marked as this one, want 1", n)
	}
	b.screenshot("pages-account-360.png")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the account page is %d px wide at 360 px", w)
	}
	width(1280)
	b.screenshot("pages-account-1280.png")

	b.do("signing out", chromedp.Click(chromedp.CSS("nav form button")))
	b.waitFor("the sign-in page after signing out", at("/auth/signin", ""), stepTimeout)
	b.do("opening the account page again", chromedp.Navigate(s.url+"/auth/account"))
	b.waitFor("the sign-in page again", at("/auth/signin", ""), 5*time.Second)
}

package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestRecoveryInTheBrowser goes from "Forgot your password?" on the
// sign-in page to signing in again with the new password, in Chromium,
// with the message read from a real mail server.
func TestRecoveryInTheBrowser(t *testing.T) {
	srv, flags := mailServer(t)
	s := start(t, "", flags...)
	newAccount(t, s, "ada@example.com")
	messageTo(t, srv, 0, "ada@example.com") // the verification message
	b := openTab(t, newBrowser(t), s.url, "recovery")

	b.do("opening the sign-in page", chromedp.Navigate(s.url+"/auth/signin"))
	b.waitFor("the link to recovery", `document.querySelector('a[href="/auth/recover"]')`, stepTimeout)
	b.do("following it", chromedp.Click(chromedp.CSS(`a[href="/auth/recover"]`)))
	b.waitFor("the recovery form", `location.pathname === "/auth/recover" && document.querySelector("#email")`, stepTimeout)
	b.do("asking for a link",
		chromedp.SetValue(chromedp.CSS("#email"), "ada@example.com"),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the page that says a link is on its way", `document.querySelector(".notice") && document.querySelector(".notice").textContent.includes("ada@example.com")`, stepTimeout)
	b.screenshot("recovery-sent.png")

	path, tok := linkIn(t, messageTo(t, srv, 1, "ada@example.com"))
	b.do("opening the link", chromedp.Navigate(s.url+path+"?token="+tok))
	b.waitFor("the new password form", `document.querySelector("#new_password")`, stepTimeout)
	b.screenshot("recovery-reset.png")
	b.do("choosing a new password",
		chromedp.SetValue(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the sign-in page with the notice", `location.pathname === "/auth/signin" && document.querySelector(".notice")`, stepTimeout)
	b.do("signing in with it",
		chromedp.SetValue(chromedp.CSS("#email"), "ada@example.com"),
		chromedp.SetValue(chromedp.CSS("#password"), "a brand new passphrase"),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the account page", `location.pathname === "/auth/account" && document.body.textContent.includes("ada@example.com")`, stepTimeout)
	b.screenshot("recovery-signed-in.png")

	// The link is spent: opening it again says so.
	b.do("opening the link again", chromedp.Navigate(s.url+path+"?token="+tok))
	b.waitFor("the page of a spent link", `document.querySelector(".error") && document.querySelector('a[href="/auth/recover"]')`, stepTimeout)
}

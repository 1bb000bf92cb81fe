package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReadmeProxyWalkthrough runs the README's "An app behind Gatehouse,
// in a browser" as written: its three commands (Gatehouse, the hello app,
// Caddy with the committed Caddyfile), with the built binaries for `go
// run`, free ports for 8080, 3000 and 8000 and a temporary directory for
// /tmp/gh-caddy, then does in Chromium what the text says: open the URL,
// create an account from the sign-in page, land back on that URL greeted
// by the email, sign out, and be asked to sign in again.
func TestReadmeProxyWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## An app behind Gatehouse, in a browser\n")
	if !ok {
		t.Fatal("README.md has no section \"An app behind Gatehouse, in a browser\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal("the README's proxy section has no sh block")
	}
	block, text, _ := strings.Cut(block, "```")
	m := regexp.MustCompile("Open `(http://127\\.0\\.0\\.1:8000/[^`]*)`").FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the README's proxy section says no URL to open")
	}

	dir := t.TempDir()
	hello := filepath.Join(dir, "hello")
	if out, err := exec.Command("go", "build", "-o", hello, "../deploy/hello").CombinedOutput(); err != nil {
		t.Fatalf("building deploy/hello: %v\n%s", err, out)
	}
	gh, app, px := freeAddr(t), freeAddr(t), freeAddr(t)
	fill := strings.NewReplacer(
		"go run ./cmd/gatehouse", bin, "go run ./deploy/hello", hello,
		"127.0.0.1:8080", gh, "127.0.0.1:3000", app, "127.0.0.1:8000", px, "/tmp/gh-caddy", filepath.Join(dir, "caddy"),
	)
	steps := strings.Split(strings.TrimSpace(fill.Replace(block)), "\n\n")
	if len(steps) != 3 {
		t.Fatalf("the README's proxy block has %d steps, want 3 (Gatehouse, the app, Caddy):\n%s", len(steps), block)
	}
	// Each step runs in the repository, as the README says, in a process
	// group of its own that is stopped at the end; Gatehouse keeps its
	// database and Caddy its data in the temporary directory.
	env := []string{"GATEHOUSE_DB=" + filepath.Join(dir, "gatehouse.db"), "HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data")}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	needCommand(t, "caddy", "caddy")
	for i, ready := range []string{"http://" + gh + "/healthz", "http://" + app + "/", "http://" + px + "/.well-known/jwks.json"} {
		// The last command replaces the shell, so that stopping the group
		// stops it and leaves nothing behind.
		lines := strings.Split(steps[i], "\n")
		last := 0
		for j := range lines {
			if j == 0 || !strings.HasSuffix(lines[j-1], "\\") {
				last = j // a command starts here
			}
		}
		lines[last] = "exec " + lines[last]
		script := strings.Join(lines, "\n")
		startProxy(t, fmt.Sprintf("README step %d", i+1), env, ready, "bash", "-euo", "pipefail", "-c", "cd \"$1\"\n"+script, "readme", repo)
	}

	base := "http://" + px
	target := fill.Replace(m[1])
	email := "readme@example.com"
	b := openTab(t, newBrowser(t), base, "readme")
	b.wantSignIn(base, target)
	b.do("following \"Create one\"", chromedp.Click(chromedp.CSS(`a[href^="/auth/signup"]`)))
	b.waitFor("the sign-up page", `document.readyState === "complete" && location.pathname === "/auth/signup" && document.querySelector("#email") !== null`, stepTimeout)
	b.do("creating an account",
		chromedp.SetValue(chromedp.CSS("#email"), email),
		chromedp.SetValue(chromedp.CSS("#password"), shopPassword),
		chromedp.Click(chromedp.CSS("button.primary")),
	)
	b.waitFor("the app at "+target, fmt.Sprintf(`document.readyState === "complete" && location.href === %s`, jsonString(target)), stepTimeout)
	if got := b.mainText(); !strings.Contains(got, "Hello, "+email+"!") {
		t.Errorf("the app does not greet %s:\n%s", email, got)
	}
	b.screenshot("readme-proxy-hello.png")
	b.signOutAt(base)
	b.wantSignIn(base, target)
}

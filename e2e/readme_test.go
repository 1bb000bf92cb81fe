package e2e_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestReadmeWalkthrough runs the README's curl walk-through, as written,
// against the binary, so the README's commands keep working.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed for the README walk-through: apt-get install -y curl")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// Every block between walk-through markers, in order, as one script.
	var script string
	rest := string(readme)
	for {
		_, block, ok := strings.Cut(rest, "<!-- walkthrough -->")
		if !ok {
			break
		}
		block, rest, ok = strings.Cut(block, "<!-- /walkthrough -->")
		if !ok {
			t.Fatal("README.md has an unclosed walk-through block")
		}
		script += strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(block), "```sh"), "```") + "\n"
	}
	if script == "" {
		t.Fatal("README.md has no walk-through block")
	}
	s := start(t, "")
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", s.url)

	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{
		`"email":"ada@example.com"`, // register and login
		`"mode":"session"`,          // me
		`"sessions":[{`,             // sessions
		"204",                       // logout
		`"code":"unauthenticated"`,  // the old cookie
		`"mode":"token"`,            // me with the bearer token
		`"token_type":"Bearer"`,     // refresh
		`"keys":[{`,                 // jwks
	} {
		if !strings.Contains(got, want) {
			t.Errorf("walk-through output lacks %s:\n%s", want, got)
		}
	}
}

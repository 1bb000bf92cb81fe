package e2e_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBrandFlags runs serve with --brand-logo and --brand-color: the pages
// show the logo, served by Gatehouse, and the colour, in the stylesheet;
// a bad value stops serve at start with one line and exit status 2.
func TestBrandFlags(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	logo := file("logo.svg", brandLogo)
	s := start(t, "", "--brand-name", "Acme Shop", "--brand-logo", logo, "--brand-color", "#C0392B")
	get := func(path string) (*http.Response, string) {
		res, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if _, page := get("/auth/signin"); !strings.Contains(page, `<img src="/auth/static/logo" alt="">Acme Shop</a>`) {
		t.Errorf("the sign-in page has no logo:\n%s", page)
	}
	if res, body := get("/auth/static/logo"); res.Header.Get("Content-Type") != "image/svg+xml" || body != brandLogo ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("the logo: %d %v\n%s", res.StatusCode, res.Header, body)
	}
	if _, css := get("/auth/static/style.css"); !strings.Contains(css, "--accent: #c0392b;") || !strings.Contains(css, "--on-accent: #ffffff;") {
		t.Errorf("the stylesheet has no brand colour:\n%s", css[max(0, len(css)-400):])
	}

	db := filepath.Join(dir, "refused.db")
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--brand-color", "red"}, `gatehouse: --brand-color: "red" is not a colour written #RRGGBB`},
		{[]string{"--brand-color", "#abc"}, `gatehouse: --brand-color: "#abc" is not a colour written #RRGGBB`},
		{[]string{"--brand-logo", file("logo.txt", "just words")}, "the logo is not a PNG, JPEG, WebP or SVG image"},
		{[]string{"--brand-logo", file("logo.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;")}, "the logo is not a PNG, JPEG, WebP or SVG image"},
		{[]string{"--brand-logo", file("big.svg", `<svg xmlns="http://www.w3.org/2000/svg">`+strings.Repeat("<g/>", 9000)+`</svg>`)}, "the logo is over 32 KiB"},
		{[]string{"--brand-logo", filepath.Join(dir, "missing.png")}, "gatehouse: --brand-logo: open "},
	} {
		args := append([]string{"serve", "--dev", "--addr", freeAddr(t), "--db", db}, tc.flags...)
		_, stderr, code := cli(t, "", nil, args...)
		if code != 2 || len(lines(stderr)) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 and one line with %q", tc.flags, code, stderr, tc.want)
		}
	}
}

package gatehouse_test

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestReturnURLs(t *testing.T) {
	const issuer = "https://auth.example.com"
	domains := []string{"app.example.com", ".apps.example.com", "wiki.example.com:8443", "xn--bcher-kva.example"}
	rules, err := gatehouse.NewReturnURLs(issuer, domains, false)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := gatehouse.NewReturnURLs("http://127.0.0.1:8080", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []struct{ name, rd, want string }{
		{"path on gatehouse", "/auth/account", "/auth/account"},
		{"path with query", "/auth/account?x=1", "/auth/account?x=1"},
		{"issuer origin", "https://auth.example.com/auth/account", "https://auth.example.com/auth/account"},
		{"listed host", "https://app.example.com/orders?id=7#top", "https://app.example.com/orders?id=7#top"},
		{"listed host, upper case", "https://APP.example.com/", "https://app.example.com/"},
		{"mixed-case https scheme", "HTTPS://app.example.com/x", "https://app.example.com/x"},
		{"default port", "https://app.example.com:443/x", "https://app.example.com/x"},
		{"subdomain of a dot entry", "https://grafana.apps.example.com/d/1", "https://grafana.apps.example.com/d/1"},
		{"deep subdomain", "https://a.b.apps.example.com/", "https://a.b.apps.example.com/"},
		{"listed port", "https://wiki.example.com:8443/page", "https://wiki.example.com:8443/page"},
		{"listed punycode", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"},
		{"encoded slashes stay a path", "/%2F%2Fevil.example", "/%2F%2Fevil.example"},
	}
	for _, tc := range allowed {
		t.Run("allowed/"+tc.name, func(t *testing.T) {
			got, ok := rules.Check(tc.rd)
			if !ok || got != tc.want {
				t.Errorf("Check(%q) = %q, %v; want %q, true", tc.rd, got, ok, tc.want)
			}
		})
	}
	hostile := []struct{ name, rd string }{
		{"empty", ""},
		{"protocol-relative", "//evil.example"},
		{"protocol-relative with path", "//evil.example/auth/account"},
		{"user info trick", "https://evil.example@app.example.com/"},
		{"user info on a listed host", "https://user:pw@app.example.com/"},
		{"user info the other way", "https://app.example.com@evil.example/"},
		{"backslash path", "/\\evil.example"},
		{"backslashes", "\\\\evil.example"},
		{"backslash after scheme", "https:\\\\evil.example"},
		{"backslash in host", "https://app.example.com\\@evil.example/"},
		{"encoded protocol-relative", "%2F%2Fevil.example"},
		{"tab inside", "/\t/evil.example"},
		{"newline inside", "https://app.example.com\n.evil.example/"},
		{"carriage return inside", "/\r/evil.example"},
		{"leading space", " https://app.example.com/"},
		{"javascript", "javascript:alert(1)"},
		{"javascript mixed case", "JaVaScRiPt:alert(1)"},
		{"javascript with slashes", "javascript://app.example.com/%0aalert(1)"},
		{"data", "data:text/html,<script>alert(1)</script>"},
		{"vbscript", "vbscript:msgbox(1)"},
		{"file", "file:///etc/passwd"},
		{"ftp on a listed host", "ftp://app.example.com/"},
		{"http when not dev", "http://app.example.com/"},
		{"unlisted host", "https://evil.example/"},
		{"suffix lookalike", "https://app.example.com.evil.example/"},
		{"prefix lookalike", "https://evilapp.example.com/"},
		{"dot entry does not allow its apex", "https://apps.example.com/"},
		{"dot entry lookalike", "https://evilapps.example.com/"},
		{"unlisted port on a listed host", "https://app.example.com:8443/"},
		{"other port on a host listed with one", "https://wiki.example.com:9443/"},
		{"listed-port host without its port", "https://wiki.example.com/"},
		{"empty port", "https://app.example.com:/"},
		{"IDN lookalike not listed", "https://аpp.example.com/"},
		{"punycode lookalike not listed", "https://xn--pp-8kc.example.com/"},
		{"percent-encoded host", "https://%61pp.example.com/"},
		{"encoded dot in host", "https://app%2eexample.com/"},
		{"relative path", "auth/account"},
		{"dot relative", "./evil"},
		{"scheme only", "https:"},
		{"scheme without host", "https:///evil.example"},
		{"opaque https", "https:evil.example"},
		{"ip address", "https://203.0.113.7/"},
		{"issuer over http", "http://auth.example.com/"},
		{"trailing dot host", "https://app.example.com./"},
		{"null byte", "/auth/account\x00.evil.example"},
		{"too long", "/" + string(make([]byte, 3000))},
	}
	if len(hostile) < 30 {
		t.Fatalf("only %d hostile URLs", len(hostile))
	}
	for _, tc := range hostile {
		t.Run("hostile/"+tc.name, func(t *testing.T) {
			if got, ok := rules.Check(tc.rd); ok {
				t.Errorf("Check(%q) = %q, true; want refused", tc.rd, got)
			}
		})
	}
	t.Run("dev allows http on the issuer only", func(t *testing.T) {
		if _, ok := dev.Check("http://127.0.0.1:8080/auth/account"); !ok {
			t.Error("the issuer's own origin is refused")
		}
		if got, ok := dev.Check("http://127.0.0.1:9090/"); ok {
			t.Errorf("another port of the issuer's host: %q allowed", got)
		}
	})
}

func TestReturnURLsOrigins(t *testing.T) {
	r, err := gatehouse.NewReturnURLs("https://auth.example.com", gatehouse.DefaultRedirectDomains("https://auth.example.com", "example.com"), false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://*.example.com", "https://auth.example.com", "https://example.com"}
	if got := r.Origins(); !slices.Equal(got, want) {
		t.Errorf("Origins() = %q, want %q", got, want)
	}
	if _, ok := r.Check("https://shop.example.com/cart"); !ok {
		t.Error("a subdomain of the cookie domain is refused by default")
	}
	for _, bad := range []string{"", "ftp://x", "https://", "https://u@auth.example.com"} {
		if _, err := gatehouse.NewReturnURLs(bad, nil, false); err == nil {
			t.Errorf("NewReturnURLs(%q) accepted", bad)
		}
	}
	if _, err := gatehouse.NewReturnURLs("https://a.example", []string{"evil.example/path"}, false); err == nil {
		t.Error("a domain entry with a path was accepted")
	}
}

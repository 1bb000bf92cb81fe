package gatehouse_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestDeviceName(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on macOS"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iPhone"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"curl/8.5.0", "curl"},
		{"", ""},
		{"something unheard of", ""},
	} {
		if got := gatehouse.DeviceName(tc.ua); got != tc.want {
			t.Errorf("DeviceName(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Ada@Example.COM", "ada@example.com"},
		{"  ada@example.com\t", "ada@example.com"},
		{"ada+shop@mail.example.co.uk", "ada+shop@mail.example.co.uk"},
	} {
		got, err := gatehouse.NormalizeEmail(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{
		"", "ada", "ada@", "@example.com", "ada@localhost", "ada@example.", "ada@.example.com",
		"Ada <ada@example.com>", "ada @example.com", "ada@exa mple.com", "a\x00@example.com",
		strings.Repeat("a", 65) + "@example.com", "a@" + strings.Repeat("b", 250) + ".com", "\xff@example.com", "\ufffd@example.com",
	} {
		if _, err := gatehouse.NormalizeEmail(bad); gatehouse.ErrorCode(err) != gatehouse.CodeInvalidEmail {
			t.Errorf("NormalizeEmail(%q) = %v, want invalid_email", bad, err)
		}
	}
}

func TestPermissions(t *testing.T) {
	roles := gatehouse.BuiltinRoles()
	got := roles.Permissions([]string{"customer", "service", "customer", "no-such-role"})
	want := []string{"cart:read", "cart:write", "orders:read", "orders:write", "profile:read", "profile:write", "revocations:read"}
	if !slices.Equal(got, want) {
		t.Errorf("Permissions = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		perms []string
		want  string
		ok    bool
	}{
		{[]string{"*"}, "users:admin", true},
		{[]string{"cart:read"}, "cart:read", true},
		{[]string{"cart:read"}, "cart:write", false},
		{[]string{"orders:*"}, "orders:write", true},
		{[]string{"orders:*"}, "cart:write", false},
		{nil, "cart:read", false},
	} {
		if got := gatehouse.Grants(tc.perms, tc.want); got != tc.ok {
			t.Errorf("Grants(%v, %q) = %v, want %v", tc.perms, tc.want, got, tc.ok)
		}
	}
}

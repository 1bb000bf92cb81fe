package passkey_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/passkey"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rpID    string
		origins []string
		want    error  // nil: accepted
		why     string // in the error
	}{
		{name: "issuer's host", rpID: "auth.example.com", origins: []string{"https://auth.example.com"}},
		{name: "parent domain", rpID: "example.com", origins: []string{"https://auth.example.com", "https://example.com", "https://app.example.com:8443"}},
		{name: "upper case", rpID: "Example.COM", origins: []string{"HTTPS://Auth.Example.com/"}},
		{name: "under a multi-label public suffix", rpID: "example.co.uk", origins: []string{"https://auth.example.co.uk"}},
		{name: "under a private suffix", rpID: "gatehouse.github.io", origins: []string{"https://gatehouse.github.io"}},
		{name: "localhost over http", rpID: "localhost", origins: []string{"http://localhost:8080"}},
		{name: "*.localhost over http", rpID: "auth.localhost", origins: []string{"http://auth.localhost:8080", "https://auth.localhost"}},

		{name: "IPv4", rpID: "127.0.0.1", origins: []string{"http://127.0.0.1:8080"}, want: passkey.ErrNeedsDomain},
		{name: "IPv6", rpID: "::1", origins: []string{"http://[::1]:8080"}, want: passkey.ErrNeedsDomain},
		{name: "bracketed IPv6", rpID: "[2001:db8::1]", origins: []string{"https://[2001:db8::1]"}, want: passkey.ErrNeedsDomain},
		{name: "IPv4 without origins", rpID: "10.0.0.1", want: passkey.ErrNeedsDomain},

		{name: "empty", rpID: "", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "no relying party id"},
		{name: "single label", rpID: "gatehouse", origins: []string{"https://gatehouse"}, want: passkey.ErrBadConfig, why: "single label"},
		{name: "public suffix com", rpID: "com", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "public suffix"},
		{name: "public suffix co.uk", rpID: "co.uk", origins: []string{"https://example.co.uk"}, want: passkey.ErrBadConfig, why: "public suffix"},
		{name: "private public suffix github.io", rpID: "github.io", origins: []string{"https://gatehouse.github.io"}, want: passkey.ErrBadConfig, why: "public suffix"},
		{name: "with a port", rpID: "example.com:443", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "not a domain name"},
		{name: "a URL", rpID: "https://example.com", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "not a domain name"},
		{name: "trailing dot", rpID: "example.com.", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "not a domain name"},
		{name: "no origins", rpID: "example.com", want: passkey.ErrBadConfig, why: "no origins"},
		{name: "origin of another domain", rpID: "example.com", origins: []string{"https://example.net"}, want: passkey.ErrBadConfig, why: "not on the relying party id"},
		{name: "origin that only ends the same", rpID: "example.com", origins: []string{"https://badexample.com"}, want: passkey.ErrBadConfig, why: "not on the relying party id"},
		{name: "RP ID under the origin", rpID: "auth.example.com", origins: []string{"https://example.com"}, want: passkey.ErrBadConfig, why: "not on the relying party id"},
		{name: "one origin of two wrong", rpID: "example.com", origins: []string{"https://example.com", "https://example.org"}, want: passkey.ErrBadConfig, why: "not on the relying party id"},
		{name: "IP origin", rpID: "example.com", origins: []string{"https://127.0.0.1"}, want: passkey.ErrBadConfig, why: "not on the relying party id"},
		{name: "http not on localhost", rpID: "example.com", origins: []string{"http://example.com"}, want: passkey.ErrBadConfig, why: "must be https"},
		{name: "http on a localhost look-alike", rpID: "localhost.example.com", origins: []string{"http://localhost.example.com"}, want: passkey.ErrBadConfig, why: "must be https"},
		{name: "another scheme", rpID: "example.com", origins: []string{"ftp://example.com"}, want: passkey.ErrBadConfig, why: "must be https"},
		{name: "origin with a path", rpID: "example.com", origins: []string{"https://example.com/auth"}, want: passkey.ErrBadConfig, why: "scheme://host"},
		{name: "origin without scheme", rpID: "example.com", origins: []string{"example.com"}, want: passkey.ErrBadConfig, why: "scheme://host"},
		{name: "origin with user info", rpID: "example.com", origins: []string{"https://u@example.com"}, want: passkey.ErrBadConfig, why: "scheme://host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp, err := passkey.New(passkey.Config{RPID: tc.rpID, Origins: tc.origins})
			if tc.want == nil {
				if err != nil {
					t.Fatalf("New = %v, want a relying party", err)
				}
				if rp.RPID() != strings.ToLower(tc.rpID) {
					t.Fatalf("RPID() = %q", rp.RPID())
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("New = %v, want %v for %q", err, tc.want, tc.why)
			}
			if tc.want == passkey.ErrNeedsDomain && errors.Is(err, passkey.ErrBadConfig) {
				t.Fatalf("New = %v: ErrNeedsDomain is not ErrBadConfig, so callers can tell them apart", err)
			}
		})
	}
}

// TestNewNormalizesOrigins holds that an origin written with upper case,
// a default port or a trailing slash still matches the browser's.
func TestNewNormalizesOrigins(t *testing.T) {
	rp, err := passkey.New(passkey.Config{RPID: "example.com", Origins: []string{"HTTPS://Auth.Example.com:443/"}})
	if err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(t)
	opts, state, err := rp.BeginRegistration(newUser())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.FinishRegistration(newUser(), state, a.Create(t, opts, ceremony{Flags: flagUP | flagUV, Origin: origin})); err != nil {
		t.Fatal(err)
	}
	if o := readOptions(t, opts).PublicKey; o.RP.Name != "example.com" {
		t.Errorf("rp.name = %q, want the RP ID when RPName is empty", o.RP.Name)
	}
}

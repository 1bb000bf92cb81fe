package gatehouse

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzCheckAppURI: checkAppURI never panics, and a URI it accepts is one a
// browser can be sent to safely: it parses, is absolute, has no fragment
// and no user info, and is https, http on a loopback host, or (for a
// public app only) a private scheme with a dot in it.
func FuzzCheckAppURI(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		if checkAppURI(raw, public) != nil {
			return
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			t.Fatalf("accepted %q, which does not parse: %v", raw, err)
		case u.Scheme == "" || strings.Contains(raw, "#") || u.User != nil:
			t.Fatalf("accepted %q: relative, with a fragment or with user info", raw)
		case u.Scheme == "https" && u.Host == "":
			t.Fatalf("accepted %q: https without a host", raw)
		case u.Scheme == "http" && !loopbackHost(u.Hostname()):
			t.Fatalf("accepted %q: http on a host that is not loopback", raw)
		case u.Scheme != "https" && u.Scheme != "http" && (!public || !strings.Contains(u.Scheme, ".")):
			t.Fatalf("accepted %q (public %t): a custom scheme", raw, public)
		}
	})
}

// TestAppIDsAreNotFlags: no client id begins with "-" (without the rule,
// 1000 ids would hold about 16 that do).
func TestAppIDsAreNotFlags(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newAppID()
		if strings.HasPrefix(id, "-") || len(id) != 22 || seen[id] {
			t.Fatalf("newAppID() = %q: begins with -, is not 22 characters, or was drawn before", id)
		}
		seen[id] = true
	}
}

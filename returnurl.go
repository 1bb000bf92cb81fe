package gatehouse

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ReturnURLs is the rule of where a sign-in may send the browser back to
// (the pages' rd parameter): a path on Gatehouse itself, the issuer's own
// origin, or a URL on a listed host, over https (and http only when
// AllowHTTP is set, for --dev). It is a rule of Gatehouse rather than of
// one face, because every face that returns a browser somewhere (the
// pages now, email links and OpenID Connect later) must answer alike.
//
// A listed host is "app.example.com" (that host only) or ".example.com"
// (every subdomain of example.com, not example.com itself); either may
// name a port ("app.example.com:8443"), and then only that port is
// allowed. A URL that names a port its entry does not name is refused,
// except the scheme's default port, which is the same as none. Hosts are
// compared in ASCII, case-insensitively: an internationalised name must
// be listed in its punycode form (xn--...), and a URL whose host is not
// plain ASCII is refused, so a lookalike is never honoured unless listed.
type ReturnURLs struct {
	issuer    *url.URL
	hosts     []string // exact hosts, lowercase, with ":port" when named
	suffixes  []string // ".example.com" entries, lowercase, with ":port" when named
	allowHTTP bool
}

// DefaultRedirectDomains is the list used when none is configured: the
// issuer's host and, with a cookie domain, that domain and its subdomains.
func DefaultRedirectDomains(issuer, cookieDomain string) []string {
	var out []string
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		out = append(out, u.Host)
	}
	if d := strings.TrimPrefix(strings.ToLower(cookieDomain), "."); d != "" {
		out = append(out, d, "."+d)
	}
	return out
}

// NewReturnURLs returns the rule for an issuer (Gatehouse's public base
// URL) and a list of hosts, as described on ReturnURLs. It refuses an
// issuer that is not an absolute http(s) URL and an entry that is not a
// plain host name.
func NewReturnURLs(issuer string, domains []string, allowHTTP bool) (*ReturnURLs, error) {
	iu, err := url.Parse(issuer)
	if err != nil || (iu.Scheme != "https" && iu.Scheme != "http") || iu.Host == "" || iu.User != nil {
		return nil, fmt.Errorf("the issuer %q is not an http(s) URL", issuer)
	}
	r := &ReturnURLs{issuer: &url.URL{Scheme: iu.Scheme, Host: strings.ToLower(iu.Host)}, allowHTTP: allowHTTP}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		name := strings.TrimPrefix(d, ".")
		if u, err := url.Parse("https://" + name); err != nil || u.Host != name || u.Hostname() == "" || !plainHost(u.Hostname()) {
			return nil, fmt.Errorf("%q is not a host name", d)
		}
		if strings.HasPrefix(d, ".") {
			r.suffixes = append(r.suffixes, d)
		} else {
			r.hosts = append(r.hosts, d)
		}
	}
	return r, nil
}

// Check returns where to send the browser for the return URL raw, and
// whether raw is allowed at all. An allowed URL comes back re-serialised
// (what the browser is sent to is what was checked); anything else,
// including "", is false, and the caller sends the browser to its default
// page instead.
func (r *ReturnURLs) Check(raw string) (string, bool) {
	if raw == "" || len(raw) > 2048 {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		// No spaces, controls (tabs and newlines, which browsers strip),
		// non-ASCII or backslashes (which browsers read as slashes).
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	if u.Scheme == "" && u.Host == "" {
		// A path on Gatehouse itself: "/auth/account", never "//host"
		// (protocol-relative) nor a relative path.
		if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
			return "", false
		}
		out := u.String()
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
			return "", false
		}
		return out, true
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !r.allowHTTP {
			return "", false
		}
	default:
		return "", false
	}
	// The host as written: url.Parse unescapes %XX in a host, and a host
	// that needed escaping is no host of ours.
	if u.Host == "" || strings.Contains(u.Host, "%") || !plainHost(u.Hostname()) {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (p == "443" && u.Scheme == "https") || (p == "80" && u.Scheme == "http") {
		host = strings.ToLower(u.Hostname())
	} else if strings.HasSuffix(host, ":") {
		return "", false
	}
	u.Host = host
	if !r.allowedHost(u.Scheme, host) {
		return "", false
	}
	return u.String(), true
}

func (r *ReturnURLs) allowedHost(scheme, host string) bool {
	if scheme == r.issuer.Scheme && host == r.issuer.Host {
		return true
	}
	if slices.Contains(r.hosts, host) {
		return true
	}
	for _, s := range r.suffixes {
		name, port, _ := strings.Cut(s, ":")
		h, p, _ := strings.Cut(host, ":")
		if p == port && len(h) > len(name) && strings.HasSuffix(h, name) {
			return true
		}
	}
	return false
}

// Origins returns the origins a sign-in may return to, as
// Content-Security-Policy sources ("https://app.example.com",
// "https://*.example.com"), for a form-action directive: Chromium applies
// form-action to the redirect that answers a form's POST.
func (r *ReturnURLs) Origins() []string {
	schemes := []string{"https"}
	if r.allowHTTP {
		schemes = append(schemes, "http")
	}
	out := []string{r.issuer.String()}
	for _, sc := range schemes {
		for _, h := range r.hosts {
			out = append(out, sc+"://"+h)
		}
		for _, s := range r.suffixes {
			out = append(out, sc+"://*"+s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// plainHost reports whether h is a host name or an IP address written in
// plain ASCII letters, digits, dots, hyphens (and, for IPv6, colons and
// brackets).
func plainHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

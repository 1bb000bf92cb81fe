package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Cookie is the session cookie: its name and attributes, fixed by the
// Config (--dev, --cookie-domain). The JSON API and the pages both use
// it, so that a login made in one is the same cookie in the other.
type Cookie struct {
	name   string
	domain string
	secure bool
}

// NewCookie returns the session cookie of cfg: __Host-gatehouse, or
// __Secure-gatehouse with a CookieDomain, or gatehouse (without Secure)
// with Dev.
func NewCookie(cfg Config) Cookie {
	switch {
	case cfg.Dev:
		return Cookie{name: "gatehouse", domain: cfg.CookieDomain}
	case cfg.CookieDomain != "":
		return Cookie{name: "__Secure-gatehouse", domain: cfg.CookieDomain, secure: true}
	default:
		return Cookie{name: "__Host-gatehouse", secure: true}
	}
}

// Set issues the session cookie. A remembered login's cookie lives until
// the absolute deadline; otherwise it is a browser-session cookie.
func (c Cookie) Set(w http.ResponseWriter, secret string, l gatehouse.Login, now time.Time) {
	ck := c.base(secret)
	if l.Remember {
		ck.MaxAge = int(l.ExpiresAt.Sub(now) / time.Second)
	}
	http.SetCookie(w, ck)
}

// Clear tells the browser to forget the cookie.
func (c Cookie) Clear(w http.ResponseWriter) {
	ck := c.base("")
	ck.MaxAge = -1 // written as Max-Age=0
	http.SetCookie(w, ck)
}

func (c Cookie) base(value string) *http.Cookie {
	return &http.Cookie{
		Name: c.name, Value: value, Path: "/", Domain: c.domain,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// Session returns who the request's session cookie signs in, with
// Service.AuthenticateSession (the check of every request, which counts
// as the session's activity); a request without the cookie is
// CodeUnauthenticated. The JSON API, the pages and the OpenID Connect
// provider all find a browser's login this way.
func (c Cookie) Session(r *http.Request, svc *gatehouse.Service) (gatehouse.Principal, error) {
	secret := c.Secret(r)
	if secret == "" {
		return gatehouse.Principal{}, errNoSession
	}
	return svc.AuthenticateSession(r.Context(), secret)
}

var errNoSession = gatehouse.Errorf(gatehouse.CodeUnauthenticated, "sign in first")

// Secret returns the session secret the request carries, or "".
func (c Cookie) Secret(r *http.Request) string {
	for _, ck := range r.CookiesNamed(c.name) {
		if ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// cookieConfig fixes the session cookie's name and attributes.
type cookieConfig struct {
	name   string
	domain string
	secure bool
}

func newCookieConfig(cfg Config) cookieConfig {
	switch {
	case cfg.Dev:
		return cookieConfig{name: "gatehouse", domain: cfg.CookieDomain}
	case cfg.CookieDomain != "":
		return cookieConfig{name: "__Secure-gatehouse", domain: cfg.CookieDomain, secure: true}
	default:
		return cookieConfig{name: "__Host-gatehouse", secure: true}
	}
}

// set issues the session cookie. A remembered login's cookie lives until
// the absolute deadline; otherwise it is a browser-session cookie.
func (c cookieConfig) set(w http.ResponseWriter, secret string, l gatehouse.Login, now time.Time) {
	ck := c.base(secret)
	if l.Remember {
		ck.MaxAge = int(l.ExpiresAt.Sub(now) / time.Second)
	}
	http.SetCookie(w, ck)
}

// clear tells the browser to forget the cookie.
func (c cookieConfig) clear(w http.ResponseWriter) {
	ck := c.base("")
	ck.MaxAge = -1 // written as Max-Age=0
	http.SetCookie(w, ck)
}

func (c cookieConfig) base(value string) *http.Cookie {
	return &http.Cookie{
		Name: c.name, Value: value, Path: "/", Domain: c.domain,
		Secure: c.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// secret returns the session secret the request carries, or "".
func (c cookieConfig) secret(r *http.Request) string {
	for _, ck := range r.CookiesNamed(c.name) {
		if ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

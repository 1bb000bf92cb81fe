package shop

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/guard"
)

// Cookies of the shop itself. Neither is a credential of Gatehouse.
const (
	// guestCookie names a guest's cart: 128 random bits, HttpOnly. It
	// grants nothing but that cart.
	guestCookie = "shop_guest"
	// modeCookie is a hint the page's script sets in token mode, so that
	// a page load (which cannot carry the in-memory access token) renders
	// "signing you in" rather than a guest's page for the moment the
	// script needs to refresh. It grants nothing.
	modeCookie = "shop_mode"
)

// visitor is who is asking: a signed-in user, or a guest with or without a
// cart of their own.
type visitor struct {
	user     guard.User // zero for a guest
	signedIn bool
	guestID  string // the guest cookie's id, even when signed in (to merge)
	// pending is a guest page load of a browser in token mode: the
	// script is about to refresh its token and load the page again.
	pending bool
	// cookie describes the session cookie the request carried, for the
	// panel; never its value.
	cookieLen int
}

// owner is whose cart the visitor sees.
func (v visitor) owner() Owner {
	if v.signedIn {
		return UserOwner(v.user.ID)
	}
	if v.guestID == "" {
		return ""
	}
	return GuestOwner(v.guestID)
}

// mode is "session", "token" or "guest".
func (v visitor) mode() string {
	if v.signedIn {
		return string(v.user.Mode)
	}
	return "guest"
}

type visitorKey struct{}

func visitorFrom(ctx context.Context) visitor {
	v, _ := ctx.Value(visitorKey{}).(visitor)
	return v
}

// visit is the shop's middleware for pages, forms and the cart API: it
// limits and origin-checks state-changing requests, finds out who is
// asking, and gives the handler a visitor. A request that presents a
// credential guard refuses is answered here (401 for a bearer token, so
// the script refreshes; 403 cross_origin; 503 when Gatehouse is away),
// except a session cookie that is no longer valid, which makes a guest:
// the cookie outlived its session, and the page then asks to sign in.
func (s *Shop) visit(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe {
			if !s.limiter.allow(clientIP(r), time.Now()) {
				w.Header().Set("Retry-After", "10")
				s.fail(w, r, http.StatusTooManyRequests, "too_many_requests", "too many changes in a short time; wait a few seconds")
				return
			}
			if err := s.origin.Check(r); err != nil {
				s.fail(w, r, http.StatusForbidden, "cross_origin", "cross-origin requests are refused")
				return
			}
		}
		v := visitor{guestID: guestID(r)}
		if ck, err := r.Cookie(s.cfg.CookieName); err == nil {
			v.cookieLen = len(ck.Value)
		}
		bearer := r.Header.Get("Authorization") != ""
		if bearer || v.cookieLen > 0 {
			u, status, code, detail := s.check(r)
			switch {
			case status == 0:
				v.user, v.signedIn = u, true
			case status == http.StatusUnauthorized && !bearer:
				v.cookieLen = 0 // a cookie of an ended session: a guest
			default:
				if status == http.StatusUnauthorized {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				}
				if !wantsJSON(r) {
					detail = "" // the page's own words
				}
				s.fail(w, r, status, code, detail)
				return
			}
		}
		if !v.signedIn && !bearer {
			if ck, err := r.Cookie(modeCookie); err == nil && ck.Value == "token" {
				v.pending = true
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)))
	})
}

// check asks guard about the request's credential, without letting guard
// answer: the shop also serves guests. A refusal comes back as its status,
// problem code and detail.
func (s *Shop) check(r *http.Request) (u guard.User, status int, code, detail string) {
	u, err := s.guard.Check(r)
	if err == nil {
		return u, 0, "", ""
	}
	var refused *guard.Error
	if !errors.As(err, &refused) {
		return guard.User{}, http.StatusServiceUnavailable, "unavailable", ""
	}
	return guard.User{}, refused.Status, refused.Code, refused.Detail
}

// guestID returns the id of the request's guest cookie, or "".
func guestID(r *http.Request) string {
	ck, err := r.Cookie(guestCookie)
	if err != nil || len(ck.Value) != 22 {
		return ""
	}
	if _, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil {
		return ""
	}
	return ck.Value
}

// newGuest gives the visitor a guest cookie, for the cart they are about
// to fill.
func (s *Shop) newGuest(w http.ResponseWriter) string {
	id := base64.RawURLEncoding.EncodeToString(randomBytes(16))
	http.SetCookie(w, &http.Cookie{
		Name: guestCookie, Value: id, Path: "/", MaxAge: int(guestCartLife / time.Second),
		HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode,
	})
	return id
}

// dropGuest forgets the guest cookie once its cart is merged.
func (s *Shop) dropGuest(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: guestCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !s.cfg.Insecure, SameSite: http.SameSiteLaxMode,
	})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// gatehouse calls Gatehouse's API for the visitor, with the visitor's own
// credential and nothing else of the request: the session cookie alone,
// or the Authorization header. It serves the logins page and sign-out,
// which Gatehouse answers about the login itself.
func (s *Shop) gatehouse(r *http.Request, method, path string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	req, err := http.NewRequestWithContext(ctx, method, s.cfg.Gatehouse+path, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if h := r.Header.Get("Authorization"); h != "" {
		req.Header.Set("Authorization", h)
	} else if ck, err := r.Cookie(s.cfg.CookieName); err == nil {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	req.Header.Set("Accept", "application/json")
	if ua := r.UserAgent(); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	res, err := s.api.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = cancelOnClose{res.Body, cancel}
	return res, nil
}

type cancelOnClose struct {
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
	cancel context.CancelFunc
}

func (c cancelOnClose) Read(p []byte) (int, error) { return c.body.Read(p) }
func (c cancelOnClose) Close() error {
	err := c.body.Close()
	c.cancel()
	return err
}

package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// errSessionRefused is Gatehouse's 401 for a session cookie.
var errSessionRefused = errors.New("guard: Gatehouse refused the session")

// session checks a session cookie's secret with Gatehouse, through the
// session cache.
func (g *Guard) session(ctx context.Context, secret string) (*User, *Error) {
	key := gatehouse.SHA256(secret)
	now := g.now()
	if u, ok := g.sessions.get(key, now); ok {
		if u == nil {
			return nil, errSignedOut
		}
		return u, nil
	}
	u, err := g.verifySession(ctx, secret)
	switch {
	case errors.Is(err, errSessionRefused):
		if g.sessionTTL > 0 {
			g.sessions.put(key, nil, now.Add(g.sessionTTL))
		}
		return nil, errSignedOut
	case err != nil:
		if ctx.Err() == nil {
			g.log.Warn("guard: checking a session with Gatehouse failed", "err", err)
		}
		return nil, errUnavailable
	}
	if g.sessionTTL > 0 {
		g.sessions.put(key, u, now.Add(g.sessionTTL))
	}
	return u, nil
}

// verifySession asks GET /v1/verify about the cookie, and nothing else of
// the request: no other cookie, header or path reaches Gatehouse.
func (g *Guard) verifySession(ctx context.Context, secret string) (*User, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/v1/verify", nil)
	if err != nil {
		return nil, err
	}
	req.AddCookie(&http.Cookie{Name: g.cookie, Value: secret})
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // so the connection is reused
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return nil, errSessionRefused
	default:
		return nil, fmt.Errorf("GET /v1/verify: %s", resp.Status)
	}
	h := resp.Header
	u := &User{
		ID:          h.Get("X-Gatehouse-User"),
		Email:       h.Get("X-Gatehouse-Email"),
		Roles:       splitList(h.Get("X-Gatehouse-Roles")),
		Permissions: splitList(h.Get("X-Gatehouse-Permissions")),
		SessionID:   h.Get("X-Gatehouse-Session"),
		Mode:        ModeSession,
		AAL:         aalOf(h.Get("X-Gatehouse-AAL")),
	}
	if u.ID == "" {
		return nil, errors.New("GET /v1/verify: 200 without X-Gatehouse-User")
	}
	return u, nil
}

// aalOf reads an assurance level, "2" or "1" (a token's acr, the
// X-Gatehouse-AAL header); anything else is 1.
func aalOf(s string) int {
	if s == "2" {
		return 2
	}
	return 1
}

// splitList reads a comma-separated header; "" is the empty list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// cookieSecret returns the session secret the request carries, or "": the
// first non-empty cookie of the configured name, as Gatehouse reads it.
func (g *Guard) cookieSecret(r *http.Request) string {
	for _, c := range r.CookiesNamed(g.cookie) {
		if c.Value != "" {
			return c.Value
		}
	}
	return ""
}

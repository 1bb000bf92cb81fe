package guard

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// Mode is how a request authenticated.
type Mode string

// The two credentials a Guard accepts.
const (
	ModeSession Mode = "session" // the session cookie, checked with Gatehouse
	ModeToken   Mode = "token"   // a bearer access token, checked locally
)

// User is who a request acts for, as Gatehouse vouched for it. Roles and
// Permissions are shared with the Guard's caches: read them, never modify
// them. In token mode they are those of the access token, which the client
// refreshes when they change.
type User struct {
	ID          string
	Email       string
	Roles       []string
	Permissions []string // "resource:action", "resource:*" or "*"
	SessionID   string   // the login, as GET /v1/sessions lists it
	Mode        Mode
	// AAL is the login's assurance level: 1, or 2 when it was made with
	// two factors (see RequireAAL).
	AAL int
}

// Can reports whether u holds the permission: "*" grants everything and
// "resource:*" every action on that resource. It is the server's rule,
// gatehouse.Grants, and does not allocate.
func (u User) Can(permission string) bool {
	return gatehouse.Grants(u.Permissions, permission)
}

type userKey struct{}

// userContext is a context that carries a user, as context.WithValue
// makes for NewContext, but of a type of its own so that withUser can
// allocate it with the request.
type userContext struct {
	context.Context
	user *User
}

// Value returns the user for userKey and asks the parent for any other
// key.
func (c *userContext) Value(key any) any {
	if _, ok := key.(userKey); ok {
		return c.user
	}
	return c.Context.Value(key)
}

// NewContext returns a context that carries u, as the Guard's middleware
// makes for the handlers it lets through. Tests of those handlers can use
// it to act as a user without a Gatehouse.
func NewContext(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, &u)
}

// UserFrom returns the user of a request that a Guard let through, or
// false when the context carries none.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	if !ok {
		return User{}, false
	}
	return *u, true
}

// userRequest is a request whose context carries a user, with that
// context: one allocation where r.WithContext(context.WithValue(...))
// makes two.
type userRequest struct {
	r   http.Request
	ctx userContext
}

// withUser returns a shallow copy of r, as r.WithContext does, whose
// context carries u. The copy and its context are one allocation, so a
// handler that keeps the context past the request keeps the copy too.
func withUser(r *http.Request, u *User) *http.Request {
	ur := &userRequest{ctx: userContext{Context: r.Context(), user: u}}
	// WithContext is inlined, so that its copy stays on the stack; were it
	// not, the copy would cost an allocation more, nothing else.
	ur.r = *r.WithContext(&ur.ctx)
	return &ur.r
}

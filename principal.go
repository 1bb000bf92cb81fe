package gatehouse

import "context"

// Principal is who a request acts for: the user, the login it came
// through, and the permissions the user's roles grant.
type Principal struct {
	User        User
	Login       Login
	Permissions []string
}

// Can reports whether the principal holds the permission.
func (p Principal) Can(permission string) bool { return Grants(p.Permissions, permission) }

type principalKey struct{}

// NewContext returns a context that carries p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal that NewContext stored, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

package gatehouse

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Roles maps a role name to the permissions it grants. A permission is a
// "resource:action" string; "*" grants everything.
type Roles map[string][]string

// Built-in role names.
const (
	RoleAdmin    = "admin"
	RoleCustomer = "customer"
	RoleService  = "service"
)

// Permissions the server itself checks. A role grants them like any other
// (the built-in admin role, "*", grants them all); the JSON API and the
// pages both check these names, so each rule is written once.
const (
	// PermUsersAdmin lets a user find, disable, enable and sign out
	// other users and set their roles (within their own permissions).
	PermUsersAdmin = "users:admin"
	// PermAuditRead lets a user read the audit log.
	PermAuditRead = "audit:read"
	// PermRevocationsRead lets a service read the revocation feed.
	PermRevocationsRead = "revocations:read"
	// PermClientsAdmin lets a user add, list and remove OpenID Connect
	// clients (apps).
	PermClientsAdmin = "clients:admin"
)

// BuiltinRoles returns the roles every deployment starts with.
func BuiltinRoles() Roles {
	return Roles{
		RoleAdmin:    {"*"},
		RoleCustomer: {"cart:read", "cart:write", "orders:read", "orders:write", "profile:read", "profile:write"},
		RoleService:  {PermRevocationsRead},
	}
}

// Permissions returns the union of the permissions of the given roles,
// sorted and without duplicates. Unknown roles grant nothing.
func (r Roles) Permissions(roles []string) []string {
	var out []string
	for _, name := range roles {
		out = append(out, r[name]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Grants reports whether the permission set perms allows want. "*" allows
// everything and "resource:*" allows every action on that resource;
// anything else must match want exactly. It is the one permission rule:
// the server's authorization and guard's User.Can both use it. It does
// not allocate: "resource:*" is compared in place, never built.
func Grants(perms []string, want string) bool {
	resource, _, _ := strings.Cut(want, ":")
	for _, p := range perms {
		if p == "*" || p == want || wildcardOf(p, resource) {
			return true
		}
	}
	return false
}

// wildcardOf reports whether p is resource+":*", without building it.
func wildcardOf(p, resource string) bool {
	n := len(resource)
	return len(p) == n+2 && p[n] == ':' && p[n+1] == '*' && p[:n] == resource
}

// RolesStale reports whether an access token issued at issued (its iat)
// is stale because its user's roles changed at changed: whether it was
// issued before the change, the change time taken to its whole second. A
// stale token is refused (invalid_token) so that the client refreshes it
// and gets the user's current roles and permissions. A zero changed, no
// change known, makes no token stale.
//
// iat has whole seconds, hence the truncation: a token refreshed just
// after the change, in the same second, must pass, not be refused until
// the next second; the price is that a token signed in that second just
// before the change passes too, a window under a second.
//
// It goes by time, not by comparing the token's roles with the user's:
// guard learns of a change from the revocation feed, whose entry says whom
// it concerns and when, not what the roles became. The server
// (Service.AuthenticateToken, so GET /v1/verify) and guard both judge by
// this predicate and so agree, also when the roles were changed and then
// changed back: a token issued before is stale for both.
func RolesStale(issued, changed time.Time) bool {
	return issued.Before(changed.Truncate(time.Second))
}

// Limits on role definitions, so a roles file cannot hold absurd names.
const (
	maxRoleName      = 64
	maxPermissionLen = 128
)

// Validate checks role names (lower-case letters, digits, '_', '-', '.')
// and permissions ("*", "resource:action" or "resource:*", each part made
// of the same characters).
func (r Roles) Validate() error {
	for name, perms := range r {
		if !validName(name, maxRoleName) {
			return fmt.Errorf("role %q: a role name is 1 to %d of a-z, 0-9, '_', '-' and '.'", name, maxRoleName)
		}
		for _, p := range perms {
			resource, action, ok := strings.Cut(p, ":")
			if p == "*" || ok && len(p) <= maxPermissionLen && validName(resource, maxPermissionLen) && (action == "*" || validName(action, maxPermissionLen)) {
				continue
			}
			return fmt.Errorf("role %q: permission %q is not \"*\" or \"resource:action\"", name, p)
		}
	}
	return nil
}

func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// permissions returns what roles grant to a login at an assurance level:
// a role of Config.MFARoles counts only at AAL2.
func (s *Service) permissions(roles []string, aal int) []string {
	if aal < AAL2 && len(s.cfg.MFARoles) > 0 {
		kept := make([]string, 0, len(roles))
		for _, r := range roles {
			if !slices.Contains(s.cfg.MFARoles, r) {
				kept = append(kept, r)
			}
		}
		roles = kept
	}
	return s.cfg.Roles.Permissions(roles)
}

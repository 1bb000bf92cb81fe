package gatehouse

import (
	"slices"
	"strings"
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

// BuiltinRoles returns the roles every deployment starts with.
func BuiltinRoles() Roles {
	return Roles{
		RoleAdmin:    {"*"},
		RoleCustomer: {"cart:read", "cart:write", "orders:read", "orders:write", "profile:read", "profile:write"},
		RoleService:  {"revocations:read"},
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
// everything and "resource:*" allows every action on that resource.
func Grants(perms []string, want string) bool {
	resource, _, _ := strings.Cut(want, ":")
	for _, p := range perms {
		if p == "*" || p == want || p == resource+":*" {
			return true
		}
	}
	return false
}

package gatehouse_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

func TestGrants(t *testing.T) {
	long := strings.Repeat("r", 120) // as long as Validate allows
	for _, tc := range []struct {
		perms []string
		want  string
		ok    bool
	}{
		{nil, "cart:read", false},
		{[]string{"*"}, "users:admin", true},
		{[]string{"cart:read"}, "cart:read", true},
		{[]string{"cart:read"}, "cart:write", false},
		{[]string{"cart:read"}, "orders:read", false},
		{[]string{"cart:*"}, "cart:write", true},
		{[]string{"cart:*"}, "carts:read", false},
		{[]string{"cart:*"}, "car:read", false},
		{[]string{"cart:*"}, "cart", true}, // no action: the resource is all of it
		{[]string{"cart:*"}, ":read", false},
		{[]string{":*"}, ":read", true},
		{[]string{"cart:**"}, "cart:read", false},
		{[]string{"cart:read", "orders:*"}, "orders:write", true},
		{[]string{long + ":*"}, long + ":read", true},
		{[]string{long + ":*"}, long[1:] + ":read", false},
	} {
		if got := gatehouse.Grants(tc.perms, tc.want); got != tc.ok {
			t.Errorf("Grants(%v, %q) = %v, want %v", tc.perms, tc.want, got, tc.ok)
		}
	}
}

// TestGrantsDoesNotAllocate: Grants runs on every authorization, in the
// server and in guard; it must not build "resource:*" to compare.
func TestGrantsDoesNotAllocate(t *testing.T) {
	long := strings.Repeat("r", 120)
	perms := []string{"cart:read", "orders:read", long + ":*"}
	for _, want := range []string{"cart:write", "users:admin", long + ":write", long + "x:write"} {
		if n := testing.AllocsPerRun(100, func() { gatehouse.Grants(perms, want) }); n != 0 {
			t.Errorf("Grants(%q) made %v allocations, want 0", want, n)
		}
	}
}

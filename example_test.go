package gatehouse_test

import (
	"fmt"

	"github.com/gatehouse/gatehouse"
)

func ExampleRoles_Permissions() {
	roles := gatehouse.BuiltinRoles()
	roles["support"] = []string{"users:admin", "audit:read"}
	perms := roles.Permissions([]string{"customer", "support"})
	fmt.Println(perms)
	fmt.Println(gatehouse.Grants(perms, "cart:write"), gatehouse.Grants(perms, "keys:rotate"))
	// Output:
	// [audit:read cart:read cart:write orders:read orders:write profile:read profile:write users:admin]
	// true false
}

func ExampleNormalizeEmail() {
	email, err := gatehouse.NormalizeEmail("  Ada@Example.COM ")
	fmt.Println(email, err)
	_, err = gatehouse.NormalizeEmail("Ada <ada@example.com>")
	fmt.Println(gatehouse.ErrorCode(err))
	// Output:
	// ada@example.com <nil>
	// invalid_email
}

func ExampleDeviceName() {
	fmt.Println(gatehouse.DeviceName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"))
	// Output: Safari on iPhone
}

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"yaml", "editor: [posts:write, posts:read]\nadmin: ['*']\n"},
		{"json", `{"editor":["posts:write","posts:read"],"admin":["*"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := parseRoles([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r["editor"], []string{"posts:write", "posts:read"}) || !slices.Equal(r["admin"], []string{"*"}) {
				t.Errorf("roles = %v", r)
			}
		})
	}
	for _, bad := range []string{
		"[1, 2]", "editor: posts:write", "editor: [{a: b}]", "Editor: [posts:read]", "editor: [posts]",
		"editor: ['posts:read write']", "'': [a:b]", "editor: [':read']", "a: &x [b:c]\nb: *x\nc: [[", "\x00",
	} {
		if r, err := parseRoles([]byte(bad)); err == nil {
			t.Errorf("parseRoles(%q) = %v, want an error", bad, r)
		}
	}
}

func TestLoadRolesMergesWithBuiltins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roles.yaml")
	os.WriteFile(path, []byte("customer: [cart:read]\nsupport: [users:admin, audit:read]\n"), 0o600)
	r, err := loadRoles(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r["customer"], []string{"cart:read"}) || len(r["support"]) != 2 || !slices.Equal(r["admin"], []string{"*"}) {
		t.Errorf("roles = %v: want customer replaced, support added, admin kept", r)
	}
	if _, err := loadRoles(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--roles") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseRoles: a hostile roles file is refused or yields valid roles,
// never a panic.
func FuzzParseRoles(f *testing.F) {
	f.Add([]byte("editor: [posts:write]\n"))
	f.Add([]byte(`{"a":["*"],"b":["x:*"]}`))
	f.Add([]byte("a: &x [b:c]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRoles(data)
		if err == nil {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted invalid roles %v: %v", r, err)
			}
		}
	})
}

package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gatehouse/gatehouse"
	"go.yaml.in/yaml/v3"
)

// maxRolesFile caps the size of a roles file.
const maxRolesFile = 1 << 20

// rolesFlag adds --roles to a command.
func rolesFlag(fs *flag.FlagSet) *string {
	return fs.String("roles", "", "YAML or JSON file of roles, {name: [permission, ...]}, that replace or add to the built-in ones")
}

// loadRoles returns the built-in roles with those of the file, if any,
// replacing or adding.
func loadRoles(path string) (gatehouse.Roles, error) {
	roles := gatehouse.BuiltinRoles()
	if path == "" {
		return roles, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--roles: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRolesFile+1))
	if err != nil {
		return nil, fmt.Errorf("--roles: %w", err)
	}
	extra, err := parseRoles(data)
	if err != nil {
		return nil, fmt.Errorf("--roles %s: %w", path, err)
	}
	for name, perms := range extra {
		roles[name] = perms
	}
	return roles, nil
}

// parseRoles reads a roles file: a YAML (or JSON, which is YAML) mapping
// of role names to lists of permissions.
func parseRoles(data []byte) (gatehouse.Roles, error) {
	if len(data) > maxRolesFile {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxRolesFile)
	}
	var roles gatehouse.Roles
	if err := yaml.Unmarshal(data, &roles); err != nil {
		return nil, fmt.Errorf("not a mapping of role names to lists of permissions: %w", err)
	}
	if err := roles.Validate(); err != nil {
		return nil, err
	}
	return roles, nil
}

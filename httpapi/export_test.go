package httpapi

import "slices"

// Routes returns the routes s registered, as "METHOD /path", for the test
// that holds them to the OpenAPI document.
func Routes(s *Server) []string { return slices.Clone(s.patterns) }

// StatusOf returns the HTTP status of each error code, for the test that
// holds the codes to the OpenAPI document; "internal" is written by
// writeError itself.
func StatusOf() map[string]int {
	m := map[string]int{"internal": 500}
	for code, status := range statusOf {
		m[string(code)] = status
	}
	return m
}

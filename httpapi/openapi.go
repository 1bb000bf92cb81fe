package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 document of the JSON API, served at
// GET /openapi.json. The tests hold it to the routes (every route is an
// operation of it and every operation a route) and the end-to-end tests
// hold every response of the built binary to it.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the JSON API, the one the
// server serves at GET /openapi.json. The caller must not modify it.
func OpenAPI() []byte { return openAPI }

func (s *Server) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPI)
	})
}

// Package e2e holds black-box tests of the built gatehouse binary against
// the API reference (docs/api.md): it builds the binary once, starts it
// on free loopback ports with temporary databases, and talks to it over
// HTTP and through its command line. Every answer the shared request
// helper gets is held to the OpenAPI document, httpapi/openapi.json.
package e2e

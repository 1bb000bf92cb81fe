// Package httpapi serves the Gatehouse JSON API (docs/api.md, and the
// OpenAPI 3.1 document openapi.json, served at GET /openapi.json) as an
// http.Handler: routing, credentials (the session cookie or a bearer
// token), RFC 9457 problem responses, request logging and limits. Every
// rule lives in gatehouse.Service; this package only translates HTTP.
package httpapi

// Package httpapi serves the Gatehouse JSON API (shared/API.md) as an
// http.Handler: routing, credentials (the session cookie or a bearer
// token), RFC 9457 problem responses, request logging and limits. Every
// rule lives in gatehouse.Service; this package only translates HTTP.
package httpapi

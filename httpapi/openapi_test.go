package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// loadOpenAPI parses and validates the embedded OpenAPI document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI())
	if err != nil {
		t.Fatalf("httpapi/openapi.json does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("httpapi/openapi.json is not a valid OpenAPI document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes holds the routes that routes.go registers to
// the document: each route is an operation and each operation a route.
// /metrics is registered only when the server serves metrics, as serve
// does by default, so the server here does.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	svc, err := gatehouse.NewService(nil, gatehouse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(svc, nil, httpapi.Config{Metrics: http.NotFoundHandler()})
	routed := httpapi.Routes(srv)
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not an operation of httpapi/openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("operation %s of httpapi/openapi.json is not routed", d)
		}
	}
	if len(routed) < 20 {
		t.Errorf("only %d routes recorded: %v", len(routed), routed)
	}
}

// TestOpenAPIErrorCodes holds the document's error codes to the code:
// the ErrorCode schema lists exactly the codes the server writes, every
// problem response of an operation names only codes of its own status,
// and every operation documents the 500 and, but for the few that read
// nothing, the 503 any request may meet.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	statusOf := httpapi.StatusOf()
	var want []string
	for code := range statusOf {
		want = append(want, code)
	}
	slices.Sort(want)
	var got []string
	for _, v := range doc.Components.Schemas["ErrorCode"].Value.Enum {
		got = append(got, v.(string))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ErrorCode enum = %v, want the server's codes %v", got, want)
	}

	// The endpoints that spend a one-time link answer its invalid_token
	// with 400 (LinkStatus).
	linkPaths := map[string]bool{"/v1/recovery/confirm": true, "/v1/email/verify": true}
	check := func(where string, status int, ref *openapi3.ResponseRef) {
		mt := ref.Value.Content.Get("application/problem+json")
		if mt == nil {
			t.Errorf("%s %d: no application/problem+json content", where, status)
			return
		}
		all := mt.Schema.Value.AllOf
		if len(all) != 2 || all[0].Ref != "#/components/schemas/Problem" {
			t.Errorf("%s %d: the schema is not allOf [Problem, {status, code}]", where, status)
			return
		}
		props := all[1].Value.Properties
		if c := props["status"].Value.Const; c == nil || int(c.(float64)) != status {
			t.Errorf("%s %d: status const = %v", where, status, c)
		}
		for _, c := range props["code"].Value.Enum {
			want := statusOf[c.(string)]
			switch _, path, _ := strings.Cut(where, " "); {
			case linkPaths[path]:
				want = httpapi.LinkStatus(gatehouse.Code(c.(string)))
			case path == "/v1/mfa/totp/confirm":
				want = httpapi.ConfirmStatus(gatehouse.Code(c.(string)))
			}
			// A body over MaxBodyBytes is the one invalid_request that is 413.
			if want != status && !(status == http.StatusRequestEntityTooLarge && c == "invalid_request") {
				t.Errorf("%s %d: code %v is answered with %d", where, status, c, want)
			}
		}
	}
	for name, ref := range doc.Components.Responses {
		if mt := ref.Value.Content.Get("application/problem+json"); mt != nil && len(mt.Schema.Value.AllOf) == 2 {
			if c, ok := mt.Schema.Value.AllOf[1].Value.Properties["status"].Value.Const.(float64); ok {
				check("components.responses."+name, int(c), ref)
				continue
			}
		}
		t.Errorf("components.responses.%s is not problem details of one status", name)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			for code, ref := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s: response %q is not a status", where, code)
					continue
				}
				if status >= 400 && !(path == "/metrics" && status == 404) {
					check(where, status, ref)
				}
			}
			readsNothing := map[string]bool{"/healthz": true, "/openapi.json": true, "/.well-known/jwks.json": true, "/metrics": true}
			if !readsNothing[path] && (op.Responses.Status(500) == nil || op.Responses.Status(503) == nil) {
				t.Errorf("%s: 500 or 503 is not documented", where)
			}
		}
	}
}

// TestOpenAPIServed checks that GET /openapi.json serves the document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, options{})
	r := e.do(e.client(), "GET", "/openapi.json", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %q, want 200 application/json", r.status, r.header.Get("Content-Type"))
	}
	if !bytes.Equal(r.body, httpapi.OpenAPI()) {
		t.Error("GET /openapi.json is not the embedded document")
	}
	if !strings.Contains(string(r.body), `"openapi": "3.1.0"`) {
		t.Error("the document served is not OpenAPI 3.1.0")
	}
}

// TestOpenAPIEventTypes holds the document's audit event types to the
// server's (gatehouse.EventTypes, which the audit page offers too).
func TestOpenAPIEventTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	var got []string
	for _, v := range doc.Components.Schemas["AuditEvent"].Value.Properties["type"].Value.Enum {
		got = append(got, v.(string))
	}
	want := gatehouse.EventTypes()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("AuditEvent.type enum = %v, want the server's types %v", got, want)
	}
}

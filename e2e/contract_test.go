package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// contractFile is the OpenAPI document every answer of Gatehouse is held
// to: the one the binary embeds and serves at /openapi.json.
const contractFile = "../httpapi/openapi.json"

// contract is the parsed, validated document and a router over it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	data, err := os.ReadFile(contractFile)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contractFile, err)
	}
	router, err := legacy.NewRouter(doc) // validates the document first
	if err != nil {
		return nil, fmt.Errorf("%s: %w", contractFile, err)
	}
	return &contract{doc: doc, router: router}, nil
})

// check returns what is wrong with an answer to req by the contract, or
// "". An operation of the document is checked in full: its status is one
// the operation lists, and the answer's headers, content type and body are
// as that response says (problem details for every error). A path the
// document has, asked with a method it does not list, must get 405
// method_not_allowed with Allow naming the methods it does list. Any
// other path must get 404 not_found when all is Gatehouse's (serve, or
// anything under /v1/), and is not checked otherwise: on a proxy or the
// demo, it is someone else's.
func (c *contract) check(req *http.Request, status int, header http.Header, body []byte, all bool) string {
	if req.Method == http.MethodHead {
		return "" // the answer to GET, without the body
	}
	route, params, err := c.router.FindRoute(req)
	if err == nil {
		err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 status,
			Header:                 header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		})
		if err != nil {
			return err.Error()
		}
		return ""
	}
	if methods := c.methods(req.URL.Path); methods != nil {
		if got := header.Get("Allow"); got != strings.Join(methods, ", ") {
			return fmt.Sprintf("Allow = %q, want %q", got, strings.Join(methods, ", "))
		}
		return c.problem("MethodNotAllowed", status, header, body)
	}
	if all || strings.HasPrefix(req.URL.Path, "/v1/") {
		return c.problem("NoSuchEndpoint", status, header, body)
	}
	return ""
}

// methods returns the methods the document lists for the path that
// matches p, as the server's Allow header names them (HEAD wherever GET
// is, sorted), or nil when no path of the document matches.
func (c *contract) methods(p string) []string {
	got := strings.Split(p, "/")
	for path, item := range c.doc.Paths.Map() {
		want := strings.Split(path, "/")
		if len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			param := strings.HasPrefix(want[i], "{") && strings.HasSuffix(want[i], "}")
			if param && got[i] == "" || !param && got[i] != want[i] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		var methods []string
		for m := range item.Operations() {
			methods = append(methods, m)
			if m == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
		slices.Sort(methods)
		return methods
	}
	return nil
}

// problem checks an answer against one of the document's shared
// responses, components.responses[name]: its status and problem details.
func (c *contract) problem(name string, status int, header http.Header, body []byte) string {
	want := c.doc.Components.Responses[name].Value
	schema := want.Content.Get("application/problem+json").Schema.Value
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("Content-Type = %q, want application/problem+json (components.responses.%s)", ct, name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Sprintf("the body is not JSON: %v", err)
	}
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		return fmt.Sprintf("status %d is not components.responses.%s: %v", status, name, err)
	}
	if m, _ := v.(map[string]any); m["status"] != float64(status) {
		return fmt.Sprintf("problem status %v, HTTP status %d", m["status"], status)
	}
	return ""
}

// TestOpenAPIServed checks that the binary serves the document of the
// repository at GET /openapi.json, itself an operation of the document.
func TestOpenAPIServed(t *testing.T) {
	s := start(t, "")
	r := s.call(newClient(), "GET", "/openapi.json", nil)
	s.want(r, 200, "")
	want, err := os.ReadFile(contractFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.raw, want) {
		t.Errorf("GET /openapi.json is not %s", contractFile)
	}
}

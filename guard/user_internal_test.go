package guard

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
)

type otherKey struct{}

// TestWithUser: the request withUser makes is a copy of the request whose
// context carries the user, ahead of any the original carried, and
// everything else the original context did; the original request is left
// as it was.
func TestWithUser(t *testing.T) {
	base, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "kept"))
	parent := NewContext(base, User{ID: "outer"})
	r := httptest.NewRequestWithContext(parent, "POST", "/cart?id=1", nil)
	r.Header.Set("X-Test", "yes")

	r2 := withUser(r, &User{ID: "u1", Email: "ada@example.com"})
	if r2 == r {
		t.Fatal("withUser returned the same request, want a copy")
	}
	if r2.Method != "POST" || r2.URL != r.URL || r2.Header.Get("X-Test") != "yes" {
		t.Errorf("copy: %s %v X-Test=%q, want the original's method, URL and header", r2.Method, r2.URL, r2.Header.Get("X-Test"))
	}
	if got, ok := UserFrom(r2.Context()); !ok || got.ID != "u1" || got.Email != "ada@example.com" {
		t.Errorf("UserFrom(copy) = %+v, %v; want u1", got, ok)
	}
	if got, _ := r2.Context().Value(otherKey{}).(string); got != "kept" {
		t.Errorf("a value of the original context: %q, want %q", got, "kept")
	}
	if r.Context() != parent {
		t.Error("the original request's context changed")
	}
	if got, ok := UserFrom(r.Context()); !ok || got.ID != "outer" {
		t.Errorf("UserFrom(original) = %+v, %v; want outer", got, ok)
	}

	// A context derived from the copy's is cancelled with the original's,
	// and tells why.
	derived, stop := context.WithCancel(r2.Context())
	defer stop()
	cancel()
	<-derived.Done()
	if err := r2.Context().Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("copy's context Err() = %v, want %v", err, context.Canceled)
	}
	if err := context.Cause(derived); !errors.Is(err, context.Canceled) {
		t.Errorf("Cause(derived) = %v, want %v", err, context.Canceled)
	}
}

package shop

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/guard"
)

// maxJSONBytes bounds a JSON request body, as Gatehouse does.
const maxJSONBytes = 64 << 10

// cartJSON is a cart in the API.
type cartJSON struct {
	Items      []itemJSON `json:"items"`
	Count      int        `json:"count"`
	TotalCents int64      `json:"total_cents"`
	Total      string     `json:"total"`
	Owner      string     `json:"owner"` // "user" or "guest"
}

type itemJSON struct {
	ProductID     string `json:"product_id"`
	Name          string `json:"name"`
	PriceCents    int64  `json:"price_cents"`
	Quantity      int    `json:"quantity"`
	SubtotalCents int64  `json:"subtotal_cents"`
}

func toCartJSON(c Cart, v visitor) cartJSON {
	out := cartJSON{Items: []itemJSON{}, Count: c.Count(), TotalCents: c.TotalCents(), Total: money(c.TotalCents()), Owner: "guest"}
	if v.signedIn {
		out.Owner = "user"
	}
	for _, l := range c.Lines {
		out.Items = append(out.Items, itemJSON{l.Product.ID, l.Product.Name, l.Product.PriceCents, l.Quantity, l.Subtotal()})
	}
	return out
}

type orderJSON struct {
	Number     int64      `json:"number"`
	CreatedAt  time.Time  `json:"created_at"`
	Items      []itemJSON `json:"items"`
	TotalCents int64      `json:"total_cents"`
	Total      string     `json:"total"`
}

func toOrderJSON(o Order) orderJSON {
	out := orderJSON{Number: o.Number, CreatedAt: o.CreatedAt, Items: []itemJSON{}, TotalCents: o.TotalCents, Total: money(o.TotalCents)}
	for _, l := range o.Lines {
		out.Items = append(out.Items, itemJSON{l.Product.ID, l.Product.Name, l.Product.PriceCents, l.Quantity, l.Subtotal()})
	}
	return out
}

// decodeJSON reads a bounded JSON body into v; unknown fields are ignored,
// anything else wrong is 400.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, http.StatusRequestEntityTooLarge, "invalid_request", "the body is too large")
		} else {
			writeProblem(w, http.StatusBadRequest, "invalid_request", "the body must be a JSON object of the documented fields")
		}
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "trailing data after the JSON object")
		return false
	}
	return true
}

// apiCart answers GET /api/cart: the visitor's cart, a guest's too.
func (s *Shop) apiCart(w http.ResponseWriter, r *http.Request) {
	v := visitorFrom(r.Context())
	if v.signedIn && !v.user.Can("cart:read") {
		writeProblem(w, http.StatusForbidden, "forbidden", "missing permission cart:read")
		return
	}
	var c Cart
	if owner := v.owner(); owner != "" {
		var err error
		if c, err = s.store.Cart(r.Context(), owner); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, toCartJSON(c, v))
}

// apiAdd answers POST /api/cart/items {"product_id","quantity"}.
func (s *Shop) apiAdd(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProductID string `json:"product_id"`
		Quantity  *int   `json:"quantity"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.ProductID == "" {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "product_id is required")
		return
	}
	qty := 1
	if req.Quantity != nil {
		qty = *req.Quantity
	}
	owner, ok := s.cartOwner(w, r, true)
	if !ok {
		return
	}
	c, err := s.store.Add(r.Context(), owner, req.ProductID, qty)
	if s.cartError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, toCartJSON(c, visitorFrom(r.Context())))
}

// apiSetQuantity answers PATCH /api/cart/items/{id} {"quantity"}; 0
// removes the product.
func (s *Shop) apiSetQuantity(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Quantity *int `json:"quantity"`
	}
	if !decodeJSON(w, r, &req) {
		return
	}
	if req.Quantity == nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "quantity is required")
		return
	}
	owner, ok := s.cartOwner(w, r, false)
	if !ok {
		return
	}
	var c Cart
	if owner != "" {
		var err error
		c, err = s.store.SetQuantity(r.Context(), owner, r.PathValue("id"), *req.Quantity)
		if s.cartError(w, r, err) {
			return
		}
	}
	writeJSON(w, http.StatusOK, toCartJSON(c, visitorFrom(r.Context())))
}

// apiRemove answers DELETE /api/cart/items/{id}.
func (s *Shop) apiRemove(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.cartOwner(w, r, false)
	if !ok {
		return
	}
	var c Cart
	if owner != "" {
		var err error
		if c, err = s.store.Remove(r.Context(), owner, r.PathValue("id")); s.cartError(w, r, err) {
			return
		}
	}
	writeJSON(w, http.StatusOK, toCartJSON(c, visitorFrom(r.Context())))
}

// apiMerge answers POST /api/cart/merge, which the script calls right
// after signing in: the cart the visitor filled as a guest joins the
// account's cart, and the guest cookie goes.
func (s *Shop) apiMerge(w http.ResponseWriter, r *http.Request) {
	v := visitorFrom(r.Context())
	if !v.signedIn {
		writeProblem(w, http.StatusUnauthorized, "unauthenticated", "sign in first")
		return
	}
	if !v.user.Can("cart:write") {
		writeProblem(w, http.StatusForbidden, "forbidden", "missing permission cart:write")
		return
	}
	merged := 0
	var c Cart
	var err error
	if v.guestID != "" {
		guest, err := s.store.Cart(r.Context(), GuestOwner(v.guestID))
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		merged = guest.Count()
		c, err = s.store.Merge(r.Context(), GuestOwner(v.guestID), v.owner())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.dropGuest(w)
	} else if c, err = s.store.Cart(r.Context(), v.owner()); err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Merged int      `json:"merged"`
		Cart   cartJSON `json:"cart"`
	}{merged, toCartJSON(c, v)})
}

// apiOrders answers GET /api/orders, behind guard.Require("orders:read").
func (s *Shop) apiOrders(w http.ResponseWriter, r *http.Request) {
	u, _ := guard.UserFrom(r.Context())
	orders, err := s.store.Orders(r.Context(), u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]orderJSON, 0, len(orders))
	for _, o := range orders {
		out = append(out, toOrderJSON(o))
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": out})
}

// apiCheckout answers POST /api/checkout, behind
// guard.Require("orders:write", "cart:write"): the cart becomes an order.
func (s *Shop) apiCheckout(w http.ResponseWriter, r *http.Request) {
	u, _ := guard.UserFrom(r.Context())
	o, err := s.store.Checkout(r.Context(), u.ID)
	if errors.Is(err, ErrEmptyCart) {
		writeProblem(w, http.StatusConflict, "empty_cart", "the cart is empty")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toOrderJSON(o))
}

package shop

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxFormBytes bounds a form's body.
const maxFormBytes = 16 << 10

func (s *Shop) home(w http.ResponseWriter, r *http.Request) {
	products, err := s.store.Products(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home", view{Title: "Shop", Nav: "shop", Data: struct{ Products []Product }{products}})
}

func (s *Shop) product(w http.ResponseWriter, r *http.Request) {
	p, err := s.store.Product(r.Context(), r.PathValue("id"))
	if errors.Is(err, ErrNoProduct) {
		s.errorPage(w, r, http.StatusNotFound, "We have no such product. Have a look at the rest of the catalogue.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	q := make([]int, 10)
	for i := range q {
		q[i] = i + 1
	}
	s.render(w, r, http.StatusOK, "product", view{Title: p.Name, Nav: "shop", Data: struct {
		Product    Product
		Quantities []int
		Added      bool
	}{p, q, r.URL.Query().Get("added") == "1"}})
}

func (s *Shop) cartPage(w http.ResponseWriter, r *http.Request) {
	v := visitorFrom(r.Context())
	if v.signedIn && !v.user.Can("cart:read") {
		s.errorPage(w, r, http.StatusForbidden, "Your account may not see a cart (it lacks the permission cart:read).")
		return
	}
	var cart Cart
	if owner := v.owner(); owner != "" && !v.pending {
		var err error
		if cart, err = s.store.Cart(r.Context(), owner); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "cart", view{Title: "Your cart", Nav: "cart", CartCount: cart.Count(), Data: struct{ Cart Cart }{cart}})
}

// member returns the visitor when signed in with every permission.
// Otherwise it answers, and returns false: a 401 page that offers to sign
// in, a 403 page, or, for a page load of a browser in token mode, the page
// in its "signing you in" state, which the script then loads again with
// its access token.
func (s *Shop) member(w http.ResponseWriter, r *http.Request, page, title, nav string, perms ...string) (visitor, bool) {
	v := visitorFrom(r.Context())
	if !v.signedIn {
		if v.pending && r.Method == http.MethodGet {
			s.render(w, r, http.StatusOK, page, view{Title: title, Nav: nav})
			return v, false
		}
		s.errorPage(w, r, http.StatusUnauthorized, "")
		return v, false
	}
	for _, p := range perms {
		if !v.user.Can(p) {
			s.errorPage(w, r, http.StatusForbidden, "Your account is signed in but lacks the permission "+p+" that this needs.")
			return v, false
		}
	}
	return v, true
}

func (s *Shop) checkoutPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.member(w, r, "checkout", "Check out", "cart", "cart:read", "orders:write")
	if !ok {
		return
	}
	cart, err := s.store.Cart(r.Context(), v.owner())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "checkout", view{Title: "Check out", Nav: "cart", Data: struct{ Cart Cart }{cart}})
}

func (s *Shop) ordersPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.member(w, r, "orders", "Your orders", "orders", "orders:read")
	if !ok {
		return
	}
	orders, err := s.store.Orders(r.Context(), v.user.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "orders", view{Title: "Your orders", Nav: "orders", Data: struct{ Orders []Order }{orders}})
}

func (s *Shop) orderPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.member(w, r, "order", "Your order", "orders", "orders:read")
	if !ok {
		return
	}
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "There is no such order in your account.")
		return
	}
	o, err := s.store.Order(r.Context(), v.user.ID, n)
	if errors.Is(err, ErrNoOrder) {
		s.errorPage(w, r, http.StatusNotFound, "There is no such order in your account.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "order", view{Title: "Order #" + strconv.FormatInt(n, 10), Nav: "orders", Data: struct {
		Order  Order
		Placed bool
	}{o, r.URL.Query().Get("placed") == "1"}})
}

// authView is the sign-in and sign-up page.
type authView struct {
	SignUp      bool
	Next        string
	Email       string
	Reason      string
	Demo        *Account
	NeedsScript bool
}

func (s *Shop) signinPage(w http.ResponseWriter, r *http.Request) { s.authPage(w, r, false, "") }
func (s *Shop) signupPage(w http.ResponseWriter, r *http.Request) { s.authPage(w, r, true, "") }

func (s *Shop) authPage(w http.ResponseWriter, r *http.Request, signUp bool, reason string) {
	q := r.URL.Query()
	next := localPath(q.Get("next"), "/")
	if v := visitorFrom(r.Context()); v.signedIn && r.Method == http.MethodGet {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if reason == "" && q.Get("signed_out") == "1" {
		reason = "You are signed out. Your cart stays with your account until you sign in again."
	}
	title := "Sign in"
	if signUp {
		title = "Create an account"
	}
	av := authView{SignUp: signUp, Next: next, Reason: reason, Demo: s.cfg.Demo}
	s.render(w, r, http.StatusOK, "signin", view{Title: title, Data: av})
}

// formNeedsScript answers a sign-in form posted without the script: the
// page signs in with Gatehouse's JSON API directly, from the browser.
func (s *Shop) formNeedsScript(w http.ResponseWriter, r *http.Request) {
	s.authPage(w, r, r.URL.Path == "/signup", "Signing in needs JavaScript: this page talks to Gatehouse's JSON API from your browser. Please turn it on and try again.")
}

func (s *Shop) helpPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "help", view{Title: "How it works", Nav: "help", Data: struct {
		CookieName string
	}{s.cfg.CookieName}})
}

// loginView is one login of the logins page, as GET /v1/sessions lists it.
type loginView struct {
	ID         string    `json:"id"`
	Mode       string    `json:"mode"`
	Device     string    `json:"device"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

func (s *Shop) loginsPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.member(w, r, "logins", "Your logins", ""); !ok {
		return
	}
	res, err := s.gatehouse(r, http.MethodGet, "/v1/sessions")
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized {
		s.errorPage(w, r, http.StatusUnauthorized, "")
		return
	}
	var body struct {
		Sessions []loginView `json:"sessions"`
	}
	if res.StatusCode != http.StatusOK {
		s.unavailable(w, r, errors.New("GET /v1/sessions: "+res.Status))
		return
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&body); err != nil {
		s.unavailable(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "logins", view{Title: "Your logins", Data: struct{ Logins []loginView }{body.Sessions}})
}

// Forms. Each answers 303 to the page to show next, or an error page.

func (s *Shop) formAdd(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		s.errorPage(w, r, http.StatusBadRequest, "")
		return
	}
	qty := 1
	if q := r.PostFormValue("quantity"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			s.errorPage(w, r, http.StatusBadRequest, "The quantity must be a number from 1 to 99.")
			return
		}
		qty = n
	}
	owner, ok := s.cartOwner(w, r, true)
	if !ok {
		return
	}
	_, err := s.store.Add(r.Context(), owner, r.PostFormValue("product_id"), qty)
	if s.cartError(w, r, err) {
		return
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/cart"), http.StatusSeeOther)
}

func (s *Shop) formSetQuantity(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		s.errorPage(w, r, http.StatusBadRequest, "")
		return
	}
	qty, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("quantity")))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "The quantity must be a number from 0 to 99.")
		return
	}
	owner, ok := s.cartOwner(w, r, false)
	if !ok {
		return
	}
	if owner != "" {
		_, err = s.store.SetQuantity(r.Context(), owner, r.PathValue("id"), qty)
		if s.cartError(w, r, err) {
			return
		}
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/cart"), http.StatusSeeOther)
}

func (s *Shop) formRemove(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		s.errorPage(w, r, http.StatusBadRequest, "")
		return
	}
	owner, ok := s.cartOwner(w, r, false)
	if !ok {
		return
	}
	if owner != "" {
		_, err := s.store.Remove(r.Context(), owner, r.PathValue("id"))
		if s.cartError(w, r, err) {
			return
		}
	}
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/cart"), http.StatusSeeOther)
}

func (s *Shop) formCheckout(w http.ResponseWriter, r *http.Request) {
	v, ok := s.member(w, r, "", "", "", "orders:write", "cart:write")
	if !ok {
		return
	}
	o, err := s.store.Checkout(r.Context(), v.user.ID)
	if errors.Is(err, ErrEmptyCart) {
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/orders/"+strconv.FormatInt(o.Number, 10)+"?placed=1", http.StatusSeeOther)
}

// formSignout signs out through Gatehouse with the visitor's credential,
// and passes on the cookie Gatehouse clears. The script normally calls
// POST /v1/logout itself; this serves a browser without it.
func (s *Shop) formSignout(w http.ResponseWriter, r *http.Request) {
	v := visitorFrom(r.Context())
	if v.signedIn {
		res, err := s.gatehouse(r, http.MethodPost, "/v1/logout")
		if err != nil {
			s.unavailable(w, r, err)
			return
		}
		res.Body.Close()
		passCookies(w, res)
	}
	http.Redirect(w, r, "/signin?signed_out=1", http.StatusSeeOther)
}

func (s *Shop) formRevokeLogin(w http.ResponseWriter, r *http.Request) {
	v, ok := s.member(w, r, "", "", "")
	if !ok {
		return
	}
	id := r.PathValue("id")
	res, err := s.gatehouse(r, http.MethodDelete, "/v1/sessions/"+url.PathEscape(id))
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	res.Body.Close()
	switch res.StatusCode {
	case http.StatusNoContent:
	case http.StatusNotFound:
		s.errorPage(w, r, http.StatusNotFound, "That login is not one of yours, or it has already ended.")
		return
	default:
		s.unavailable(w, r, errors.New("DELETE /v1/sessions/{id}: "+res.Status))
		return
	}
	passCookies(w, res)
	if id == v.user.SessionID {
		http.Redirect(w, r, "/signin?signed_out=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/logins", http.StatusSeeOther)
}

func (s *Shop) formRevokeOthers(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.member(w, r, "", "", ""); !ok {
		return
	}
	res, err := s.gatehouse(r, http.MethodDelete, "/v1/sessions?keep_current=true")
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		s.unavailable(w, r, errors.New("DELETE /v1/sessions: "+res.Status))
		return
	}
	http.Redirect(w, r, "/account/logins", http.StatusSeeOther)
}

// cartOwner returns whose cart a change applies to: the user's, when they
// may write it, else the guest's (made on the spot when create is set; ""
// when the guest has no cart to change).
func (s *Shop) cartOwner(w http.ResponseWriter, r *http.Request, create bool) (Owner, bool) {
	v := visitorFrom(r.Context())
	if v.signedIn {
		if !v.user.Can("cart:write") {
			s.fail(w, r, http.StatusForbidden, "forbidden", "Your account may not change a cart (it lacks the permission cart:write).")
			return "", false
		}
		return v.owner(), true
	}
	if v.guestID == "" {
		if !create {
			return "", true // no cart yet: nothing to change
		}
		v.guestID = s.newGuest(w)
	}
	return GuestOwner(v.guestID), true
}

// cartError answers a failed change of the cart, and reports whether it
// did.
func (s *Shop) cartError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNoProduct):
		s.fail(w, r, http.StatusNotFound, "not_found", "We have no such product.")
	case errors.Is(err, ErrBadQty):
		s.fail(w, r, http.StatusBadRequest, "invalid_request", "The quantity must be from 1 to 99 (0 removes the product).")
	case errors.Is(err, ErrCartFull):
		s.fail(w, r, http.StatusConflict, "cart_full", "The cart holds as many different products as it can.")
	default:
		s.serverError(w, r, err)
	}
	return true
}

func (s *Shop) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() == nil {
		s.log.Error("shop: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.fail(w, r, http.StatusInternalServerError, "internal", "")
}

func (s *Shop) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("shop: calling Gatehouse failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusServiceUnavailable, "unavailable", "")
}

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	return r.ParseForm() == nil
}

// passCookies copies the cookies Gatehouse set (clearing its session
// cookie at sign-out) to the browser.
func passCookies(w http.ResponseWriter, res *http.Response) {
	for _, c := range res.Header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
}

// localPath returns p when it is a path on this site, else def: a "next"
// parameter must never send the visitor elsewhere.
func localPath(p, def string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return def
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return def
	}
	return u.RequestURI()
}

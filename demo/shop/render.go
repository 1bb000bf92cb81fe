package shop

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/guard"
)

//go:embed templates static
var files embed.FS

// contentSecurityPolicy allows the shop's own files and nothing else: no
// inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure sets the headers every answer of the shop carries.
func (s *Shop) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		next.ServeHTTP(w, r)
	})
}

// assets maps each static file to its content hash, for cache busting.
var assets = func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

// assetURL is the URL of a static file, with its hash so that it can be
// cached for good.
func assetURL(name string) string {
	v, ok := assets[name]
	if !ok {
		panic("shop: no static file " + name)
	}
	return "/static/" + name + "?v=" + v
}

// staticHandler serves the embedded files: for a year when the URL names
// the current version, else briefly.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(files, "static")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		v, ok := assets[name]
		if !ok {
			writePlain(w, http.StatusNotFound, "no such file")
			return
		}
		b, _ := fs.ReadFile(sub, name)
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if r.URL.Query().Get("v") == v {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=60")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

func writePlain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"money": money,
	"date": func(t time.Time) template.HTML {
		// The script shows it in the reader's time zone.
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`,
			t.UTC().Format(time.RFC3339), template.HTMLEscapeString(t.UTC().Format("2 Jan 2006, 15:04 UTC"))))
	},
	"initial": func(s string) string {
		r, _ := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError || !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return "?"
		}
		return string(unicode.ToUpper(r))
	},
}

// money writes cents as euros: 1800 is "€18.00".
func money(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s€%d.%02d", sign, cents/100, cents%100)
}

// templates holds one template set per page, each with the layout.
type templates struct{ pages map[string]*template.Template }

var pageNames = []string{"home", "product", "cart", "checkout", "orders", "order", "signin", "logins", "help", "error"}

func parseTemplates() (*templates, error) {
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		p, err := template.New(name).Funcs(funcs).ParseFS(files,
			"templates/layout.html", "templates/pending.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("shop: template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	return t, nil
}

// view is what every page gets.
type view struct {
	Title, Nav  string
	Status      int
	Mode        string // "guest", "session" or "token"
	Pending     bool
	User        guard.User
	Cookie      cookieView
	GuestCookie bool
	CartCount   int
	Flash       string
	Data        any
}

// cookieView describes the session cookie for the panel: its name and
// length, never its value.
type cookieView struct {
	Name   string
	Length int
}

// render writes a page. The cart count in the header is read here, so
// each page shows it whoever is asking.
func (s *Shop) render(w http.ResponseWriter, r *http.Request, status int, name string, vw view) {
	v := visitorFrom(r.Context())
	vw.Status, vw.Mode, vw.Pending, vw.User = status, v.mode(), v.pending, v.user
	vw.GuestCookie = v.guestID != ""
	if v.cookieLen > 0 && v.signedIn && v.user.Mode == guard.ModeSession {
		vw.Cookie = cookieView{Name: s.cfg.CookieName, Length: v.cookieLen}
	}
	if owner := v.owner(); owner != "" && vw.CartCount == 0 && (!v.signedIn || v.user.Can("cart:read")) {
		if c, err := s.store.Cart(r.Context(), owner); err == nil {
			vw.CartCount = c.Count()
		}
	}
	var buf bytes.Buffer
	if err := s.pages.pages[name].ExecuteTemplate(&buf, "layout", vw); err != nil {
		s.log.Error("shop: rendering a page", "page", name, "err", err)
		writePlain(w, http.StatusInternalServerError, "Something went wrong on our side.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages are personal (the cart count at least): never stored.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorView is the text of an error page.
type errorView struct {
	Heading, Message, Next string
}

var errorTexts = map[int]errorView{
	http.StatusBadRequest:          {Heading: "That did not work", Message: "The request was not one the shop understands. Go back and try again."},
	http.StatusUnauthorized:        {Heading: "Please sign in", Message: "This page is about your account. Sign in and you will come straight back here."},
	http.StatusForbidden:           {Heading: "Not allowed", Message: "Your account is signed in but does not have the permission this needs."},
	http.StatusNotFound:            {Heading: "Page not found", Message: "There is nothing here. The product may have gone, or the address has a typo."},
	http.StatusMethodNotAllowed:    {Heading: "That did not work", Message: "This page cannot be used that way."},
	http.StatusTooManyRequests:     {Heading: "Slow down a little", Message: "Too many requests in a short time. Wait a few seconds and try again."},
	http.StatusInternalServerError: {Heading: "Something went wrong on our side", Message: "The shop could not do that just now. Your cart is safe; please try again in a moment."},
	http.StatusServiceUnavailable:  {Heading: "Sign-in is briefly unavailable", Message: "The shop cannot reach the sign-in service right now, so it cannot check who you are. Your cart is safe; try again in a moment."},
}

// errorPage answers with a page for status; detail, when not empty,
// replaces the usual message.
func (s *Shop) errorPage(w http.ResponseWriter, r *http.Request, status int, detail string) {
	e, ok := errorTexts[status]
	if !ok {
		e = errorTexts[http.StatusInternalServerError]
	}
	if detail != "" {
		e.Message = detail
	}
	if r.Method == http.MethodGet {
		e.Next = r.URL.RequestURI()
	} else {
		e.Next = "/cart"
	}
	s.render(w, r, status, "error", view{Title: e.Heading, Data: e})
}

// problem is RFC 9457 problem details, as Gatehouse and guard write them.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(problem{"about:blank", http.StatusText(status), status, detail, code})
}

// fail refuses a request: problem details for the API and for scripts
// (Accept: application/json), an error page otherwise.
func (s *Shop) fail(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	if wantsJSON(r) {
		if detail == "" {
			detail = errorTexts[status].Message
		}
		writeProblem(w, status, code, detail)
		return
	}
	s.errorPage(w, r, status, detail)
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

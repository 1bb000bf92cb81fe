package pages

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/password"
)

// Config holds the pages' settings.
type Config struct {
	// API is the JSON API's configuration: the pages use the same cookie
	// (Dev, CookieDomain) and read the client address the same way
	// (TrustedProxies).
	API httpapi.Config
	// Issuer is Gatehouse's public base URL (https://auth.example.com),
	// where browsers reach the pages. Required.
	Issuer string
	// RedirectDomains are the hosts a sign-in may return to (see
	// gatehouse.ReturnURLs); nil means gatehouse.DefaultRedirectDomains.
	RedirectDomains []string
	// BrandName is the product name on the pages; "" means "Gatehouse".
	BrandName string
	// BrandLogo, when set, is an image shown beside BrandName on every
	// page, served at /auth/static/logo: PNG, JPEG, WebP or SVG, at most
	// MaxLogoBytes (see CheckLogo).
	BrandLogo []byte
	// BrandColor, when set, is the pages' accent colour, "#RRGGBB": the
	// buttons' background, with white or black text on it, whichever is
	// readable, and the links' colour, darkened as much as it needs to be
	// readable on the page (WCAG AA, 4.5:1). "" keeps the default blue.
	BrandColor string
	// NoSignup removes the sign-up page (404), as serve --no-signup
	// refuses sign-up in the Service.
	NoSignup bool
}

// Handler serves the pages under /auth/.
type Handler struct {
	svc     *gatehouse.Service
	log     *slog.Logger
	cfg     Config
	issuer  string // without a trailing slash
	cookie  httpapi.Cookie
	origin  *http.CrossOriginProtection
	returns *gatehouse.ReturnURLs
	// forms are the origins a page's form may lead to besides its own
	// (the return URLs'), and csp the policies without an app's origin,
	// built once: see policy.
	forms []string
	csp   [2][]string // without and with the script
	// tmpl holds the templates of each language, by language then name,
	// with the catalogue's fixed words already in place: see
	// parseTemplates.
	tmpl     map[string]map[string]*template.Template
	style    []byte // style.css, then the brand colour's rule
	logo     []byte // Config.BrandLogo
	logoType string
	handler  http.Handler
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Paths of the pages.
const (
	signinPath  = "/auth/signin"
	signupPath  = "/auth/signup"
	signoutPath = "/auth/signout"
	accountPath = "/auth/account"
	stylePath   = "/auth/static/style.css"
	adminPath   = "/auth/admin/"
	auditPath   = "/auth/admin/audit"
)

// New returns the pages. It fails when the Issuer is not an http(s) URL,
// a RedirectDomains entry is not a host name, or the BrandLogo or
// BrandColor is refused (see CheckLogo and CheckColor).
func New(svc *gatehouse.Service, logger *slog.Logger, cfg Config) (*Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BrandName == "" {
		cfg.BrandName = "Gatehouse"
	}
	domains := cfg.RedirectDomains
	if domains == nil {
		domains = gatehouse.DefaultRedirectDomains(cfg.Issuer, cfg.API.CookieDomain)
	}
	returns, err := gatehouse.NewReturnURLs(cfg.Issuer, domains, cfg.API.Dev)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		svc: svc, log: logger, cfg: cfg, issuer: strings.TrimSuffix(cfg.Issuer, "/"),
		cookie: httpapi.NewCookie(cfg.API), origin: http.NewCrossOriginProtection(), returns: returns,
		forms: returns.Origins(),
	}
	h.csp = [2][]string{h.policyHeader(policy{}), h.policyHeader(policy{script: true})}
	if err := h.brand(); err != nil {
		return nil, err
	}
	if h.tmpl, err = parseTemplates(cfg.BrandName); err != nil {
		return nil, err
	}
	// The same request log and metrics as the JSON API's, outside the
	// mux so that the route is its pattern.
	h.handler = httpapi.LogRequests(logger, cfg.API.OnRequest)(h.routes())
	return h, nil
}

// brand checks the brand's logo and colour and makes the stylesheet.
func (h *Handler) brand() error {
	h.style = style
	if h.cfg.BrandColor != "" {
		c, err := parseColor(h.cfg.BrandColor)
		if err != nil {
			return fmt.Errorf("brand colour: %w", err)
		}
		css, link := brandStyle(c)
		if link != c {
			h.log.Info("the brand colour is too light for text on the pages: links use a darker shade",
				"color", c.String(), "links", link.String())
		}
		h.style = append(append([]byte{}, style...), css...)
	}
	if h.cfg.BrandLogo != nil {
		ct, err := CheckLogo(h.cfg.BrandLogo)
		if err != nil {
			return fmt.Errorf("brand logo: %w", err)
		}
		h.logo, h.logoType = h.cfg.BrandLogo, ct
	}
	return nil
}

// ServeHTTP serves the pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.handler.ServeHTTP(w, r) }

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	route := func(path string, methods map[string]http.HandlerFunc) {
		handlers := make(map[string]http.Handler, len(methods))
		for m, f := range methods {
			handlers[m] = f
		}
		httpapi.HandleMethods(mux, path, handlers, func(w http.ResponseWriter, r *http.Request) {
			h.problem(w, r, http.StatusMethodNotAllowed, "problem.method_not_allowed")
		})
	}
	route(signinPath, map[string]http.HandlerFunc{"GET": h.signinPage, "POST": h.signin})
	if !h.cfg.NoSignup {
		route(signupPath, map[string]http.HandlerFunc{"GET": h.signupPage, "POST": h.signup})
	}
	route(signoutPath, map[string]http.HandlerFunc{"POST": h.signout})
	route(accountPath, map[string]http.HandlerFunc{"GET": h.loggedIn(h.accountPage)})
	route(accountPath+"/password", map[string]http.HandlerFunc{"POST": h.loggedIn(h.changePassword)})
	route(accountPath+"/email", map[string]http.HandlerFunc{"POST": h.loggedIn(h.changeEmail)})
	route(accountPath+"/email/verification", map[string]http.HandlerFunc{"POST": h.loggedIn(h.resendVerification)})
	route(recoverPath, map[string]http.HandlerFunc{"GET": h.recoverPage, "POST": h.recover})
	route(gatehouse.ResetPath, map[string]http.HandlerFunc{"GET": h.resetPage, "POST": h.reset})
	route(gatehouse.VerifyPath, map[string]http.HandlerFunc{"GET": h.verifyPage, "POST": h.verify})
	route(accountPath+"/logins/signout", map[string]http.HandlerFunc{"POST": h.loggedIn(h.signoutOne)})
	route(accountPath+"/logins/signout-others", map[string]http.HandlerFunc{"POST": h.loggedIn(h.signoutOthers)})
	route(signinMFAPath, map[string]http.HandlerFunc{"GET": h.signinMFAPage, "POST": h.signinMFA})
	route(stepUpPath, map[string]http.HandlerFunc{"GET": h.loggedIn(h.stepUpPage), "POST": h.loggedIn(h.stepUp)})
	route(totpPath, map[string]http.HandlerFunc{"POST": h.loggedIn(h.enrollTOTP)})
	route(totpPath+"/confirm", map[string]http.HandlerFunc{"POST": h.loggedIn(h.confirmTOTP)})
	route(totpPath+"/remove", map[string]http.HandlerFunc{"POST": h.loggedIn(h.removeTOTP)})
	route(codesPath, map[string]http.HandlerFunc{"POST": h.loggedIn(h.regenerateCodes)})
	admin, audit := h.permitted(gatehouse.PermUsersAdmin), h.permitted(gatehouse.PermAuditRead)
	route(adminPath+"{$}", map[string]http.HandlerFunc{"GET": admin(h.adminUsers)})
	route(adminPath+"users/{id}", map[string]http.HandlerFunc{"GET": admin(h.adminUserPage)})
	route(adminPath+"users/{id}/disable", map[string]http.HandlerFunc{"POST": admin(h.adminDisable)})
	route(adminPath+"users/{id}/enable", map[string]http.HandlerFunc{"POST": admin(h.adminEnable)})
	route(adminPath+"users/{id}/roles", map[string]http.HandlerFunc{"POST": admin(h.adminSetRoles)})
	route(adminPath+"users/{id}/signout", map[string]http.HandlerFunc{"POST": admin(h.adminSignout)})
	route(adminPath+"users/{id}/recovery", map[string]http.HandlerFunc{"POST": admin(h.adminRecovery)})
	route(adminPath+"users/{id}/mfa/reset", map[string]http.HandlerFunc{"POST": admin(h.adminResetFactors)})
	route(auditPath, map[string]http.HandlerFunc{"GET": audit(h.adminAudit)})
	clients := h.permitted(gatehouse.PermClientsAdmin)
	route(appsAdminPath, map[string]http.HandlerFunc{"GET": clients(h.adminAppsPage), "POST": clients(h.adminAddApp)})
	route(appsAdminPath+"/{id}/remove", map[string]http.HandlerFunc{"POST": clients(h.adminRemoveApp)})
	route(passkeysPath, map[string]http.HandlerFunc{"POST": h.passkeysOn(h.loggedIn(h.beginPasskey))})
	route(passkeysPath+"/finish", map[string]http.HandlerFunc{"POST": h.passkeysOn(h.loggedIn(h.finishPasskey))})
	route(passkeysPath+"/rename", map[string]http.HandlerFunc{"POST": h.passkeysOn(h.loggedIn(h.renamePasskey))})
	route(passkeysPath+"/remove", map[string]http.HandlerFunc{"POST": h.passkeysOn(h.loggedIn(h.removePasskey))})
	route(signinPasskeyPath, map[string]http.HandlerFunc{"POST": h.passkeysOn(h.beginPasskeySignin)})
	route(signinPasskeyPath+"/finish", map[string]http.HandlerFunc{"POST": h.passkeysOn(h.finishPasskeySignin)})
	route(scriptPath, map[string]http.HandlerFunc{"GET": h.serveScript})
	route(consentPath, map[string]http.HandlerFunc{"GET": h.loggedIn(h.consentPage), "POST": h.loggedIn(h.answerConsent)})
	route(revokeAppPath, map[string]http.HandlerFunc{"POST": h.loggedIn(h.revokeApp)})
	route(stylePath, map[string]http.HandlerFunc{"GET": h.serveStyle})
	if h.logo != nil {
		route(logoPath, map[string]http.HandlerFunc{"GET": h.serveLogo})
	}
	mux.HandleFunc("GET /auth/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, accountPath, http.StatusSeeOther)
	})
	notFound := func(w http.ResponseWriter, r *http.Request) {
		h.problem(w, r, http.StatusNotFound, "problem.not_found")
	}
	mux.HandleFunc("/auth/", notFound) // the route of a page that is not there
	mux.HandleFunc("/", notFound)
	return mux
}

// Header values every page shares; net/http only reads them.
var (
	noStore     = []string{"no-store"}
	noReferrer  = []string{"no-referrer"}
	nosniff     = []string{"nosniff"}
	htmlType    = []string{"text/html; charset=utf-8"}
	cssType     = []string{"text/css; charset=utf-8"}
	styleMaxAge = []string{"public, max-age=3600"}
	// logoCSP keeps an SVG logo opened on its own from running script or
	// fetching anything; as an <img> a browser runs none anyway.
	logoCSP = []string{"default-src 'none'; style-src 'unsafe-inline'; sandbox"}
)

// setHeaders sets the headers of every page: see the package comment.
func (h *Handler) setHeaders(w http.ResponseWriter, csp []string) {
	hd := w.Header()
	hd["Content-Security-Policy"] = csp
	hd["Referrer-Policy"] = noReferrer
	hd["X-Content-Type-Options"] = nosniff
	hd["Cache-Control"] = noStore
	hd["Content-Type"] = htmlType
}

var style = staticFile("static/style.css")

// staticFile returns an embedded file; one missing is a mistake of the
// build, found at start.
func staticFile(name string) []byte {
	b, err := fs.ReadFile(staticFiles, name)
	if err != nil {
		panic(err)
	}
	return b
}

// serveStatic writes a file of the pages (stylesheet, script, logo) with
// its type, cached for an hour.
func serveStatic(w http.ResponseWriter, contentType []string, body []byte) {
	hd := w.Header()
	hd["Content-Type"] = contentType
	hd["Cache-Control"] = styleMaxAge
	hd["X-Content-Type-Options"] = nosniff
	w.Write(body)
}

func (h *Handler) serveStyle(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, cssType, h.style)
}

func (h *Handler) serveLogo(w http.ResponseWriter, r *http.Request) {
	w.Header()["Content-Security-Policy"] = logoCSP
	serveStatic(w, []string{h.logoType}, h.logo)
}

// page is what every template is given.
type page struct {
	L     messages
	Lang  string
	Brand string
	Logo  bool   // the brand has a logo, at /auth/static/logo
	Title string // a catalogue key
	// Base is what the page's own links start with: "" on Gatehouse's
	// origin, the issuer on a page served through a proxy (Forbidden).
	Base string
	// User is who is signed in, when someone is.
	User *gatehouse.User
	// Error is the message of a refused form; Notice that of a done one.
	Error, Notice string
	// Invalid is the name of the field Error is about, or "".
	Invalid    string
	Form       form
	Signup     bool // the sign-up page exists
	EmailOn    bool // Gatehouse sends email: recovery, verification
	ReturnHost string
	// Token is the one-time token of a link's page (reset, verify-email),
	// and LinkEmail the address it was sent to; LinkDone says the link's
	// page has nothing left to do (the token is bad or spent).
	Token, LinkEmail string
	LinkDone         bool

	// CanAdmin, CanAudit and CanApps show the nav's links to the admin
	// pages.
	CanAdmin, CanAudit, CanApps bool

	Logins      []loginRow
	OtherLogins bool          // Logins has others than this one
	LoginsHTML  template.HTML // Logins, written by loginsHTML
	Permission  string
	SwitchURL   string
	Admin       *adminView // the admin pages'
	MFA         *mfaView   // the second factors' pages, and the account page's card

	// PasskeysOn shows the passkeys' cards and buttons; Passkeys are the
	// account page's; Ceremony is a passkey ceremony's page.
	PasskeysOn bool
	Passkeys   []passkeyRow
	Ceremony   *ceremony

	// Consent is the consent page's; Apps the account page's "Apps with
	// access".
	Consent *consentView
	Apps    []appRow
}

// signedIn puts who is signed in on the page, and the links of the nav
// they may follow.
func (p *page) signedIn(pr gatehouse.Principal) {
	p.User = &pr.User
	p.CanAdmin = pr.Can(gatehouse.PermUsersAdmin)
	p.CanAudit = pr.Can(gatehouse.PermAuditRead)
	p.CanApps = pr.Can(gatehouse.PermClientsAdmin)
}

// notice shows the words of the request's ?notice= when list has it.
func (p *page) notice(r *http.Request, list map[string]string) {
	if key, ok := list[r.URL.Query().Get("notice")]; ok {
		p.Notice = p.L.T(key)
	}
}

// form is what the person typed, passwords excepted.
type form struct {
	Email    string
	Remember bool
	RD       string // the checked return URL, or ""
}

func (h *Handler) newPage(r *http.Request, title string) *page {
	lang := pickLanguage(r.Header.Get("Accept-Language"))
	return &page{L: catalogue[lang], Lang: lang, Brand: h.cfg.BrandName, Logo: h.logo != nil, Title: title, Signup: !h.cfg.NoSignup, EmailOn: h.svc.EmailOn(), PasskeysOn: h.svc.PasskeysEnabled()}
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes the template name with the status, and the page headers.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	h.renderWith(w, r, status, name, p, policy{})
}

// policy is what a page's Content-Security-Policy allows beyond what
// every page's does (styles and images from Gatehouse, forms to Gatehouse
// and the return URLs' origins, nothing else).
type policy struct {
	// script allows webauthn.js, on the pages of a WebAuthn ceremony.
	script bool
	// app adds an app's origin to the form targets: a page whose form
	// leads, through redirects, to an app's redirect URI (the sign-in of
	// an authorization request, its second step, the consent page) must
	// allow it, since browsers hold the redirects after a form to its
	// page's form-action.
	app string
	// elsewhere is for a page served through a proxy on an app's origin
	// (the forbidden page): its stylesheet and logo are the issuer's, and
	// it has no form.
	elsewhere bool
}

// policyHeader returns the Content-Security-Policy header of pol; the
// two most pages use (with or without the script, nothing else) are
// built once, in h.csp.
func (h *Handler) policyHeader(pol policy) []string {
	if pol == (policy{script: pol.script}) && h.csp[0] != nil {
		if pol.script {
			return h.csp[1]
		}
		return h.csp[0]
	}
	parts := []string{"default-src 'none'"}
	if pol.script {
		parts = append(parts, "script-src 'self'")
	}
	from, forms := "'self'", append([]string{"form-action 'self'"}, h.forms...)
	if pol.app != "" {
		forms = append(forms, pol.app)
	}
	if pol.elsewhere {
		from, forms = h.issuer, []string{"form-action 'none'"}
	}
	parts = append(parts, "style-src "+from, "img-src "+from+" data:", strings.Join(forms, " "), "frame-ancestors 'none'", "base-uri 'none'")
	return []string{strings.Join(parts, "; ")}
}

// renderWith renders as render does, under the policy pol; a page that
// signs in for an app's authorization request names the app and lets its
// forms lead to the app.
func (h *Handler) renderWith(w http.ResponseWriter, r *http.Request, status int, name string, p *page, pol policy) {
	if req, app, ok := h.requestOf(r.Context(), p.Form.RD); ok {
		p.ReturnHost = app.Name
		pol.app = redirectOrigin(req.RedirectURI)
	}
	buf := buffers.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); buffers.Put(buf) }()
	if err := h.tmpl[p.Lang][name].ExecuteTemplate(buf, "layout", p); err != nil {
		h.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h.setHeaders(w, h.policyHeader(pol))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// problem answers a page that is not there (404) or not used that way.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, key string) {
	p := h.newPage(r, "error.title")
	p.Error = p.L.T(key)
	h.render(w, r, status, "problem", p)
}

// fail sets p.Error to the words of err's code and returns the status the
// JSON API answers it with, setting Retry-After when the error says when
// to try again. An error that is not a gatehouse.Error is logged and 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, p *page, err error) int {
	var e *gatehouse.Error
	if !errors.As(err, &e) {
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Error = p.L.T("error.internal")
		return http.StatusInternalServerError
	}
	if e.Err != nil {
		h.log.Warn("request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.Err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	p.Error = errorMessage(p.L, e.Code)
	return httpapi.Status(e.Code)
}

// errorMessage returns the words for an error code.
func errorMessage(m messages, code gatehouse.Code) string {
	key := "error." + string(code)
	if _, ok := m[key]; !ok {
		key = "error.internal"
	}
	if code == gatehouse.CodeWeakPassword {
		return m.F(key, password.MinLength)
	}
	return m.T(key)
}

// formAction runs the action of a POST: the cross-origin rule and the
// form first, then do. It returns the first error.
func (h *Handler) formAction(w http.ResponseWriter, r *http.Request, do func() error) error {
	err := h.crossOrigin(r)
	if err == nil {
		err = parseForm(w, r)
	}
	if err == nil {
		err = do()
	}
	return err
}

// crossOrigin is the error of a POST that http.CrossOriginProtection
// refuses: the JSON API's, 403 cross_origin.
func (h *Handler) crossOrigin(r *http.Request) error {
	if err := h.origin.Check(r); err != nil {
		return gatehouse.Errorf(gatehouse.CodeCrossOrigin, "cross-origin requests are refused")
	}
	return nil
}

// maxFormBytes bounds a form's body, as the JSON API bounds its bodies.
const maxFormBytes = httpapi.MaxBodyBytes

// parseForm reads a POST's form, refusing an oversized or malformed body
// with invalid_request.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the form could not be read")
	}
	return nil
}

// principal returns who the request's session cookie signs in, or
// CodeUnauthenticated. The pages know only session mode.
func (h *Handler) principal(r *http.Request) (gatehouse.Principal, error) {
	return h.cookie.Session(r, h.svc)
}

// permitted returns loggedIn for the handlers it wraps, which then
// refuses a principal without perm with the 403 page, as the JSON API
// refuses them with 403 forbidden.
func (h *Handler) permitted(perm string) func(http.HandlerFunc) http.HandlerFunc {
	return func(next http.HandlerFunc) http.HandlerFunc {
		return h.loggedIn(func(w http.ResponseWriter, r *http.Request) {
			pr, _ := gatehouse.FromContext(r.Context())
			if !pr.Can(perm) {
				p := h.newPage(r, "forbidden.title")
				p.signedIn(pr)
				p.Error = p.L.F("forbidden.missing", perm)
				h.render(w, r, httpapi.Status(gatehouse.CodeForbidden), "problem", p)
				return
			}
			next(w, r)
		})
	}
}

// loggedIn lets a request through with a valid session, its principal in
// the context; without one, a GET goes to the sign-in page with rd set to
// itself, and a POST to the sign-in page alone (it cannot be replayed).
func (h *Handler) loggedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.principal(r)
		switch code := gatehouse.ErrorCode(err); {
		case err == nil:
			next(w, r.WithContext(gatehouse.NewContext(r.Context(), p)))
		case code == gatehouse.CodeUnauthenticated || code == gatehouse.CodeInvalidToken:
			to := signinPath
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				to += "?rd=" + url.QueryEscape(r.URL.RequestURI())
			}
			h.seeOther(w, to)
		default:
			pg := h.newPage(r, "error.title")
			h.render(w, r, h.fail(w, r, pg, err), "problem", pg)
		}
	}
}

// seeOther answers 303 to location, with the page headers.
func (h *Handler) seeOther(w http.ResponseWriter, location string) {
	hd := w.Header()
	hd["Cache-Control"] = noStore
	hd["Referrer-Policy"] = noReferrer
	hd.Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}

// returnTo is where a sign-in sends the browser: rd when allowed, else
// the account page.
func (h *Handler) returnTo(rd string) string {
	if to, ok := h.returns.Check(rd); ok {
		return to
	}
	return accountPath
}

// parseTemplates parses the templates once per language of the
// catalogue, each action that prints fixed words replaced by those words,
// escaped as html/template would escape them there: {{.L.T "signin.title"}}
// (a literal key), {{.Brand}}, and {{.L.F "signin.heading" .Brand}} or
// {{.L.F "signup.hint" minPassword}} (a literal key and an argument that
// is the same on every page). html/template spends about a microsecond on
// each action (a call through reflection, then an escaper, another), and
// a page has dozens of them: written in once, they cost nothing per
// request. Only text and quoted attribute values may hold such an action
// (TestTemplatesSameAsDynamic holds every page to the output of the plain
// templates); any other action, such as {{.L.T .Title}}, stays one.
func parseTemplates(brand string) (map[string]map[string]*template.Template, error) {
	out := map[string]map[string]*template.Template{}
	for _, lang := range languages {
		set, err := parseLanguage(catalogue[lang], brand)
		if err != nil {
			return nil, err
		}
		out[lang] = set
	}
	return out, nil
}

// fixedWords matches an action that prints fixed words: see
// parseTemplates.
var fixedWords = regexp.MustCompile(`\{\{\s*(?:\.L\.T\s+"([^"]+)"|\.L\.F\s+"([^"]+)"\s+(\.Brand|minPassword)|(\.Brand))\s*\}\}`)

// htmlText escapes as html/template does in text and quoted attribute
// values.
var htmlText = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// pageNames are the templates beside layout.html, one per page.
var pageNames = []string{"signin", "signup", "account", "forbidden", "problem", "recover", "reset", "verify_email", "admin_users", "admin_user", "admin_audit", "mfa", "totp_setup", "recovery_codes", "passkey", "consent", "admin_apps"}

// parseLanguage parses the templates with m's fixed words and the brand
// in place, or as they are written when m is nil.
func parseLanguage(m messages, brand string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		// minPassword is the shortest password the policy accepts.
		"minPassword": func() int { return password.MinLength },
	}
	fixed := func(action string) string {
		sub := fixedWords.FindStringSubmatch(action)
		var words string
		switch {
		case sub[1] != "":
			words = m.T(sub[1])
		case sub[3] == ".Brand":
			words = m.F(sub[2], brand)
		case sub[3] == "minPassword":
			words = m.F(sub[2], password.MinLength)
		default:
			words = brand
		}
		if words = htmlText.Replace(words); strings.Contains(words, "{{") {
			return action
		}
		return words
	}
	source := func(name string) (string, error) {
		b, err := fs.ReadFile(templateFiles, "templates/"+name+".html")
		if err != nil || m == nil {
			return string(b), err
		}
		return fixedWords.ReplaceAllStringFunc(string(b), fixed), nil
	}
	src, err := source("layout")
	if err != nil {
		return nil, err
	}
	layout, err := template.New("layout.html").Funcs(funcs).Parse(src)
	if err != nil {
		return nil, err
	}
	// The admin pages' shared part (the list of audit events).
	if src, err = source("admin_events"); err != nil {
		return nil, err
	}
	_, err = layout.New("admin_events.html").Parse(src)
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		src, err := source(name)
		if err != nil {
			return nil, err
		}
		t, err := template.Must(layout.Clone()).New(name + ".html").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

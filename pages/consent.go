package pages

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The pages of OpenID Connect: the consent page (/auth/consent) and the
// account page's "Apps with access". The provider (package oidc) sends a
// browser here when an app that is not trusted asks for scopes the person
// has not agreed to, and takes it back at its continue URL, which then
// answers the app. Consent is remembered per app and set of scopes
// (Service.GrantConsent); removing an app's access (Service.RevokeConsent)
// ends its logins too, so its refresh tokens stop working.

// Paths of the consent page, the form that removes an app's access, and
// the provider's continue URL.
const (
	consentPath   = "/auth/consent"
	revokeAppPath = "/auth/account/apps/revoke"
	continuePath  = "/oauth2/continue"
)

// consentView is what the consent page shows: the authorization request's
// id, the app's name and the scopes it asks for (catalogue keys).
type consentView struct {
	ID, App string
	Scopes  []string
}

// appRow is one app of the account page's "Apps with access".
type appRow struct {
	ID, Name            string
	Scopes              []string // catalogue keys
	Granted, GrantedISO string
}

// scopeKeys are the catalogue keys of scopes, as the consent page and
// "Apps with access" describe them, in the order of gatehouse.AppScopes.
func scopeKeys(scopes []string) []string {
	var keys []string
	for _, s := range gatehouse.AppScopes {
		for _, asked := range scopes {
			if asked == s {
				keys = append(keys, "scope."+s)
				break
			}
		}
	}
	return keys
}

// continueURL is the provider's continue URL of the authorization request
// id.
func continueURL(id string) string { return continuePath + "?id=" + url.QueryEscape(id) }

// requestOf returns the live authorization request that rd, a return URL
// of the pages, continues (the provider's continue URL, as a path or on
// the issuer's origin), and its app; ok is false when rd is not one.
func (h *Handler) requestOf(ctx context.Context, rd string) (gatehouse.AuthRequest, gatehouse.App, bool) {
	u, err := url.Parse(strings.TrimPrefix(rd, h.issuer))
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path != continuePath {
		return gatehouse.AuthRequest{}, gatehouse.App{}, false
	}
	req, err := h.svc.AuthRequest(ctx, u.Query().Get("id"))
	if err != nil {
		return gatehouse.AuthRequest{}, gatehouse.App{}, false
	}
	app, err := h.svc.App(ctx, req.AppID)
	if err != nil {
		return gatehouse.AuthRequest{}, gatehouse.App{}, false
	}
	return req, app, true
}

// originForm is what an origin must look like to be written into the
// Content-Security-Policy: a scheme and, unless the scheme is an app's
// own (com.example.app:), a host and port, with nothing that could end
// the directive.
var originForm = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:(//[A-Za-z0-9.:\[\]-]+)?$`)

// redirectOrigin is the origin of an app's redirect URI, as a CSP source.
func redirectOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return ""
	}
	o := u.Scheme + ":"
	if u.Host != "" {
		o += "//" + u.Host
	}
	if !originForm.MatchString(o) {
		return ""
	}
	return o
}

func (h *Handler) consentPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "consent.title")
	h.consent(w, r, http.StatusOK, p, r.URL.Query().Get("id"))
}

// consent renders the consent page of the authorization request id; one
// that ended or whose app is gone gets a page that says so (404), and one
// already answered goes back to the provider.
func (h *Handler) consent(w http.ResponseWriter, r *http.Request, status int, p *page, id string) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	req, app, ok := h.requestOf(r.Context(), continueURL(id))
	if !ok {
		p.Title, p.Error = "consent.title", p.L.T("consent.gone")
		h.render(w, r, http.StatusNotFound, "problem", p)
		return
	}
	if req.Done() {
		h.seeOther(w, continueURL(req.ID))
		return
	}
	p.Consent = &consentView{ID: req.ID, App: app.Name, Scopes: scopeKeys(req.Scopes)}
	h.renderWith(w, r, status, "consent", p, policy{app: redirectOrigin(req.RedirectURI)})
}

// answerConsent records the person's answer: "allow" remembers the consent
// with Service.GrantConsent, "deny" remembers nothing; either way the
// browser goes back to the provider, which answers the app.
func (h *Handler) answerConsent(w http.ResponseWriter, r *http.Request) {
	pr, _ := gatehouse.FromContext(r.Context())
	p := h.newPage(r, "consent.title")
	var id string
	var deny bool
	err := h.formAction(w, r, func() error {
		id, deny = r.PostForm.Get("id"), r.PostForm.Get("decision") == "deny"
		req, _, ok := h.requestOf(r.Context(), continueURL(id))
		switch {
		case !ok:
			return gatehouse.Errorf(gatehouse.CodeNotFound, "no such authorization request")
		case deny:
			return nil
		case r.PostForm.Get("decision") != "allow":
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "decision must be allow or deny")
		}
		return h.svc.GrantConsent(r.Context(), pr, req.AppID, req.Scopes, h.cfg.API.Client(r))
	})
	switch {
	case err == nil && deny:
		h.seeOther(w, continueURL(id)+"&deny=1")
	case err == nil:
		h.seeOther(w, continueURL(id))
	case gatehouse.ErrorCode(err) == gatehouse.CodeNotFound:
		h.consent(w, r, http.StatusNotFound, p, id)
	case id == "":
		// The form was not read (a cross-site POST, a malformed body).
		p.signedIn(pr)
		h.render(w, r, h.fail(w, r, p, err), "problem", p)
	default:
		h.consent(w, r, h.fail(w, r, p, err), p, id)
	}
}

// appRows lists the apps the user gave access to, for the account page.
func (h *Handler) appRows(r *http.Request, userID string) ([]appRow, error) {
	access, err := h.svc.AppsWithAccess(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	rows := make([]appRow, len(access))
	for i, a := range access {
		rows[i] = appRow{ID: a.App.ID, Name: a.App.Name, Scopes: scopeKeys(a.Scopes), Granted: shownTime(a.GrantedAt), GrantedISO: isoTime(a.GrantedAt)}
	}
	return rows, nil
}

// revokeApp removes an app's access with Service.RevokeConsent, which
// ends the app's logins of this user too.
func (h *Handler) revokeApp(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		id := r.PostForm.Get("app")
		if id == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "app is required")
		}
		return h.svc.RevokeConsent(r.Context(), pr, id, c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=app_revoked")
	}
}

// RequestRefused writes the page a browser gets when an OpenID Connect
// request is refused and cannot be sent back to the app (see
// oidc.Config.ErrorPage). reason, one of oidc's Refused names, is said
// in the page's words; another refusal ("") shows detail, the provider's
// words.
func (h *Handler) RequestRefused(w http.ResponseWriter, r *http.Request, status int, reason, detail string) {
	p := h.newPage(r, "oidc.refused_title")
	p.Error = p.L.T("oidc.refused") + " "
	if reason != "" {
		p.Error += p.L.T("oidc.refused." + reason)
	} else {
		p.Error += detail
	}
	h.render(w, r, status, "problem", p)
}

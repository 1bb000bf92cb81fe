package pages

import (
	"net/http"
	"net/url"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// signinForm renders the sign-in page with status.
func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request, status int, p *page) {
	if cur, err := h.principal(r); err == nil {
		p.signedIn(cur)
	}
	if p.Form.RD != "" {
		if u, err := url.Parse(p.Form.RD); err == nil && u.Host != "" {
			p.ReturnHost = u.Host
		}
	}
	h.render(w, r, status, "signin", p)
}

// checkedRD returns the request's rd if it may be honoured, else "".
func (h *Handler) checkedRD(rd string) string {
	to, _ := h.returns.Check(rd)
	return to
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signin.title")
	p.Form.RD = h.checkedRD(r.URL.Query().Get("rd"))
	p.notice(r, signinNotices)
	h.signinForm(w, r, http.StatusOK, p)
}

// signin checks the password with Service.Login, as POST /v1/login does,
// and finishes the sign-in (finishSignin). A user with a second factor
// gets its page instead, with the status of mfa_required (see signinMFA).
func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signin.title")
	if err := h.crossOrigin(r); err != nil {
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	if err := parseForm(w, r); err != nil {
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	email, pw := r.PostForm.Get("email"), r.PostForm.Get("password")
	p.Form = form{Email: email, Remember: r.PostForm.Get("remember") != "", RD: h.checkedRD(r.PostForm.Get("rd"))}
	if email == "" || pw == "" {
		err := gatehouse.Errorf(gatehouse.CodeInvalidRequest, "email and password are required")
		p.Invalid = invalidField(err, r.PostForm, signinFields, "email", "password")
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	client := h.cfg.API.Client(r)
	res, err := h.svc.Login(r.Context(), gatehouse.LoginRequest{
		Email: email, Password: pw, Mode: gatehouse.ModeSession, Remember: p.Form.Remember, Client: client,
	})
	if pending := mfaPending(err); pending != nil {
		p.Title, p.MFA = "mfa.title", pendingView(pending)
		h.renderMFA(w, r, httpapi.Status(gatehouse.CodeMFARequired), p)
		return
	}
	if err != nil {
		p.Invalid = invalidField(err, r.PostForm, signinFields, "email", "password")
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	h.finishSignin(w, r, res, client, p.Form.RD)
}

// finishSignin is the end of every sign-in the Service let through (with
// a password, or its second step): it sets the session cookie of res and
// sends the browser back (303) to rd when allowed, else to the account
// page. A login the browser already had is ended first: signing in as
// someone else leaves no orphan login behind.
func (h *Handler) finishSignin(w http.ResponseWriter, r *http.Request, res gatehouse.LoginResult, client gatehouse.Client, rd string) {
	if old, err := h.principal(r); err == nil && old.Login.ID != res.Login.ID {
		if err := h.svc.Logout(r.Context(), old, client); err != nil {
			h.log.Warn("ending the previous login at sign-in", "err", err)
		}
	}
	h.cookie.Set(w, res.Secret, res.Login, res.Login.CreatedAt)
	h.seeOther(w, h.returnTo(rd))
}

func (h *Handler) signupPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signup.title")
	p.Form.RD = h.checkedRD(r.URL.Query().Get("rd"))
	h.render(w, r, http.StatusOK, "signup", p)
}

// signup creates the account with Service.Register, as POST /v1/users
// does, then signs the person in with Service.Login.
func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signup.title")
	if err := h.crossOrigin(r); err != nil {
		h.render(w, r, h.fail(w, r, p, err), "signup", p)
		return
	}
	if err := parseForm(w, r); err != nil {
		h.render(w, r, h.fail(w, r, p, err), "signup", p)
		return
	}
	email, pw := r.PostForm.Get("email"), r.PostForm.Get("password")
	p.Form = form{Email: email, RD: h.checkedRD(r.PostForm.Get("rd"))}
	if email == "" || pw == "" {
		err := gatehouse.Errorf(gatehouse.CodeInvalidRequest, "email and password are required")
		p.Invalid = invalidField(err, r.PostForm, signupFields, "email", "password")
		h.render(w, r, h.fail(w, r, p, err), "signup", p)
		return
	}
	client := h.cfg.API.Client(r)
	if _, err := h.svc.Register(r.Context(), email, pw, client); err != nil {
		p.Invalid = invalidField(err, r.PostForm, signupFields, "email", "password")
		h.render(w, r, h.fail(w, r, p, err), "signup", p)
		return
	}
	res, err := h.svc.Login(r.Context(), gatehouse.LoginRequest{Email: email, Password: pw, Mode: gatehouse.ModeSession, Client: client})
	if err != nil {
		// The account exists; signing in is the next step, on its page.
		h.seeOther(w, signinPath+"?rd="+url.QueryEscape(p.Form.RD))
		return
	}
	h.cookie.Set(w, res.Secret, res.Login, res.Login.CreatedAt)
	h.seeOther(w, h.returnTo(p.Form.RD))
}

// signout ends the login with Service.Logout, clears the cookie and sends
// the browser to the sign-in page.
func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	if err := h.crossOrigin(r); err != nil {
		p := h.newPage(r, "error.title")
		h.render(w, r, h.fail(w, r, p, err), "problem", p)
		return
	}
	if p, err := h.principal(r); err == nil {
		if err := h.svc.Logout(r.Context(), p, h.cfg.API.Client(r)); err != nil {
			pg := h.newPage(r, "error.title")
			h.render(w, r, h.fail(w, r, pg, err), "problem", pg)
			return
		}
	}
	h.cookie.Clear(w)
	h.seeOther(w, signinPath)
}

// The fields that error codes are about, by form: see invalidField.
var (
	signinFields   = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "password"}
	signupFields   = map[gatehouse.Code]string{gatehouse.CodeInvalidEmail: "email", gatehouse.CodeEmailTaken: "email", gatehouse.CodeWeakPassword: "password"}
	passwordFields = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "current_password", gatehouse.CodeWeakPassword: "new_password"}
)

// invalidField is the name of the form field that err is about, or "":
// for invalid_request the first of required left empty, else the field
// byCode gives err's code. The page marks that field (aria-invalid,
// described by the message) and puts the focus on it (autofocus), which
// works without script.
func invalidField(err error, form url.Values, byCode map[gatehouse.Code]string, required ...string) string {
	code := gatehouse.ErrorCode(err)
	if code == gatehouse.CodeInvalidRequest {
		for _, f := range required {
			if form.Get(f) == "" {
				return f
			}
		}
		return ""
	}
	return byCode[code]
}

// notices are the messages a finished action may ask the account page to
// show (?notice=), and only these.
var notices = map[string]string{
	"password_changed":  "notice.password_changed",
	"signed_out_one":    "notice.signed_out_one",
	"signed_out_others": "notice.signed_out_others",
	"email_change_sent": "notice.email_change_sent",
	"verification_sent": "notice.verification_sent",
	"email_verified":    "notice.email_verified",
	"totp_removed":      "notice.totp_removed",
	"passkey_added":     "notice.passkey_added",
	"passkey_renamed":   "notice.passkey_renamed",
	"passkey_removed":   "notice.passkey_removed",
	"app_revoked":       "notice.app_revoked",
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "account.title")
	p.notice(r, notices)
	h.account(w, r, http.StatusOK, p)
}

// account renders the account page of the request's principal with
// status; an error reading what it shows replaces the page.
func (h *Handler) account(w http.ResponseWriter, r *http.Request, status int, p *page) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	if err := h.fillAccount(r, pr, p); err != nil {
		pg := h.newPage(r, "error.title")
		h.render(w, r, h.fail(w, r, pg, err), "problem", pg)
		return
	}
	h.render(w, r, status, "account", p)
}

// fillAccount reads what the account page shows: the logins, the second
// factors and passkeys (read once), and the apps with access.
func (h *Handler) fillAccount(r *http.Request, pr gatehouse.Principal, p *page) error {
	logins, err := h.svc.Sessions(r.Context(), pr)
	if err != nil {
		return err
	}
	p.Logins = make([]loginRow, len(logins))
	for i, l := range logins {
		p.Logins[i] = loginRow{
			ID: l.ID, Device: l.Device, IP: l.IP, LastSeenAt: l.LastSeenAt, CreatedAt: l.CreatedAt,
			Current: l.ID == pr.Login.ID, Token: l.Mode == gatehouse.ModeToken, App: l.Mode == gatehouse.ModeOIDC,
		}
	}
	p.OtherLogins = len(logins) > 1
	p.LoginsHTML = loginsHTML(p.L, p.Logins)
	if h.svc.MFAOn() || p.PasskeysOn {
		f, keys, err := h.svc.FactorsAndPasskeys(r.Context(), pr.User.ID)
		if err != nil {
			return err
		}
		if h.svc.MFAOn() {
			p.MFA = &mfaView{Factors: f}
		}
		if p.PasskeysOn {
			p.Passkeys = passkeyRows(keys)
		}
	}
	p.Apps, err = h.appRows(r, pr.User.ID)
	return err
}

// accountAction runs one POST of the account page (see formAction) for
// the principal; an error re-renders the account page with its message
// and status, and the field it is about (fields, required: see
// invalidField) marked.
func (h *Handler) accountAction(w http.ResponseWriter, r *http.Request, fields map[gatehouse.Code]string, required []string, do func(pr gatehouse.Principal, c gatehouse.Client) error) bool {
	pr, _ := gatehouse.FromContext(r.Context())
	if err := h.formAction(w, r, func() error { return do(pr, h.cfg.API.Client(r)) }); err != nil {
		p := h.newPage(r, "account.title")
		p.Invalid = invalidField(err, r.PostForm, fields, required...)
		h.account(w, r, h.fail(w, r, p, err), p)
		return false
	}
	return true
}

// changePassword changes the password with Service.ChangePassword, which
// ends every other login; this one stays.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, passwordFields, []string{"current_password", "new_password"}, func(pr gatehouse.Principal, c gatehouse.Client) error {
		cur, next := r.PostForm.Get("current_password"), r.PostForm.Get("new_password")
		if cur == "" || next == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "both passwords are required")
		}
		return h.svc.ChangePassword(r.Context(), pr, cur, next, c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=password_changed")
	}
}

// signoutOne ends one login with Service.RevokeSession; ending this one
// clears the cookie and goes to the sign-in page.
func (h *Handler) signoutOne(w http.ResponseWriter, r *http.Request) {
	var self bool
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		id := r.PostForm.Get("id")
		if id == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "id is required")
		}
		self = id == pr.Login.ID
		return h.svc.RevokeSession(r.Context(), pr, id, c)
	})
	switch {
	case ok && self:
		h.cookie.Clear(w)
		h.seeOther(w, signinPath)
	case ok:
		h.seeOther(w, accountPath+"?notice=signed_out_one")
	}
}

// signoutOthers ends every other login with Service.RevokeSessions.
func (h *Handler) signoutOthers(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		return h.svc.RevokeSessions(r.Context(), pr, true, c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=signed_out_others")
	}
}

// Forbidden writes the 403 page of forward authentication for a browser
// whose user lacks a permission (httpapi.Config.ForbiddenPage): who is
// signed in, what is missing, and a link to sign in as someone else that
// returns to the page asked for. It is served through the proxy, on the
// app's origin, so its links and stylesheet name the issuer.
func (h *Handler) Forbidden(w http.ResponseWriter, r *http.Request, pr gatehouse.Principal, permission string) {
	p := h.newPage(r, "forbidden.title")
	p.Base = h.issuer
	p.User = &pr.User
	p.Permission = permission
	p.SwitchURL = h.issuer + signinPath
	if orig := httpapi.OriginalURL(r); orig != "" {
		p.SwitchURL += "?rd=" + url.QueryEscape(orig)
	}
	h.renderWith(w, r, http.StatusForbidden, "forbidden", p, policy{elsewhere: true})
}

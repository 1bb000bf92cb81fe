package pages

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// The second factors' pages: the second step of a sign-in
// (/auth/signin/mfa), setting up an authenticator app from the account
// page, the recovery codes shown once, and the account page's card that
// changes them. Secrets and codes travel only in the bodies of POSTs and
// of their answers (Cache-Control: no-store), never in a URL, and are
// never logged.

// Paths of the second factors' forms.
const (
	signinMFAPath = "/auth/signin/mfa"
	totpPath      = "/auth/account/mfa/totp"
	codesPath     = "/auth/account/mfa/recovery-codes"
)

// mfaView is what the second factors' pages show.
type mfaView struct {
	// Token is the mfa_token of the sign-in's second step; Recovery says
	// the recovery code's form is the one in use (its error is shown and
	// it is open).
	Token    string
	Recovery bool
	// Options are a passkey's request options (data-options of the
	// "Use a passkey" form), when the user has one; NoTOTP says the user
	// has no authenticator app, so the code forms are not offered.
	Options string
	NoTOTP  bool
	// Spent says a passkey was refused: its challenge is spent, and the
	// page offers no other.
	Spent bool
	// StepUp says the forms raise the current login (/auth/step-up)
	// rather than finish a sign-in; Token is then the passkey ceremony's
	// challenge id.
	StepUp bool

	// Setting up an authenticator app: the QR code (a data:image/png URL
	// that package totp made), the secret in groups of four to type by
	// hand, and the otpauth:// URI, for an app on the same device. The
	// confirm form carries them back in hidden fields, so that a wrong
	// code shows them again (see setupView).
	QR, URI template.URL
	Secret  string
	Groups  []string

	// Codes are recovery codes, shown this once; Download is the same
	// list as a text file, a data: URL for <a download>.
	Codes    []string
	Download template.URL

	// Factors are the user's, on the account page and a user's admin page.
	Factors gatehouse.Factors
}

// mfaPending returns the second step that err asks for, or nil.
func mfaPending(err error) *gatehouse.MFAPending {
	var e *gatehouse.Error
	if errors.As(err, &e) && e.Code == gatehouse.CodeMFARequired && e.MFA != nil {
		return e.MFA
	}
	return nil
}

// renderMFA renders the second step; with a passkey's form, webauthn.js
// is allowed.
func (h *Handler) renderMFA(w http.ResponseWriter, r *http.Request, status int, p *page) {
	h.renderWith(w, r, status, "mfa", p, policy{script: p.MFA.Options != ""})
}

// pendingView is the second step's view of a sign-in's MFAPending.
func pendingView(pending *gatehouse.MFAPending) *mfaView {
	return &mfaView{Token: pending.Token, Options: string(pending.Passkey), NoTOTP: !slices.Contains(pending.Methods, "totp")}
}

// digitsOnly removes the spaces a person may type or paste inside a code
// ("123 456").
func digitsOnly(code string) string {
	return strings.Join(strings.Fields(code), "")
}

// signinMFAPage answers a GET of the second step, which only a sign-in's
// POST can show: it sends the browser to sign in.
func (h *Handler) signinMFAPage(w http.ResponseWriter, r *http.Request) {
	to := signinPath
	if rd := h.checkedRD(r.URL.Query().Get("rd")); rd != "" {
		to += "?rd=" + url.QueryEscape(rd)
	}
	h.seeOther(w, to)
}

// signinMFA finishes a sign-in with a code from the authenticator app, a
// recovery code or a passkey's credential (the "credential" field that
// webauthn.js fills), with Service.LoginMFA as POST /v1/login/mfa does, then
// as signin does (finishSignin). A wrong code shows the step again with
// the JSON API's status; a token that ended (expired, spent, or five
// wrong codes) goes back to the sign-in form, rd kept.
func (h *Handler) signinMFA(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "mfa.title")
	p.MFA = &mfaView{}
	client := h.cfg.API.Client(r)
	var res gatehouse.LoginResult
	err := h.formAction(w, r, func() error {
		f := r.PostForm
		p.MFA.Token, p.Form.RD = f.Get("mfa_token"), h.checkedRD(f.Get("rd"))
		p.MFA.NoTOTP = f.Get("no_totp") != ""
		code, recovery, cred := digitsOnly(f.Get("code")), f.Get("recovery_code"), f.Get("credential")
		p.MFA.Recovery = f.Has("recovery_code")
		switch {
		case p.MFA.Token == "":
			return gatehouse.Errorf(gatehouse.CodeInvalidToken, "the second step has no token")
		case cred == "" && code == "" && strings.TrimSpace(recovery) == "":
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "a code is required")
		}
		var err error
		res, err = h.svc.LoginMFA(r.Context(), gatehouse.MFARequest{Token: p.MFA.Token, Code: code, RecoveryCode: recovery, Credential: []byte(cred), Client: client})
		return err
	})
	if err == nil {
		h.finishSignin(w, r, res, client, p.Form.RD)
		return
	}
	status := h.fail(w, r, p, err)
	switch gatehouse.ErrorCode(err) {
	case gatehouse.CodeInvalidToken, gatehouse.CodeCrossOrigin, gatehouse.CodeAccountDisabled:
		// The step cannot go on: sign in again.
		sp := h.newPage(r, "signin.title")
		sp.Form.RD, sp.Error = p.Form.RD, p.Error
		if gatehouse.ErrorCode(err) == gatehouse.CodeInvalidToken {
			sp.Error = sp.L.T("mfa.expired")
		}
		h.signinForm(w, r, status, sp)
		return
	case gatehouse.CodeInvalidCode, gatehouse.CodeInvalidRequest:
		switch {
		case r.PostForm.Get("credential") != "":
			// The passkey's challenge is spent: a passkey needs a new
			// sign-in (the page's "Start again"), a code does not.
			p.Error, p.MFA.Spent = p.L.T("mfa.passkey_failed"), true
		case p.MFA.Recovery:
			p.Invalid = "recovery_code"
		default:
			p.Invalid = "code"
		}
	}
	h.renderMFA(w, r, status, p)
}

// enrollTOTP starts setting up an authenticator app with
// Service.EnrollTOTP, as POST /v1/mfa/totp does, and shows its QR code and
// secret with the form that confirms it.
func (h *Handler) enrollTOTP(w http.ResponseWriter, r *http.Request) {
	var secret, uri, qr string
	fields := map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "totp_password"}
	ok := h.accountAction(w, r, fields, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		key, err := h.svc.EnrollTOTP(r.Context(), pr, r.PostForm.Get("totp_password"), c)
		secret, uri, qr = key.Secret, key.URI, key.QR
		return err
	})
	if ok {
		h.totpSetup(w, r, http.StatusOK, h.newPage(r, "totp.title"), secret, uri, qr)
	}
}

// The forms that the setup page's hidden fields must have to be shown
// again: what EnrollTOTP makes, and nothing else.
var (
	totpSecretForm = regexp.MustCompile(`^[A-Z2-7]{16,128}$`)
	totpURIForm    = regexp.MustCompile(`^otpauth://totp/[A-Za-z0-9%._~:@!$&'()*+,;=/?-]+$`)
	totpQRForm     = regexp.MustCompile(`^data:image/png;base64,[A-Za-z0-9+/]+={0,2}$`)
)

// maxCarried bounds each value the setup page's hidden fields carry back:
// the QR code, under a kilobyte of PNG, is the largest.
const maxCarried = 8 << 10

// totpSetup renders the setup page: the QR code, the secret and the
// confirm form. After a wrong code they come back from the form's hidden
// fields, each shown only when it has the form EnrollTOTP gives it.
func (h *Handler) totpSetup(w http.ResponseWriter, r *http.Request, status int, p *page, secret, uri, qr string) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	v := &mfaView{}
	if totpSecretForm.MatchString(secret) {
		v.Secret = secret
		for s := secret; s != ""; {
			n := min(4, len(s))
			v.Groups, s = append(v.Groups, s[:n]), s[n:]
		}
	}
	if len(uri) <= maxCarried && totpURIForm.MatchString(uri) {
		v.URI = template.URL(uri)
	}
	if len(qr) <= maxCarried && totpQRForm.MatchString(qr) {
		v.QR = template.URL(qr)
	}
	p.MFA = v
	h.render(w, r, status, "totp_setup", p)
}

// confirmTOTP confirms the authenticator app with a code from it, with
// Service.ConfirmTOTP as POST /v1/mfa/totp/confirm does, and shows the
// recovery codes, once. A wrong code shows the setup page again with 400
// invalid_code, the status of that endpoint.
func (h *Handler) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	pr, _ := gatehouse.FromContext(r.Context())
	var codes []string
	err := h.formAction(w, r, func() error {
		code := digitsOnly(r.PostForm.Get("code"))
		if code == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the code is required")
		}
		var err error
		codes, err = h.svc.ConfirmTOTP(r.Context(), pr, code, h.cfg.API.Client(r))
		return err
	})
	if err != nil {
		p := h.newPage(r, "totp.title")
		h.fail(w, r, p, err)
		status := httpapi.ConfirmStatus(gatehouse.ErrorCode(err))
		if c := gatehouse.ErrorCode(err); c == gatehouse.CodeInvalidCode || c == gatehouse.CodeInvalidRequest {
			p.Invalid = "code"
		}
		f := r.PostForm
		h.totpSetup(w, r, status, p, f.Get("secret"), f.Get("uri"), f.Get("qr"))
		return
	}
	h.recoveryCodes(w, r, codes, "notice.totp_enabled")
}

// recoveryCodes shows new recovery codes, this once, with the notice
// (a catalogue key): as a list, and as a text file to download. The file
// is a data: URL, which the pages' Content-Security-Policy does not
// govern: a download is neither a fetch nor a navigation of the page.
func (h *Handler) recoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, notice string) {
	pr, _ := gatehouse.FromContext(r.Context())
	p := h.newPage(r, "codes.title")
	p.signedIn(pr)
	p.Notice = p.L.T(notice)
	text := p.L.F("codes.file_heading", h.cfg.BrandName, pr.User.Email) + "\n\n" +
		strings.Join(codes, "\n") + "\n\n" + p.L.T("codes.file_note") + "\n"
	p.MFA = &mfaView{Codes: codes, Download: template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))}
	h.render(w, r, http.StatusOK, "recovery_codes", p)
}

// The password fields of the account page's two-step card, by form.
var (
	codesFields  = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "codes_password"}
	removeFields = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "remove_password"}
)

// regenerateCodes replaces the recovery codes with
// Service.RegenerateRecoveryCodes, as POST /v1/mfa/recovery-codes does,
// and shows the new ones, once. The password may be left empty after a
// recent two-factor sign-in: the Service decides.
func (h *Handler) regenerateCodes(w http.ResponseWriter, r *http.Request) {
	var codes []string
	ok := h.accountAction(w, r, codesFields, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		var err error
		codes, err = h.svc.RegenerateRecoveryCodes(r.Context(), pr, r.PostForm.Get("codes_password"), c)
		return err
	})
	if ok {
		h.recoveryCodes(w, r, codes, "notice.codes_regenerated")
	}
}

// removeTOTP removes the authenticator app and the recovery codes with
// Service.RemoveTOTP, as DELETE /v1/mfa/totp does. The password may be
// left empty after a recent two-factor sign-in, as for regenerateCodes.
func (h *Handler) removeTOTP(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, removeFields, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		return h.svc.RemoveTOTP(r.Context(), pr, r.PostForm.Get("remove_password"), c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=totp_removed")
	}
}

// adminResetFactors removes the user's second factors with
// Service.ResetFactors, for the person who lost their phone, audited with
// the admin's id.
func (h *Handler) adminResetFactors(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "factors_reset", func(_ gatehouse.Principal, id string, c gatehouse.Client) error {
		return h.svc.ResetFactors(r.Context(), id, c)
	})
}

package pages

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
)

// The email pages: "forgot your password?" (/auth/recover), the links
// that messages carry (/auth/reset, /auth/verify-email), and the account
// page's address, verification and change of address. A link's GET (and
// HEAD) only shows a form: mail scanners that open every link must not
// spend it; the form's POST does.

const recoverPath = "/auth/recover"

// emailFields says which field of the recovery form an error is about.
var emailFields = map[gatehouse.Code]string{gatehouse.CodeInvalidEmail: "email"}

// linkFail is fail for a page that spends a link: the status of
// httpapi.LinkStatus, and for a link that does not work, words that say
// so (rather than "sign in again").
func (h *Handler) linkFail(w http.ResponseWriter, r *http.Request, p *page, err error) int {
	h.fail(w, r, p, err)
	code := gatehouse.ErrorCode(err)
	if code == gatehouse.CodeInvalidToken {
		p.Error, p.LinkDone = p.L.T("link.invalid"), true
	}
	if code == "" {
		return http.StatusInternalServerError
	}
	return httpapi.LinkStatus(code)
}

// signinNotices are the notices of the sign-in page, reached after an
// email flow.
var signinNotices = map[string]string{
	"password_reset": "notice.password_reset",
	"email_verified": "notice.email_verified",
}

func (h *Handler) recoverPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "recover.title")
	status := http.StatusOK
	if !p.EmailOn {
		status = h.fail(w, r, p, gatehouse.Errorf(gatehouse.CodeEmailDisabled, "email is off"))
	}
	h.render(w, r, status, "recover", p)
}

// recover asks for a recovery link with Service.RequestRecovery, as POST
// /v1/recovery does, and says the same whatever the address (202).
func (h *Handler) recover(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "recover.title")
	err := h.formAction(w, r, func() error {
		p.Form.Email = r.PostForm.Get("email")
		return h.svc.RequestRecovery(r.Context(), p.Form.Email, h.cfg.API.Client(r))
	})
	if err != nil {
		status := h.fail(w, r, p, err)
		p.Invalid = invalidField(err, r.PostForm, emailFields, "email")
		h.render(w, r, status, "recover", p)
		return
	}
	p.Notice, p.LinkDone = p.L.F("recover.sent", p.Form.Email), true
	h.render(w, r, http.StatusAccepted, "recover", p)
}

// resetPage shows the form of a recovery link, without spending it.
func (h *Handler) resetPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "reset.title")
	h.resetForm(w, r, p, r.URL.Query().Get("token"))
}

// resetForm renders the reset page for token: its form when the link
// works, else why not.
func (h *Handler) resetForm(w http.ResponseWriter, r *http.Request, p *page, token string) {
	status := http.StatusOK
	info, err := h.svc.CheckEmailToken(r.Context(), token, gatehouse.TokenRecovery)
	if err != nil {
		status = h.linkFail(w, r, p, err)
	}
	p.Token, p.LinkEmail = token, info.Email
	h.render(w, r, status, "reset", p)
}

// reset sets the new password with Service.ConfirmRecovery, as POST
// /v1/recovery/confirm does, and sends the browser to sign in with it.
// A weak password leaves the link working and the form shown again.
func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "reset.title")
	var token string
	err := h.formAction(w, r, func() error {
		token = r.PostForm.Get("token")
		pw := r.PostForm.Get("new_password")
		if pw == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the new password is required")
		}
		return h.svc.ConfirmRecovery(r.Context(), token, pw, h.cfg.API.Client(r))
	})
	if err == nil {
		h.seeOther(w, signinPath+"?notice=password_reset")
		return
	}
	status := h.linkFail(w, r, p, err)
	p.Invalid = invalidField(err, r.PostForm, passwordFields, "new_password")
	if !p.LinkDone {
		if info, err := h.svc.CheckEmailToken(r.Context(), token, gatehouse.TokenRecovery); err == nil {
			p.LinkEmail = info.Email
		}
	}
	p.Token = token
	h.render(w, r, status, "reset", p)
}

// verifyPage shows the confirm button of a verification or
// change-of-address link, without spending it.
func (h *Handler) verifyPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "verify.title")
	token := r.URL.Query().Get("token")
	status := http.StatusOK
	info, err := h.svc.CheckEmailToken(r.Context(), token, gatehouse.TokenVerify, gatehouse.TokenEmailChange)
	if err != nil {
		status = h.linkFail(w, r, p, err)
	}
	p.Token, p.LinkEmail = token, info.Email
	h.render(w, r, status, "verify_email", p)
}

// verify spends the link with Service.VerifyEmail, as POST
// /v1/email/verify does, and goes to the account page (or to sign in).
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "verify.title")
	var u gatehouse.User
	err := h.formAction(w, r, func() error {
		var err error
		u, err = h.svc.VerifyEmail(r.Context(), r.PostForm.Get("token"), h.cfg.API.Client(r))
		return err
	})
	if err != nil {
		status := h.linkFail(w, r, p, err)
		p.LinkDone = true
		h.render(w, r, status, "verify_email", p)
		return
	}
	to := signinPath + "?notice=email_verified"
	if pr, err := h.principal(r); err == nil && pr.User.ID == u.ID {
		to = accountPath + "?notice=email_verified"
	}
	h.seeOther(w, to)
}

// changeEmail starts a change of address with Service.ChangeEmail, as PUT
// /v1/me/email does.
func (h *Handler) changeEmail(w http.ResponseWriter, r *http.Request) {
	fields := map[gatehouse.Code]string{gatehouse.CodeInvalidEmail: "new_email", gatehouse.CodeEmailTaken: "new_email", gatehouse.CodeInvalidCredentials: "email_password"}
	ok := h.accountAction(w, r, fields, []string{"new_email", "email_password"}, func(pr gatehouse.Principal, c gatehouse.Client) error {
		to, pw := r.PostForm.Get("new_email"), r.PostForm.Get("email_password")
		if to == "" || pw == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the new address and the password are required")
		}
		return h.svc.ChangeEmail(r.Context(), pr, to, pw, c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=email_change_sent")
	}
}

// resendVerification sends a new verification link with
// Service.RequestVerification.
func (h *Handler) resendVerification(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		return h.svc.RequestVerification(r.Context(), pr, c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=verification_sent")
	}
}

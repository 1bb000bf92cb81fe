package pages

import (
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// stepUpPath is the page that raises the browser's login to aal2 with a
// second factor (Service.StepUp), where GET /v1/verify?redirect=true&aal=2
// sends a browser whose login is at aal1 (httpapi.Config.StepUpURL).
const stepUpPath = "/auth/step-up"

// stepUpPage shows the step-up forms; a login already at aal2 goes
// straight back to rd.
func (h *Handler) stepUpPage(w http.ResponseWriter, r *http.Request) {
	pr, _ := gatehouse.FromContext(r.Context())
	rd := h.checkedRD(r.URL.Query().Get("rd"))
	if pr.Login.AAL >= gatehouse.AAL2 {
		h.seeOther(w, h.returnTo(rd))
		return
	}
	p := h.newPage(r, "stepup.title")
	p.Form.RD = rd
	h.stepUpForm(w, r, http.StatusOK, p, false)
}

// stepUpForm renders the step-up forms for the user's factors: a code
// (with a recovery code) when they have an authenticator app, a passkey
// with a new ceremony (Service.BeginStepUp) when they have one. A user
// with neither is told to set one up, with not_enrolled's status.
func (h *Handler) stepUpForm(w http.ResponseWriter, r *http.Request, status int, p *page, recovery bool) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	f, err := h.svc.Factors(r.Context(), pr.User.ID)
	if err == nil && !f.TOTP && f.Passkeys == 0 {
		err = gatehouse.Errorf(gatehouse.CodeNotEnrolled, "no second factor")
	}
	if err != nil {
		status = h.fail(w, r, p, err)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotEnrolled {
			p.Error = p.L.T("stepup.none")
		}
		h.render(w, r, status, "problem", p)
		return
	}
	p.MFA = &mfaView{StepUp: true, NoTOTP: !f.TOTP, Recovery: recovery}
	if f.Passkeys > 0 && h.svc.PasskeysEnabled() {
		b, err := h.svc.BeginStepUp(r.Context(), pr, h.cfg.API.Client(r))
		if err != nil {
			// The code forms still work; without them, the page says
			// the passkey cannot be used now.
			h.log.Warn("beginning a passkey step-up", "err", err)
		} else {
			p.MFA.Token, p.MFA.Options = b.ChallengeID, string(b.Options)
		}
	}
	h.renderMFA(w, r, status, p)
}

// stepUp raises the login with a code, a recovery code or a passkey's
// credential, with Service.StepUp as POST /v1/login/step-up does: the
// browser gets the new login's cookie (the secret changes with the
// privilege) and goes back to rd. A wrong one shows the forms again, with
// the JSON API's status.
func (h *Handler) stepUp(w http.ResponseWriter, r *http.Request) {
	pr, _ := gatehouse.FromContext(r.Context())
	p := h.newPage(r, "stepup.title")
	client := h.cfg.API.Client(r)
	var res gatehouse.LoginResult
	err := h.formAction(w, r, func() error {
		f := r.PostForm
		p.Form.RD = h.checkedRD(f.Get("rd"))
		code, recovery, cred := digitsOnly(f.Get("code")), f.Get("recovery_code"), f.Get("credential")
		if cred == "" && code == "" && strings.TrimSpace(recovery) == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidRequest, "a code is required")
		}
		var err error
		res, err = h.svc.StepUp(r.Context(), pr, gatehouse.MFARequest{
			ChallengeID: f.Get("challenge_id"), Code: code, RecoveryCode: recovery, Credential: []byte(cred), Client: client,
		})
		return err
	})
	if err == nil {
		h.cookie.Set(w, res.Secret, res.Login, res.Login.CreatedAt)
		h.seeOther(w, h.returnTo(p.Form.RD))
		return
	}
	status := h.fail(w, r, p, err)
	recovery := r.PostForm.Has("recovery_code")
	switch c := gatehouse.ErrorCode(err); {
	case c != gatehouse.CodeInvalidCode && c != gatehouse.CodeInvalidRequest:
	case r.PostForm.Get("credential") != "":
		p.Error = p.L.T("stepup.passkey_failed")
	case recovery:
		p.Invalid = "recovery_code"
	default:
		p.Invalid = "code"
	}
	h.stepUpForm(w, r, status, p, recovery)
}

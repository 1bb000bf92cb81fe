package pages

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The passkeys' pages: the account page's card (list, rename, remove, add)
// and "Sign in with a passkey". Each ceremony is a page whose form carries
// the Service's options in a data attribute; webauthn.js, the pages' only
// script, asks the browser for the passkey and posts its credential in the
// form's hidden "credential" field. Only those pages (and the second step
// when it offers a passkey) allow the script: policy.

// Paths of the passkeys' forms and script.
const (
	passkeysPath      = "/auth/account/passkeys"
	signinPasskeyPath = "/auth/signin/passkey"
	scriptPath        = "/auth/static/webauthn.js"
)

var (
	jsType = []string{"text/javascript; charset=utf-8"}
	script = staticFile("static/webauthn.js")
)

func (h *Handler) serveScript(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, jsType, script)
}

// passkeyRow is one passkey of the account page's card.
type passkeyRow struct {
	ID, Name              string
	Created, CreatedISO   string
	LastUsed, LastUsedISO string // "" when never used
	Backed                bool   // synced (backed up) by its provider
}

// ceremony is a passkey ceremony's page: the form that webauthn.js runs.
type ceremony struct {
	Heading, Intro, Submit string // catalogue keys
	Action                 string // where the form posts
	Kind                   string // "create" or "get"
	Options                string // the options JSON, for data-options
	Hidden                 []hidden
	Cancel                 string // the cancel link
}

type hidden struct{ Name, Value string }

// passkeysOn wraps the passkeys' handlers: without passkeys they answer
// 403 passkeys_disabled, as the JSON API does.
func (h *Handler) passkeysOn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.svc.PasskeysEnabled() {
			p := h.newPage(r, "error.title")
			err := gatehouse.Errorf(gatehouse.CodePasskeysDisabled, "passkeys are not available on this server")
			h.render(w, r, h.fail(w, r, p, err), "problem", p)
			return
		}
		next(w, r)
	}
}

// renderCeremony shows a ceremony's page, the script allowed.
func (h *Handler) renderCeremony(w http.ResponseWriter, r *http.Request, status int, p *page, c *ceremony) {
	p.Ceremony = c
	h.renderWith(w, r, status, "passkey", p, policy{script: true})
}

// The password field of the passkeys' forms, by form.
var (
	addPasskeyFields    = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "passkey_password"}
	removePasskeyFields = map[gatehouse.Code]string{gatehouse.CodeInvalidCredentials: "passkey_remove_password"}
)

// beginPasskey starts adding a passkey with
// Service.BeginPasskeyRegistration, as POST /v1/passkeys/register/begin
// does, and shows the page that asks the browser for it.
func (h *Handler) beginPasskey(w http.ResponseWriter, r *http.Request) {
	var options []byte
	ok := h.accountAction(w, r, addPasskeyFields, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		if err := gatehouse.CheckText("name", r.PostForm.Get("name"), gatehouse.MaxPasskeyNameLength); err != nil {
			return err
		}
		var err error
		options, err = h.svc.BeginPasskeyRegistration(r.Context(), pr, r.PostForm.Get("passkey_password"), c)
		return err
	})
	if !ok {
		return
	}
	pr, _ := gatehouse.FromContext(r.Context())
	p := h.newPage(r, "passkey.add_title")
	p.signedIn(pr)
	h.renderCeremony(w, r, http.StatusOK, p, &ceremony{
		Heading: "passkey.add_heading", Intro: "passkey.add_intro", Submit: "passkey.add_submit",
		Action: passkeysPath + "/finish", Kind: "create", Options: string(options),
		Hidden: []hidden{{"name", r.PostForm.Get("name")}}, Cancel: accountPath,
	})
}

// finishPasskey stores the passkey with Service.FinishPasskeyRegistration
// and goes back to the account page; a credential that does not verify
// shows the account page with the error (400 invalid_credential).
func (h *Handler) finishPasskey(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		cred := r.PostForm.Get("credential")
		if cred == "" {
			return gatehouse.Errorf(gatehouse.CodeInvalidCredential, "no credential")
		}
		_, err := h.svc.FinishPasskeyRegistration(r.Context(), pr, r.PostForm.Get("name"), []byte(cred), c)
		return err
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=passkey_added")
	}
}

// renamePasskey names a passkey with Service.RenamePasskey.
func (h *Handler) renamePasskey(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, nil, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		_, err := h.svc.RenamePasskey(r.Context(), pr, r.PostForm.Get("id"), strings.TrimSpace(r.PostForm.Get("name")))
		return err
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=passkey_renamed")
	}
}

// removePasskey removes a passkey with Service.RemovePasskey; the
// password may be left empty after a recent two-factor sign-in.
func (h *Handler) removePasskey(w http.ResponseWriter, r *http.Request) {
	ok := h.accountAction(w, r, removePasskeyFields, nil, func(pr gatehouse.Principal, c gatehouse.Client) error {
		return h.svc.RemovePasskey(r.Context(), pr, r.PostForm.Get("id"), r.PostForm.Get("passkey_remove_password"), c)
	})
	if ok {
		h.seeOther(w, accountPath+"?notice=passkey_removed")
	}
}

// passkeyRows are the rows of a user's passkeys, for the account page and
// the user's admin page.
func passkeyRows(keys []gatehouse.Passkey) []passkeyRow {
	rows := make([]passkeyRow, len(keys))
	for i, k := range keys {
		rows[i] = passkeyRow{ID: k.ID, Name: k.Name, Created: shownTime(k.CreatedAt), CreatedISO: isoTime(k.CreatedAt), Backed: k.BackupState}
		if !k.LastUsedAt.IsZero() {
			rows[i].LastUsed, rows[i].LastUsedISO = shownTime(k.LastUsedAt), isoTime(k.LastUsedAt)
		}
	}
	return rows
}

// beginPasskeySignin starts a passwordless sign-in with
// Service.BeginPasskeyLogin and shows the page that asks the browser for
// a passkey; rd and remember go along.
func (h *Handler) beginPasskeySignin(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signin.title")
	var start gatehouse.PasskeyLogin
	err := h.formAction(w, r, func() error {
		p.Form.RD, p.Form.Remember = h.checkedRD(r.PostForm.Get("rd")), r.PostForm.Get("remember") != ""
		var err error
		start, err = h.svc.BeginPasskeyLogin(r.Context(), h.cfg.API.Client(r))
		return err
	})
	if err != nil {
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	p.Title = "passkey.signin_title"
	fields := []hidden{{"challenge_id", start.ChallengeID}, {"rd", p.Form.RD}}
	if p.Form.Remember {
		fields = append(fields, hidden{"remember", "1"})
	}
	cancel := signinPath
	if p.Form.RD != "" {
		cancel += "?rd=" + url.QueryEscape(p.Form.RD)
	}
	h.renderCeremony(w, r, http.StatusOK, p, &ceremony{
		Heading: "passkey.signin_heading", Intro: "passkey.signin_intro", Submit: "passkey.signin_submit",
		Action: signinPasskeyPath + "/finish", Kind: "get", Options: string(start.Options),
		Hidden: fields, Cancel: cancel,
	})
}

// finishPasskeySignin signs in with Service.FinishPasskeyLogin, then as
// signin does (finishSignin); a refused passkey shows the sign-in page
// with the error (401 invalid_credentials).
func (h *Handler) finishPasskeySignin(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "signin.title")
	client := h.cfg.API.Client(r)
	var res gatehouse.LoginResult
	err := h.formAction(w, r, func() error {
		f := r.PostForm
		p.Form.RD, p.Form.Remember = h.checkedRD(f.Get("rd")), f.Get("remember") != ""
		var err error
		res, err = h.svc.FinishPasskeyLogin(r.Context(), gatehouse.PasskeyLoginRequest{
			ChallengeID: f.Get("challenge_id"), Credential: []byte(f.Get("credential")),
			Mode: gatehouse.ModeSession, Remember: p.Form.Remember, Client: client,
		})
		return err
	})
	if err != nil {
		h.signinForm(w, r, h.fail(w, r, p, err), p)
		return
	}
	h.finishSignin(w, r, res, client, p.Form.RD)
}

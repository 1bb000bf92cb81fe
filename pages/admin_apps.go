package pages

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// The admin page of OpenID Connect clients (/auth/admin/apps), for
// clients:admin: the apps with their redirect URIs, a form that adds one
// (Service.AddApp, as POST /v1/admin/clients; a confidential app's secret
// is shown on the answer, this once, never again) and a button per app
// that removes it (Service.RemoveApp, ending its logins).

const appsAdminPath = adminPath + "apps"

// adminAppsView is the apps page's part of adminView.
type adminAppsView struct {
	Apps []adminAppRow
	// Form is the add form as typed, after a refusal.
	Name, RedirectURIs, PostLogoutURIs string
	Public, Trusted                    bool
	// Added is the app just added, with its secret, shown this once.
	Added *adminAppRow
}

// adminAppRow is one app of the apps page.
type adminAppRow struct {
	ID, Name                     string
	RedirectURIs, PostLogoutURIs []string
	Public, Trusted              bool
	Created, CreatedISO          string
	Secret                       string // only on the answer that added it
}

// appNotices are the messages the apps page may show (?notice=).
var appNotices = map[string]string{"removed": "notice.app_removed"}

func (h *Handler) adminAppsPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "admin.apps_title")
	p.notice(r, appNotices)
	h.adminApps(w, r, http.StatusOK, p, &adminAppsView{})
}

// adminApps renders the apps page with status and v (what the add form
// holds, the app just added).
func (h *Handler) adminApps(w http.ResponseWriter, r *http.Request, status int, p *page, v *adminAppsView) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	apps, err := h.svc.Apps(r.Context())
	if err != nil {
		status = h.fail(w, r, p, err)
	}
	for _, a := range apps {
		v.Apps = append(v.Apps, toAdminAppRow(a))
	}
	p.Admin = &adminView{Apps: v}
	h.render(w, r, status, "admin_apps", p)
}

func toAdminAppRow(a gatehouse.App) adminAppRow {
	return adminAppRow{
		ID: a.ID, Name: a.Name, RedirectURIs: a.RedirectURIs, PostLogoutURIs: a.PostLogoutURIs,
		Public: a.Public, Trusted: a.Trusted, Created: shownTime(a.CreatedAt), CreatedISO: isoTime(a.CreatedAt),
	}
}

// lines splits a textarea into its lines that are not blank.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// adminAddApp adds an app with Service.AddApp; the answer shows its id
// and, for a confidential app, its secret, once (Cache-Control: no-store,
// as every page). A refusal shows the form again as typed.
func (h *Handler) adminAddApp(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "admin.apps_title")
	v := &adminAppsView{}
	var added gatehouse.App
	var secret string
	err := h.formAction(w, r, func() error {
		f := r.PostForm
		v.Name, v.RedirectURIs, v.PostLogoutURIs = f.Get("name"), f.Get("redirect_uris"), f.Get("post_logout_uris")
		v.Public, v.Trusted = f.Get("public") != "", f.Get("trusted") != ""
		var err error
		added, secret, err = h.svc.AddApp(r.Context(), gatehouse.AppSpec{
			Name: v.Name, RedirectURIs: lines(v.RedirectURIs), PostLogoutURIs: lines(v.PostLogoutURIs), Public: v.Public, Trusted: v.Trusted,
		}, h.cfg.API.Actor(r))
		return err
	})
	if err != nil {
		status := h.fail(w, r, p, err)
		var e *gatehouse.Error
		if errors.As(err, &e) && e.Code == gatehouse.CodeInvalidRequest {
			// The Service's words say which field and URI, and why.
			p.Invalid, p.Error = "app", p.L.F("admin.app_refused", e.Detail)
		}
		h.adminApps(w, r, status, p, v)
		return
	}
	row := toAdminAppRow(added)
	row.Secret = secret
	p.Notice = p.L.T("notice.app_added")
	h.adminApps(w, r, http.StatusOK, p, &adminAppsView{Added: &row})
}

// adminRemoveApp removes the app {id} with Service.RemoveApp, which ends
// every login of it.
func (h *Handler) adminRemoveApp(w http.ResponseWriter, r *http.Request) {
	if err := h.formAction(w, r, func() error { return h.svc.RemoveApp(r.Context(), r.PathValue("id"), h.cfg.API.Actor(r)) }); err != nil {
		p := h.newPage(r, "admin.apps_title")
		h.adminApps(w, r, h.fail(w, r, p, err), p, &adminAppsView{})
		return
	}
	h.seeOther(w, appsAdminPath+"?notice=removed")
}

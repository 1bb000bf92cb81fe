package pages

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse"
)

// adminPageSize is how many users or audit events a page lists;
// recentEvents how many of a user's events their page shows.
const (
	adminPageSize = 50
	recentEvents  = 20
)

// adminView is what the admin pages show besides the page itself.
type adminView struct {
	// Apps is the apps page's.
	Apps *adminAppsView
	// The users page: the prefix searched and the users found.
	Email string
	Users []userRow
	// Next is the link to the next page of users or events, or "".
	Next string

	// A user's page: the user, the roles to choose from, their logins
	// and recent audit events, and the link to all their events.
	Target   userRow
	Roles    []roleBox
	Logins   []adminLoginRow
	Events   []eventRow
	AuditURL string
	// Factors are the user's second factors, and Passkeys their passkeys.
	Factors  gatehouse.Factors
	Passkeys []passkeyRow

	// The audit page: its filters as typed, and the types to choose from.
	User, Type string
	Types      []string
}

// userRow is one user as the admin pages show them.
type userRow struct {
	ID, Email, Roles    string
	Disabled            bool
	Created, CreatedISO string
}

// roleBox is one role's checkbox on a user's page.
type roleBox struct {
	Name    string
	Checked bool
}

// adminLoginRow is one login on a user's admin page.
type adminLoginRow struct {
	Device, IP, LastSeen, LastSeenISO string
	Token                             bool
	App                               bool // an app's sign-in (OpenID Connect); Device is the app
}

// eventRow is one audit event as the admin pages show it.
type eventRow struct {
	At, AtISO, Type, UserID, IP, Detail string
}

func toUserRow(u gatehouse.User) userRow {
	return userRow{
		ID: u.ID, Email: u.Email, Roles: strings.Join(u.Roles, ", "), Disabled: u.Disabled,
		Created: shownTime(u.CreatedAt), CreatedISO: isoTime(u.CreatedAt),
	}
}

func toEventRows(events []gatehouse.AuditEvent) []eventRow {
	rows := make([]eventRow, len(events))
	for i, e := range events {
		rows[i] = eventRow{At: shownTime(e.At), AtISO: isoTime(e.At), Type: e.Type, UserID: e.UserID, IP: e.IP, Detail: e.Detail}
	}
	return rows
}

// userPath is the admin page of one user.
func userPath(id string) string { return adminPath + "users/" + url.PathEscape(id) }

// pageLink returns path with the query of the next page, leaving out
// empty values.
func pageLink(path string, pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return path + "?" + q.Encode()
}

// adminUsers lists users, those whose email starts with ?email= when it
// is given, a page at a time (?after=), with Service.ListUsers as GET
// /v1/admin/users does. Refused input re-renders the search with its
// message and the JSON API's status.
func (h *Handler) adminUsers(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "admin.users_title")
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	q := r.URL.Query()
	v := &adminView{Email: q.Get("email")}
	p.Admin = v
	status := http.StatusOK
	users, next, err := h.svc.ListUsers(r.Context(), gatehouse.UserQuery{EmailPrefix: v.Email, After: q.Get("after"), Limit: adminPageSize})
	if err != nil {
		status = h.fail(w, r, p, err)
	}
	for _, u := range users {
		v.Users = append(v.Users, toUserRow(u))
	}
	if next != "" {
		v.Next = pageLink(adminPath, "email", v.Email, "after", next)
	}
	h.render(w, r, status, "admin_users", p)
}

// adminNotices are the messages a finished action may ask a user's admin
// page to show (?notice=), and only these.
var adminNotices = map[string]string{
	"disabled":      "notice.user_disabled",
	"enabled":       "notice.user_enabled",
	"roles_set":     "notice.roles_set",
	"signed_out":    "notice.user_signed_out",
	"reset_sent":    "notice.reset_sent",
	"factors_reset": "notice.factors_reset",
}

func (h *Handler) adminUserPage(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "admin.user_title")
	p.notice(r, adminNotices)
	h.adminUser(w, r, http.StatusOK, p)
}

// adminUser renders the admin page of the user {id} with status: the
// user, the roles in force (Service.Roles) to choose from, the user's
// live logins, second factors and recent audit events. An error reading
// them replaces the page, with the JSON API's status (404 for no such
// user).
func (h *Handler) adminUser(w http.ResponseWriter, r *http.Request, status int, p *page) {
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	ctx, id := r.Context(), r.PathValue("id")
	u, err := h.svc.User(ctx, id)
	var logins []gatehouse.Login
	var events []gatehouse.AuditEvent
	if err == nil {
		logins, err = h.svc.UserSessions(ctx, id)
	}
	if err == nil {
		events, _, err = h.svc.Audit(ctx, gatehouse.AuditQuery{UserID: id, Limit: recentEvents})
	}
	var factors gatehouse.Factors
	var keys []gatehouse.Passkey
	if err == nil {
		factors, keys, err = h.svc.FactorsAndPasskeys(ctx, id)
	}
	if err != nil {
		pg := h.newPage(r, "error.title")
		pg.signedIn(pr)
		status := h.fail(w, r, pg, err)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			pg.Error = pg.L.T("admin.no_such_user")
		}
		h.render(w, r, status, "problem", pg)
		return
	}
	v := &adminView{Target: toUserRow(u), Events: toEventRows(events), Factors: factors, Passkeys: passkeyRows(keys)}
	for _, name := range slices.Sorted(maps.Keys(h.svc.Roles())) {
		v.Roles = append(v.Roles, roleBox{Name: name, Checked: slices.Contains(u.Roles, name)})
	}
	for _, l := range logins {
		row := adminLoginRow{
			Device: l.Device, IP: l.IP, LastSeen: shownTime(l.LastSeenAt), LastSeenISO: isoTime(l.LastSeenAt),
			Token: l.Mode == gatehouse.ModeToken, App: l.Mode == gatehouse.ModeOIDC,
		}
		if row.Device == "" {
			row.Device = p.L.T("account.device_unknown")
		}
		v.Logins = append(v.Logins, row)
	}
	if p.CanAudit {
		v.AuditURL = pageLink(auditPath, "user", u.ID)
	}
	p.Admin = v
	h.render(w, r, status, "admin_user", p)
}

// adminAction runs one POST of a user's admin page (see formAction) for
// the admin, with the client that names them in the audit log, as the
// JSON API's admin endpoints do (httpapi.Config.Actor). It then answers
// 303 to the user's page with the notice; an error re-renders that page
// with its message and status.
func (h *Handler) adminAction(w http.ResponseWriter, r *http.Request, notice string, do func(pr gatehouse.Principal, id string, c gatehouse.Client) error) {
	pr, _ := gatehouse.FromContext(r.Context())
	id := r.PathValue("id")
	if err := h.formAction(w, r, func() error { return do(pr, id, h.cfg.API.Actor(r)) }); err != nil {
		p := h.newPage(r, "admin.user_title")
		h.adminUser(w, r, h.fail(w, r, p, err), p)
		return
	}
	h.seeOther(w, userPath(id)+"?notice="+notice)
}

// adminDisable disables the user with Service.SetDisabled, which ends
// every login of theirs.
func (h *Handler) adminDisable(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "disabled", func(_ gatehouse.Principal, id string, c gatehouse.Client) error {
		_, err := h.svc.SetDisabled(r.Context(), id, true, c)
		return err
	})
}

// adminEnable enables the user with Service.SetDisabled.
func (h *Handler) adminEnable(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "enabled", func(_ gatehouse.Principal, id string, c gatehouse.Client) error {
		_, err := h.svc.SetDisabled(r.Context(), id, false, c)
		return err
	})
}

// adminSetRoles sets the user's roles to the checked ones (none when none
// is) with Service.SetRolesAs, which refuses with 403 a change that would
// give a permission the admin does not hold.
func (h *Handler) adminSetRoles(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "roles_set", func(pr gatehouse.Principal, id string, c gatehouse.Client) error {
		_, err := h.svc.SetRolesAs(r.Context(), pr, id, r.PostForm["roles"], c)
		return err
	})
}

// adminSignout ends every login of the user with Service.RevokeUserSessions.
func (h *Handler) adminSignout(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "signed_out", func(_ gatehouse.Principal, id string, c gatehouse.Client) error {
		_, err := h.svc.RevokeUserSessions(r.Context(), id, c)
		return err
	})
}

// adminRecovery sends the user a recovery link with Service.SendRecovery.
func (h *Handler) adminRecovery(w http.ResponseWriter, r *http.Request) {
	h.adminAction(w, r, "reset_sent", func(_ gatehouse.Principal, id string, c gatehouse.Client) error {
		return h.svc.SendRecovery(r.Context(), id, c)
	})
}

// adminAudit lists the audit log, newest first, a page at a time
// (?before=), of one user when ?user= is given (an id, or an email,
// looked up first: an email no account has matches nothing) and of one
// type when ?type= is, with Service.Audit as GET /v1/admin/audit does.
// Refused input re-renders the filters with its message and the JSON
// API's status.
func (h *Handler) adminAudit(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "admin.audit_title")
	pr, _ := gatehouse.FromContext(r.Context())
	p.signedIn(pr)
	q := r.URL.Query()
	v := &adminView{User: q.Get("user"), Type: q.Get("type"), Types: gatehouse.EventTypes()}
	p.Admin = v
	events, next, err := h.audit(r, strings.TrimSpace(v.User), v.Type, q.Get("before"))
	status := http.StatusOK
	if err != nil {
		status = h.fail(w, r, p, err)
	}
	v.Events = toEventRows(events)
	if next != 0 {
		v.Next = pageLink(auditPath, "user", v.User, "type", v.Type, "before", strconv.FormatInt(next, 10))
	}
	h.render(w, r, status, "admin_audit", p)
}

// audit reads a page of the audit log for adminAudit.
func (h *Handler) audit(r *http.Request, user, typ, cursor string) ([]gatehouse.AuditEvent, int64, error) {
	before, err := gatehouse.ParseAuditCursor(cursor)
	if err != nil {
		return nil, 0, err
	}
	if strings.Contains(user, "@") {
		u, err := h.svc.UserByEmail(r.Context(), user)
		if gatehouse.ErrorCode(err) == gatehouse.CodeNotFound {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		user = u.ID
	}
	return h.svc.Audit(r.Context(), gatehouse.AuditQuery{UserID: user, Type: typ, Before: before, Limit: adminPageSize})
}

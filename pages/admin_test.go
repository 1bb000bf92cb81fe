package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

// The roles of the admin tests: the built-in ones, and an admin of users
// who holds nothing else, and an auditor.
func adminRoles() gatehouse.Roles {
	r := gatehouse.BuiltinRoles()
	r["useradmin"] = []string{gatehouse.PermUsersAdmin}
	r["auditor"] = []string{gatehouse.PermAuditRead}
	return r
}

// newAdminEnv has root (role admin) signed in, and bob, a customer,
// signed in on a browser of his own.
func newAdminEnv(t *testing.T) (e *env, root, bob *http.Client) {
	t.Helper()
	e = newEnv(t, options{svc: gatehouse.Config{Roles: adminRoles()}})
	e.create("root@example.com", gatehouse.RoleAdmin)
	e.register("bob@example.com")
	root, bob = e.client(), e.client()
	wantRedirect(t, e.signIn(root, "root@example.com", pw), "/auth/account")
	wantRedirect(t, e.signIn(bob, "bob@example.com", pw), "/auth/account")
	return e, root, bob
}

// create makes an account with the given roles.
func (e *env) create(email string, roles ...string) gatehouse.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), email, pw, roles, gatehouse.Client{IP: "cli"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) user(email string) gatehouse.User {
	e.t.Helper()
	u, err := e.svc.UserByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// events returns the types and details of a user's audit events, newest
// first.
func (e *env) events(userID string) []gatehouse.AuditEvent {
	e.t.Helper()
	events, _, err := e.svc.Audit(context.Background(), gatehouse.AuditQuery{UserID: userID, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

var userLink = regexp.MustCompile(`<td><a href="/auth/admin/users/[^"]+">([^<]+)</a></td>`)

// listed returns the emails a users page lists, in order.
func listed(r response) []string {
	var emails []string
	for _, m := range userLink.FindAllStringSubmatch(r.body, -1) {
		emails = append(emails, m[1])
	}
	return emails
}

// nextLink returns the page's "next page" link, unescaped, or "".
func nextLink(t *testing.T, r response) string {
	t.Helper()
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func TestAdminFindUsers(t *testing.T) {
	e, root, _ := newAdminEnv(t)
	for i := range 53 {
		e.register(fmt.Sprintf("user%02d@example.com", i))
	}
	e.register("ada@example.com")
	e.register("adam@example.org")
	e.register("xada@example.com")

	r := e.get(root, "/auth/admin/?email=ADA")
	want(t, r, 200)
	if got := listed(r); !slices.Equal(got, []string{"ada@example.com", "adam@example.org"}) {
		t.Errorf("users starting with ADA = %q", got)
	}
	has(t, r, `value="ADA"`, `<a href="/auth/admin/" aria-current="page">Users</a>`, `<a href="/auth/admin/audit">Audit log</a>`)
	checkLabels(t, r)
	if strings.Contains(r.body, "<script") || strings.Contains(r.body, "style=") || r.header.Get("Cache-Control") != "no-store" {
		t.Error("the page has inline script or style, or may be stored")
	}
	if nextLink(t, r) != "" {
		t.Error("a page of two has a next link")
	}

	// Pages of 50, the search kept from page to page.
	r = e.get(root, "/auth/admin/?email=user")
	first := listed(r)
	next := nextLink(t, r)
	if len(first) != 50 || first[0] != "user00@example.com" || next == "" {
		t.Fatalf("first page: %d users from %q, next %q", len(first), first, next)
	}
	r = e.get(root, next)
	want(t, r, 200)
	if got := listed(r); !slices.Equal(got, []string{"user50@example.com", "user51@example.com", "user52@example.com"}) || nextLink(t, r) != "" {
		t.Errorf("second page %q, next %q", got, nextLink(t, r))
	}
	has(t, r, `value="user"`)

	// An empty search lists everyone, in creation order.
	if got := listed(e.get(root, "/auth/admin/?email=")); len(got) != 50 || got[0] != "root@example.com" || got[1] != "bob@example.com" {
		t.Errorf("everyone = %q", got)
	}
	if got := listed(e.get(root, "/auth/admin/?email=nobody")); len(got) != 0 {
		t.Errorf("nobody = %q", got)
	}
	has(t, e.get(root, "/auth/admin/?email=nobody"), "No account matches.")

	// Refused input is shown, escaped, with the JSON API's status.
	r = e.get(root, "/auth/admin/?email="+url.QueryEscape("\"><b>x\x1b"))
	want(t, r, http.StatusBadRequest)
	has(t, r, "&#34;&gt;&lt;b&gt;x")
	if strings.Contains(r.body, `"><b>x`) {
		t.Error("the search is not escaped")
	}
	want(t, e.get(root, "/auth/admin/?email="+strings.Repeat("a", 300)), http.StatusBadRequest)
}

func TestAdminPagesRefuseOthers(t *testing.T) {
	e, _, bob := newAdminEnv(t)
	ada := e.create("ada@example.com", gatehouse.RoleCustomer)
	adaBrowser := e.client()
	e.signIn(adaBrowser, "ada@example.com", pw)
	auditor := e.client()
	e.create("audit@example.com", "auditor")
	e.signIn(auditor, "audit@example.com", pw)
	user := "/auth/admin/users/" + ada.ID

	for _, path := range []string{"/auth/admin/", "/auth/admin/?email=a", user, "/auth/admin/audit", "/auth/admin/audit?type=logout"} {
		r := e.get(bob, path)
		want(t, r, http.StatusForbidden)
		has(t, r, "This page needs the permission", "bob@example.com")
	}
	for _, action := range []string{"disable", "enable", "signout"} {
		want(t, e.post(bob, user+"/"+action, url.Values{}), http.StatusForbidden)
	}
	want(t, e.post(bob, user+"/roles", url.Values{"roles": {"admin"}}), http.StatusForbidden)
	has(t, e.get(bob, "/auth/account"), "Your account")
	if r := e.get(bob, "/auth/account"); strings.Contains(r.body, "/auth/admin/") {
		t.Error("a customer's nav links to the admin pages")
	}

	// The auditor reads the audit log, and nothing else of the admin pages.
	r := e.get(auditor, "/auth/admin/audit")
	want(t, r, 200)
	has(t, r, `<a href="/auth/admin/audit" aria-current="page">Audit log</a>`)
	if strings.Contains(r.body, `href="/auth/admin/"`) || strings.Contains(r.body, `href="/auth/admin/users/`) {
		t.Error("the auditor's page links to the users pages")
	}
	has(t, e.get(auditor, user), "users:admin")
	want(t, e.get(auditor, user), http.StatusForbidden)
	want(t, e.post(auditor, user+"/disable", url.Values{}), http.StatusForbidden)

	// Nothing changed: ada is signed in, enabled, a customer.
	want(t, e.get(adaBrowser, "/v1/me"), 200)
	if u := e.user("ada@example.com"); u.Disabled || !slices.Equal(u.Roles, []string{"customer"}) {
		t.Errorf("ada is now %+v", u)
	}
	for _, ev := range e.events(ada.ID) {
		if ev.Type != gatehouse.EventUserCreated && ev.Type != gatehouse.EventLoginSucceeded {
			t.Errorf("a refused action was recorded: %+v", ev)
		}
	}
}

func TestAdminPagesNeedALogin(t *testing.T) {
	e, _, _ := newAdminEnv(t)
	c := e.client()
	bob := e.user("bob@example.com").ID
	wantRedirect(t, e.get(c, "/auth/admin/"), "/auth/signin?rd=%2Fauth%2Fadmin%2F")
	wantRedirect(t, e.get(c, "/auth/admin/audit?type=logout"), "/auth/signin?rd=%2Fauth%2Fadmin%2Faudit%3Ftype%3Dlogout")
	wantRedirect(t, e.get(c, "/auth/admin/users/"+bob), "/auth/signin?rd="+url.QueryEscape("/auth/admin/users/"+bob))
	wantRedirect(t, e.post(c, "/auth/admin/users/"+bob+"/disable", url.Values{}), "/auth/signin")
	if e.user("bob@example.com").Disabled {
		t.Error("bob was disabled without a login")
	}
	has(t, e.get(c, "/auth/signin?rd=%2Fauth%2Fadmin%2F"), `name="rd" value="/auth/admin/"`)
}

func TestAdminDisableAndEnable(t *testing.T) {
	e, root, bob := newAdminEnv(t)
	id := e.user("bob@example.com").ID
	page := "/auth/admin/users/" + id

	r := e.get(root, page)
	want(t, r, 200)
	has(t, r, "bob@example.com", "Active", "Disable account", `action="`+page+`/disable"`, "customer", "Browser (session)", "127.0.0.1")
	checkLabels(t, r)

	wantRedirect(t, e.post(root, page+"/disable", url.Values{}), page+"?notice=disabled")
	want(t, e.get(bob, "/v1/me"), http.StatusUnauthorized)
	if logins, _ := e.svc.UserSessions(context.Background(), id); len(logins) != 0 {
		t.Errorf("bob still has %d logins", len(logins))
	}
	rootID := e.user("root@example.com").ID
	if ev := e.events(id)[0]; ev.Type != gatehouse.EventUserDisabled || !strings.Contains(ev.Detail, "by="+rootID) {
		t.Errorf("the last event of bob = %+v, want user.disabled by=%s", ev, rootID)
	}
	r = e.get(root, page+"?notice=disabled")
	has(t, r, "The account was disabled", "Disabled", "Enable account", "This user is signed in nowhere.", "user.disabled", "by="+rootID)
	want(t, e.signIn(e.client(), "bob@example.com", pw), http.StatusForbidden)

	wantRedirect(t, e.post(root, page+"/enable", url.Values{}), page+"?notice=enabled")
	has(t, e.get(root, page+"?notice=enabled"), "The account was enabled.", "Disable account")
	if ev := e.events(id)[0]; ev.Type != gatehouse.EventUserEnabled || !strings.Contains(ev.Detail, "by="+rootID) {
		t.Errorf("the last event of bob = %+v, want user.enabled by=%s", ev, rootID)
	}
	wantRedirect(t, e.signIn(e.client(), "bob@example.com", pw), "/auth/account")

	r = e.post(root, "/auth/admin/users/nobody/disable", url.Values{})
	want(t, r, http.StatusNotFound)
	has(t, r, "There is no such user.")
	want(t, e.get(root, "/auth/admin/users/nobody"), http.StatusNotFound)
	want(t, e.get(root, "/auth/admin/users/%00"), http.StatusNotFound)
}

func TestAdminSetRoles(t *testing.T) {
	e, _, bob := newAdminEnv(t)
	e.create("users@example.com", "useradmin")
	admin := e.client() // an admin of users, and of nothing else
	wantRedirect(t, e.signIn(admin, "users@example.com", pw), "/auth/account")
	id := e.user("bob@example.com").ID
	page := "/auth/admin/users/" + id

	r := e.get(admin, page)
	want(t, r, 200)
	for _, role := range []string{"admin", "auditor", "customer", "service", "useradmin"} {
		has(t, r, `<label for="role-`+role+`">`+role+`</label>`)
	}
	has(t, r, `value="customer" checked`)
	if strings.Contains(r.body, `/auth/admin/audit`) {
		t.Error("an admin of users without audit:read is offered the audit log")
	}

	roles := func() []string { return e.user("bob@example.com").Roles }
	// Roles that give what the admin does not hold are refused, and the
	// page says so with the JSON API's status.
	for _, set := range [][]string{{"customer", "admin"}, {"customer", "service"}} {
		r := e.post(admin, page+"/roles", url.Values{"roles": set})
		want(t, r, http.StatusForbidden)
		has(t, r, "You are not allowed to do that.", "bob@example.com")
		if got := roles(); !slices.Equal(got, []string{"customer"}) {
			t.Fatalf("after a refused change, roles = %v", got)
		}
	}
	want(t, e.post(admin, page+"/roles", url.Values{"roles": {"wizard"}}), http.StatusBadRequest)

	adminID := e.user("users@example.com").ID
	wantRedirect(t, e.post(admin, page+"/roles", url.Values{"roles": {"customer", "useradmin"}}), page+"?notice=roles_set")
	if got := roles(); !slices.Equal(got, []string{"customer", "useradmin"}) {
		t.Errorf("roles = %v, want [customer useradmin]", got)
	}
	if ev := e.events(id)[0]; ev.Type != gatehouse.EventUserRolesChanged || !strings.Contains(ev.Detail, "by="+adminID) {
		t.Errorf("the last event of bob = %+v, want user.roles_changed by=%s", ev, adminID)
	}
	has(t, e.get(admin, page+"?notice=roles_set"), "The roles were saved.", `value="useradmin" checked`)
	// Bob's session sees his new permission at once.
	if r := e.get(bob, "/auth/admin/"); r.status != 200 {
		t.Errorf("bob, now an admin of users: %d", r.status)
	}
	// No box checked: no roles.
	wantRedirect(t, e.post(admin, page+"/roles", url.Values{}), page+"?notice=roles_set")
	if got := roles(); len(got) != 0 {
		t.Errorf("roles = %v, want none", got)
	}
}

func TestAdminSignOutEverywhere(t *testing.T) {
	e, root, bob := newAdminEnv(t)
	phone := e.client()
	e.signIn(phone, "bob@example.com", pw)
	id := e.user("bob@example.com").ID
	page := "/auth/admin/users/" + id
	has(t, e.get(root, page), "Sign out everywhere")

	wantRedirect(t, e.post(root, page+"/signout", url.Values{}), page+"?notice=signed_out")
	want(t, e.get(bob, "/v1/me"), http.StatusUnauthorized)
	want(t, e.get(phone, "/v1/me"), http.StatusUnauthorized)
	want(t, e.get(root, "/v1/me"), 200)
	rootID := e.user("root@example.com").ID
	if ev := e.events(id)[0]; ev.Type != gatehouse.EventSessionRevoked || ev.Detail != "all by="+rootID {
		t.Errorf("the last event of bob = %+v, want session.revoked all by=%s", ev, rootID)
	}
	has(t, e.get(root, page+"?notice=signed_out"), "The user was signed out everywhere.", "This user is signed in nowhere.")
	if e.user("bob@example.com").Disabled {
		t.Error("signing out disabled the account")
	}
}

func TestAdminCrossSitePostsChangeNothing(t *testing.T) {
	e, root, bob := newAdminEnv(t)
	id := e.user("bob@example.com").ID
	page := "/auth/admin/users/" + id
	for _, tt := range []struct {
		action string
		form   url.Values
	}{
		{"disable", url.Values{}},
		{"signout", url.Values{}},
		{"roles", url.Values{"roles": {"admin"}}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			r := e.post(root, page+"/"+tt.action, tt.form, "Sec-Fetch-Site", "cross-site")
			want(t, r, http.StatusForbidden)
			has(t, r, "sent from another site", "bob@example.com")
			r = e.post(root, page+"/"+tt.action, tt.form, "Sec-Fetch-Site", "", "Origin", "https://evil.example")
			want(t, r, http.StatusForbidden)
		})
	}
	want(t, e.get(bob, "/v1/me"), 200)
	if u := e.user("bob@example.com"); u.Disabled || !slices.Equal(u.Roles, []string{"customer"}) {
		t.Errorf("bob is now %+v", u)
	}

	// Enabling, cross-site, leaves a disabled account disabled.
	if _, err := e.svc.SetDisabled(context.Background(), id, true, gatehouse.Client{}); err != nil {
		t.Fatal(err)
	}
	want(t, e.post(root, page+"/enable", url.Values{}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	if !e.user("bob@example.com").Disabled {
		t.Error("a cross-site POST enabled bob")
	}
}

func TestAdminAuditLog(t *testing.T) {
	e, root, _ := newAdminEnv(t)
	for i := range 52 {
		e.register(fmt.Sprintf("user%02d@example.com", i))
	}
	bob := e.user("bob@example.com").ID
	for range 2 {
		e.signIn(e.client(), "bob@example.com", "a wrong password")
	}

	rows := regexp.MustCompile(`<tr>\s*<td><time datetime="[^"]+">[^<]+</time></td>\s*<td>([^<]+)</td>\s*<td class="id">(?:<a href="[^"]+">)?([^<]*)`)
	events := func(r response) []string {
		var out []string
		for _, m := range rows.FindAllStringSubmatch(r.body, -1) {
			out = append(out, m[1]+"/"+m[2])
		}
		return out
	}

	r := e.get(root, "/auth/admin/audit")
	want(t, r, 200)
	checkLabels(t, r)
	has(t, r, `<option value="user.disabled">user.disabled</option>`, "login.failed")
	if got := events(r); len(got) != 50 {
		t.Errorf("the first page has %d events, want 50", len(got))
	}

	// By user: an id or an email; and by type.
	for _, user := range []string{bob, "BOB@example.com"} {
		r = e.get(root, "/auth/admin/audit?type=login.failed&user="+url.QueryEscape(user))
		want(t, r, 200)
		if got := events(r); !slices.Equal(got, []string{"login.failed/" + bob, "login.failed/" + bob}) {
			t.Errorf("bob's login.failed by %q = %q", user, got)
		}
		has(t, r, `<option value="login.failed" selected>`, `value="`+user+`"`)
	}
	got := events(e.get(root, "/auth/admin/audit?user="+bob))
	if len(got) != 4 || got[0] != "login.failed/"+bob || got[3] != "user.created/"+bob {
		t.Errorf("bob's events = %q", got)
	}
	has(t, e.get(root, "/auth/admin/audit?user=nobody%40example.com"), "No event matches.")

	// Pages of one type, the filters kept from page to page.
	r = e.get(root, "/auth/admin/audit?type=user.created")
	first, next := events(r), nextLink(t, r)
	if len(first) != 50 || next == "" || !strings.Contains(next, "type=user.created") {
		t.Fatalf("first page: %d events, next %q", len(first), next)
	}
	r = e.get(root, next)
	rest := events(r)
	if len(rest) != 4 || nextLink(t, r) != "" || slices.Contains(first, rest[0]) {
		t.Errorf("second page: %q, next %q", rest, nextLink(t, r))
	}
	for _, ev := range append(first, rest...) {
		if !strings.HasPrefix(ev, "user.created/") {
			t.Errorf("type=user.created listed %s", ev)
		}
	}

	for _, q := range []string{"before=x", "before=0", "type=Not%20A%20Type", "user=%00", "user=a%40"} {
		r := e.get(root, "/auth/admin/audit?"+q)
		want(t, r, http.StatusBadRequest)
		has(t, r, `id="form-error"`)
	}
}

func TestAdminPagesEscapeWhatUsersSent(t *testing.T) {
	e, root, _ := newAdminEnv(t)
	id := e.user("bob@example.com").ID
	if _, err := e.svc.Login(context.Background(), gatehouse.LoginRequest{
		Email: "bob@example.com", Password: pw, Mode: gatehouse.ModeSession, Device: `<b>phone</b> "x"`,
		Client: gatehouse.Client{IP: "192.0.2.9", UserAgent: "<script>alert(1)</script>"},
	}); err != nil {
		t.Fatal(err)
	}
	r := e.get(root, "/auth/admin/users/"+id)
	want(t, r, 200)
	has(t, r, "&lt;b&gt;phone&lt;/b&gt; &#34;x&#34;", "192.0.2.9")
	if strings.Contains(r.body, "<b>phone</b>") || strings.Contains(r.body, "<script") {
		t.Error("the device name is not escaped")
	}

	// French, like every page.
	r = e.get(root, "/auth/admin/users/"+id, "Accept-Language", "fr")
	has(t, r, `<html lang="fr">`, "Désactiver le compte", "Où cet utilisateur est connecté", "Journal d’audit")
}

package pages_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse"
)

var (
	shownClientID = regexp.MustCompile(`<dt>client_id</dt><dd><code>([A-Za-z0-9_-]+)</code></dd>`)
	shownSecret   = regexp.MustCompile(`<dt>client_secret</dt><dd><code>([A-Za-z0-9_-]+)</code></dd>`)
)

// TestAdminAppsPage adds an app on the admin page (its secret shown on
// that answer only), refuses a bad one with the form kept, and removes
// it; a customer may do none of it.
func TestAdminAppsPage(t *testing.T) {
	e := newEnv(t, options{svc: gatehouse.Config{Roles: adminRoles()}})
	rootID := e.create("root@example.com", gatehouse.RoleAdmin).ID
	e.register("bob@example.com")
	root, bob := e.client(), e.client()
	wantRedirect(t, e.signIn(root, "root@example.com", pw), "/auth/account")
	wantRedirect(t, e.signIn(bob, "bob@example.com", pw), "/auth/account")

	r := e.get(root, "/auth/admin/apps")
	want(t, r, 200)
	has(t, r, "No app is registered yet.", `<a href="/auth/admin/apps" aria-current="page">Apps</a>`, `<textarea id="redirect_uris"`)
	checkLabels(t, r)
	if strings.Contains(e.get(bob, "/auth/account").body, `href="/auth/admin/apps"`) {
		t.Error("a customer's nav links to the apps page")
	}
	want(t, e.get(bob, "/auth/admin/apps"), http.StatusForbidden)
	form := url.Values{"name": {"Wiki <&>"}, "redirect_uris": {"https://wiki.example.com/cb\r\n\r\nhttps://wiki.example.com/cb2\r\n"}, "post_logout_uris": {"https://wiki.example.com/"}}
	want(t, e.post(bob, "/auth/admin/apps", form), http.StatusForbidden)
	want(t, e.post(root, "/auth/admin/apps", form, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	bad := e.post(root, "/auth/admin/apps", url.Values{"name": {"Evil"}, "redirect_uris": {"http://evil.example.com/cb"}, "trusted": {"1"}})
	want(t, bad, http.StatusBadRequest)
	has(t, bad, "not loopback", `value="Evil" autofocus aria-invalid="true"`, ">http://evil.example.com/cb</textarea>", `id="trusted" name="trusted" type="checkbox" value="1" checked`)
	if apps, _ := e.svc.Apps(context.Background()); len(apps) != 0 {
		t.Fatalf("refused adds made apps: %+v", apps)
	}

	added := e.post(root, "/auth/admin/apps", form)
	want(t, added, 200)
	id, secret := find(t, shownClientID, added), find(t, shownSecret, added)
	has(t, added, "Wiki &lt;&amp;&gt; was added", "it is not shown again")
	if _, err := e.svc.AuthenticateApp(context.Background(), id, secret); err != nil {
		t.Fatalf("the secret shown does not authenticate the app: %v", err)
	}
	app, err := e.svc.App(context.Background(), id)
	if err != nil || app.Name != "Wiki <&>" || len(app.RedirectURIs) != 2 || app.RedirectURIs[1] != "https://wiki.example.com/cb2" || len(app.PostLogoutURIs) != 1 || app.Public || app.Trusted {
		t.Fatalf("the app added: %+v, %v", app, err)
	}
	list := e.get(root, "/auth/admin/apps")
	has(t, list, "<strong>Wiki &lt;&amp;&gt;</strong>", "<code>https://wiki.example.com/cb2</code>", `action="/auth/admin/apps/`+id+`/remove"`)
	if strings.Contains(list.body, secret) {
		t.Error("the list shows the secret again")
	}

	want(t, e.post(bob, "/auth/admin/apps/"+id+"/remove", url.Values{}), http.StatusForbidden)
	want(t, e.post(root, "/auth/admin/apps/nope/remove", url.Values{}), http.StatusNotFound)
	wantRedirect(t, e.post(root, "/auth/admin/apps/"+id+"/remove", url.Values{}), "/auth/admin/apps?notice=removed")
	has(t, e.get(root, "/auth/admin/apps?notice=removed"), "The app was removed", "No app is registered yet.")
	evs, _, err := e.svc.Audit(context.Background(), gatehouse.AuditQuery{Type: gatehouse.EventClientRemoved, Limit: 10})
	if err != nil || len(evs) != 1 || !strings.Contains(evs[0].Detail, "by="+rootID) {
		t.Errorf("client.removed events %+v, %v; want one by=%s", evs, err, rootID)
	}
}

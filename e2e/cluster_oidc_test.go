package e2e_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/postgres/pgtest"
)

// balancer is a load balancer in the client: every connection to the
// cluster's issuer goes to the next server in turn, so that each step of
// a flow is answered by another server than the step before.
type balancer struct {
	addrs []string
	next  atomic.Int64
}

func (lb *balancer) client(jar http.CookieJar) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true, // one request, one connection, one server
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr == strings.TrimPrefix(clusterIssuer, "http://")+":80" {
					addr = lb.addrs[int(lb.next.Add(1))%len(lb.addrs)]
				}
				return d.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// testClusterOIDC signs a person in to an app through three servers
// behind a balancer that sends each request to the next one: discovery,
// the authorization request, the sign-in, its continuation and the code,
// the exchange, the JWKS, userinfo and refreshes each land on another
// server than the step before, as behind a real load balancer. Ending the
// app's login on one server ends its refresh and userinfo on all.
func testClusterOIDC(t *testing.T, pg *pgtest.Server) {
	c := newCluster(t, pg, true)
	servers := []*server{c.start(), c.start(), c.start()}
	lb := &balancer{}
	for _, s := range servers {
		lb.addrs = append(lb.addrs, strings.TrimPrefix(s.url, "http://"))
	}
	out := c.cli("", false, "clients", "add", "--name", "Wiki", "--redirect-uri", oidcRedirect, "--trusted")
	id, secret := clientIDLine.FindStringSubmatch(out), clientSecretLine.FindStringSubmatch(out)
	if id == nil || secret == nil {
		t.Fatalf("clients add: %q", out)
	}
	servers[0].register("ada@example.com")

	jar, _ := cookiejar.New(nil)
	b := &oidcBrowser{t: t, s: &server{t: t, url: clusterIssuer}, c: lb.client(jar)}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, lb.client(nil))
	provider, err := gooidc.NewProvider(ctx, clusterIssuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	app := oidcApp{id: id[1], secret: secret[1], provider: provider, conf: oauth2.Config{
		ClientID: id[1], ClientSecret: secret[1], Endpoint: provider.Endpoint(), RedirectURL: oidcRedirect,
		Scopes: []string{gooidc.ScopeOpenID, "email", gooidc.ScopeOfflineAccess},
	}}
	f := newFlow()
	tok, err := app.conf.Exchange(ctx, b.code(app, f), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	idToken, err := provider.Verifier(&gooidc.Config{ClientID: app.id}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct{ Nonce, Email, Sid string }
	idToken.Claims(&claims)
	if claims.Nonce != f.nonce || claims.Email != "ada@example.com" || claims.Sid == "" {
		t.Fatalf("ID token claims = %+v", claims)
	}
	// Userinfo on each server, and refreshes that rotate from server to
	// server.
	for range servers {
		if info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Email != "ada@example.com" {
			t.Fatalf("userinfo: %+v, %v", info, err)
		}
		next, err := app.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh: %v", err)
		}
		tok = next
	}

	// Ended on one server (the user's own sign-out of that login, through
	// the balancer), it is ended on every one: no refresh, and no userinfo
	// anywhere.
	b.s.want(b.s.call(b.c, "DELETE", "/v1/sessions/"+claims.Sid, nil, "Origin", clusterIssuer), 204, "")
	if _, err := app.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("refresh after the login ended: %v, want invalid_grant", err)
	}
	for _, s := range servers {
		req, _ := http.NewRequest("GET", s.url+"/oauth2/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo on %s after the login ended: %d, want 401", s.url, res.StatusCode)
		}
		// The balancer did spread the flow: each server answered some of
		// its writes (the sign-in, the exchange, the refreshes).
		if n := strings.Count(s.logs.String(), "method=POST path=/"); n == 0 {
			t.Errorf("%s answered no POST of the flow", s.url)
		}
	}
}

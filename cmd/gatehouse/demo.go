package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/demo/shop"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/token"
)

// The demo's accounts. The customer's password is printed at start; the
// service account's (with which the shop follows the revocation feed) is
// derived from the deployment secret, so it is the same at every start
// on the same database and never printed.
const (
	demoEmail    = "demo@example.com"
	demoPassword = "gatehouse goods demo"
	serviceEmail = "shop-service@example.com"
)

// demo runs Gatehouse and the demo shop on one loopback address: the API
// under /v1/, /.well-known/, /healthz, /readyz and /openapi.json, the
// shop everywhere else, so that the shop's pages, its script and
// Gatehouse share one origin and one cookie.
func demo(ctx context.Context, args []string, getenv env, std stdio) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to listen on (the demo speaks plain HTTP)")
	db := fs.String("db", "", "SQLite file of Gatehouse, kept between runs; the shop's is beside it (NAME-shop.db) (default: a new temporary directory, removed on exit)")
	access := fs.Duration("access-ttl", gatehouse.DefaultAccessTTL, "lifetime of an access token")
	grace := fs.Duration("refresh-grace", gatehouse.DefaultRefreshGrace, "how long a just-retired refresh token still gets its successor (0: off)")
	logFormat, logLevel := logFlags(fs)
	if pos, err := parse(fs, args, getenv); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("demo takes no arguments")
	}
	if *access <= 0 || *grace < 0 {
		return usagef("--access-ttl must be positive, --refresh-grace not negative")
	}
	log, err := newLogger(*logFormat, *logLevel, std)
	if err != nil {
		return err
	}
	dataDir := "" // removed on exit when the demo made it
	if *db == "" {
		if dataDir, err = os.MkdirTemp("", "gatehouse-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
		*db = filepath.Join(dataDir, "gatehouse.db")
	}
	shopDB := strings.TrimSuffix(*db, ".db") + "-shop.db"

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base, loopback := baseURL(ln.Addr())
	if !loopback {
		log.Warn("the demo listens beyond loopback over plain HTTP: anyone who can reach it sees cookies and tokens in clear", "addr", ln.Addr().String())
	}

	secret, err := loadSecret(getenv, "", *db, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *db, log)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := gatehouse.NewService(st, gatehouse.Config{
		Logger: log,
		Tokens: &gatehouse.TokenConfig{
			Issuer: base, Audience: gatehouse.DefaultAudience, Alg: token.EdDSA, Secret: secret,
			AccessTTL: *access, RefreshTTL: gatehouse.DefaultRefreshTTL, RefreshGrace: *grace,
		},
	})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	servicePassword := derivePassword(secret, "demo shop service account")
	for _, a := range []struct{ email, password, role string }{
		{demoEmail, demoPassword, gatehouse.RoleCustomer},
		{serviceEmail, servicePassword, gatehouse.RoleService},
	} {
		if err := ensureUser(ctx, svc, a.email, a.password, a.role); err != nil {
			return err
		}
	}

	// The shop reaches Gatehouse over HTTP like any other application, so
	// the server must be listening before the shop starts; until then "/"
	// answers 503.
	var shopHandler atomic.Pointer[http.Handler]
	api := httpapi.NewServer(svc, log, httpapi.Config{Dev: true})
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/.well-known/", "/healthz", "/readyz", "/openapi.json"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := shopHandler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the shop is starting", http.StatusServiceUnavailable)
	}))
	srv := newHTTPServer(mux, log)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go svc.Run(bg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stopServer := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}

	store, err := shop.OpenStore(ctx, shopDB)
	if err != nil {
		return errors.Join(err, stopServer())
	}
	defer store.Close()
	if err := store.SeedCatalogue(ctx, shop.DemoCatalogue); err != nil {
		return errors.Join(err, stopServer())
	}
	sh, err := shop.New(ctx, shop.Config{
		Gatehouse: base, Store: store, CookieName: "gatehouse", Insecure: true,
		ServiceEmail: serviceEmail, ServicePassword: servicePassword,
		Demo:   &shop.Account{Email: demoEmail, Password: demoPassword},
		Logger: log,
	})
	if err != nil {
		return errors.Join(fmt.Errorf("starting the shop: %w", err), stopServer())
	}
	var h http.Handler = sh
	shopHandler.Store(&h)

	data := *db + " and " + shopDB + " (kept)"
	if dataDir != "" {
		data = dataDir + " (removed on exit; --db FILE keeps the data)"
	}
	fmt.Fprintf(std.out, `
Gatehouse demo: the shop Gatehouse Goods and Gatehouse itself, on one address.

  open       %s/
  sign in    %s  /  %s
  data       %s
  API        %s/v1/ (described at %s/openapi.json); access tokens live %s

Plain HTTP on loopback, with the development cookie "gatehouse". Stop with Ctrl-C.

`, base, demoEmail, demoPassword, data, base, base, *access)
	log.Info("demo listening", "url", base, "db", *db, "shop_db", shopDB)

	select {
	case err := <-errc:
		sh.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sh.Close() // ends the shop's revocation stream, which would hold Shutdown
	return stopServer()
}

// baseURL is the URL the browser and the shop use to reach the listener:
// an unspecified address ("0.0.0.0", "::") becomes loopback. It reports
// whether the listener is on loopback only.
func baseURL(a net.Addr) (string, bool) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String(), false
	}
	ip, loopback := tcp.IP, tcp.IP.IsLoopback()
	if ip.IsUnspecified() {
		if ip.To4() != nil {
			ip = net.IPv4(127, 0, 0, 1)
		} else {
			ip = net.IPv6loopback
		}
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port)), loopback
}

// ensureUser creates the account unless it exists.
func ensureUser(ctx context.Context, svc *gatehouse.Service, email, password, role string) error {
	_, err := svc.UserByEmail(ctx, email)
	if err == nil {
		return nil
	}
	if gatehouse.ErrorCode(err) != gatehouse.CodeNotFound {
		return err
	}
	_, err = svc.CreateUser(ctx, email, password, []string{role}, cliClient)
	if err != nil {
		return fmt.Errorf("creating the demo account %s: %w", email, err)
	}
	return nil
}

// derivePassword is a password only the holder of the deployment secret
// can know: HMAC-SHA256 of purpose under the secret.
func derivePassword(secret []byte, purpose string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/httpapi"
	"github.com/gatehouse/gatehouse/metrics"
	"github.com/gatehouse/gatehouse/oidc"
	"github.com/gatehouse/gatehouse/pages"
	"github.com/gatehouse/gatehouse/passkey"
	"github.com/gatehouse/gatehouse/redis"
)

// Server timeouts: a slow client cannot hold a connection for long.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 32 << 10
	shutdownTimeout   = 10 * time.Second
)

func serve(ctx context.Context, args []string, getenv env, std stdio) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	db := dbFlag(fs)
	redisURL := fs.String("redis", "", "redis:// URL of the Redis that several servers on one PostgreSQL share")
	dev := fs.Bool("dev", false, "plain-HTTP development mode: the cookie has no Secure flag (never in production)")
	noSignup := fs.Bool("no-signup", false, "refuse self-service registration")
	rolesFile := rolesFlag(fs)
	var mfaRoles listFlag
	fs.Var(&mfaRoles, "mfa-roles", "comma-separated roles whose permissions count only in a login with two factors (aal 2)")
	defaultRole := fs.String("default-role", gatehouse.RoleCustomer, "role given to users who sign up")
	idle := fs.Duration("session-idle", gatehouse.DefaultSessionIdle, "idle timeout of a session")
	maxAge := fs.Duration("session-max", gatehouse.DefaultSessionMax, "absolute lifetime of a session")
	remember := fs.Duration("remember-max", gatehouse.DefaultRememberMax, `absolute lifetime of a "remember me" session`)
	cookieDomain := fs.String("cookie-domain", "", "share the session cookie across subdomains of this domain")
	issuer := fs.String("issuer", "", `public base URL of Gatehouse, where browsers reach the pages, and "iss" of access tokens (default "http://<addr>")`)
	var redirectDomains listFlag
	fs.Var(&redirectDomains, "redirect-domains", `comma-separated hosts a sign-in may return to ("app.example.com", ".example.com" for every subdomain); default: the issuer's host and, with --cookie-domain, that domain and its subdomains`)
	webauthnRPID := fs.String("webauthn-rp-id", "", `WebAuthn relying party id of passkeys: a parent domain of the issuer's host, to share passkeys across subdomains (default: the issuer's host)`)
	var webauthnOrigins listFlag
	fs.Var(&webauthnOrigins, "webauthn-origins", `comma-separated origins allowed to use passkeys besides the issuer's ("https://app.example.com"), on the relying party id or under it`)
	brandName := fs.String("brand-name", "Gatehouse", "product name shown on the sign-in pages")
	brandLogo := fs.String("brand-logo", "", "image file shown beside the product name on the sign-in pages: PNG, JPEG, WebP or SVG, at most 32 KiB")
	brandColor := fs.String("brand-color", "", `accent colour of the sign-in pages, "#RRGGBB" (buttons and links; text on it and links are kept readable)`)
	tok := tokenFlags(fs)
	mail := emailFlags(fs)
	var proxies listFlag
	fs.Var(&proxies, "trusted-proxies", "comma-separated addresses or CIDRs whose X-Forwarded-For is trusted")
	var limits gatehouse.Limits
	fs.IntVar(&limits.AccountFailures, "limit-account-failures", 10, "consecutive failed logins for one account from one address before that address waits")
	fs.IntVar(&limits.AddressFailures, "limit-address-failures", 100, "failed logins per address per 15 minutes, across accounts")
	fs.IntVar(&limits.Registrations, "limit-registrations", 100, "registrations per address per hour")
	fs.IntVar(&limits.Refreshes, "limit-refreshes", 600, "token refreshes per address per minute")
	fs.IntVar(&limits.Recoveries, "limit-recoveries", 20, "recovery requests per address per hour")
	fs.IntVar(&limits.RecoveriesPerAccount, "limit-recoveries-per-account", 3, "recovery and verification messages one account may be sent per hour")
	fs.IntVar(&limits.PasskeyBegins, "limit-passkey-begins", 60, "passwordless sign-ins begun per address per minute")
	fs.IntVar(&limits.AuthRequests, "limit-auth-requests", 120, "OpenID Connect authorization requests begun per address per minute")
	fs.IntVar(&limits.IPv6Prefix, "limit-ipv6-prefix", 64, "every per-address limit counts an IPv6 client by its network of this many bits")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address instead of the API's (bind it privately)")
	pprofAddr := fs.String("pprof-addr", "", "serve Go's profiler (net/http/pprof) on this address; bind it privately, for diagnosis only")
	logFormat, logLevel := logFlags(fs)
	if pos, err := parse(fs, args, getenv); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("serve takes no arguments")
	}
	log, err := newLogger(*logFormat, *logLevel, std)
	if err != nil {
		return err
	}
	// The OpenID Connect library logs through slog's default logger.
	slog.SetDefault(log)
	trusted, err := parsePrefixes(proxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	if limits.IPv6Prefix < 1 || limits.IPv6Prefix > 128 {
		return usagef("--limit-ipv6-prefix: %d is not a prefix length from 1 to 128", limits.IPv6Prefix)
	}
	logo, err := readLogo(*brandLogo)
	if err != nil {
		return usagef("--brand-logo: %v", err)
	}
	if err := pages.CheckColor(*brandColor); err != nil {
		return usagef("--brand-color: %v", err)
	}
	if *dev {
		log.Warn("development mode: the session cookie is sent over plain HTTP; never use --dev in production")
	}

	roles, err := loadRoles(*rolesFile)
	if err != nil {
		return err
	}
	if _, ok := roles[*defaultRole]; !ok {
		return usagef("--default-role: unknown role %q", *defaultRole)
	}
	for _, r := range mfaRoles {
		if _, ok := roles[r]; !ok {
			return usagef("--mfa-roles: unknown role %q", r)
		}
	}
	if *issuer == "" {
		*issuer = "http://" + *addr
	}
	tokens, err := tok.config(getenv, *db, *issuer, log)
	if err != nil {
		return err
	}
	email, err := mail.config(*dev, *brandName, tokens.Secret, std, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *db, log)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := gatehouse.Config{
		Logger: log, Roles: roles, DefaultRole: *defaultRole, NoSignup: *noSignup,
		SessionIdle: *idle, SessionMax: *maxAge, RememberMax: *remember, Tokens: tokens, Limits: limits,
		Email: email, PublicURL: *issuer, Secret: tokens.Secret, MFARoles: mfaRoles,
		Passkeys: gatehouse.PasskeyConfig{RPID: *webauthnRPID, Origins: webauthnOrigins, RPName: *brandName},
	}
	cfg.Hasher = newHasher()
	if *redisURL != "" {
		rc, err := redis.Open(*redisURL, log)
		if err != nil {
			return usagef("%v", err)
		}
		defer rc.Close()
		cfg.Notifier, cfg.Counters = rc, rc
	}
	var svc *gatehouse.Service
	m := metrics.New(func(ctx context.Context) (int, error) { return svc.LiveLogins(ctx) })
	cfg.Metrics = m
	svc, err = gatehouse.NewService(st, cfg)
	if errors.Is(err, passkey.ErrBadConfig) || errors.Is(err, passkey.ErrNeedsDomain) {
		return usagef("--webauthn-rp-id, --webauthn-origins: %v", err)
	}
	if err != nil {
		return usagef("%v", err)
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	if email != nil {
		m.WatchOutbox(svc.Outbox)
	}
	apiCfg := httpapi.Config{Dev: *dev, CookieDomain: *cookieDomain, TrustedProxies: trusted, OnRequest: m.Request}
	if *metricsAddr == "" {
		apiCfg.Metrics = m.Handler()
	} else {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		stop, err := servePrivate("metrics", *metricsAddr, mux, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		stop, err := servePrivate("pprof", *pprofAddr, mux, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	var domains []string // nil: the default of pages.Config
	if len(redirectDomains) > 0 {
		domains = redirectDomains
	}
	pg, err := pages.New(svc, log, pages.Config{
		API: apiCfg, Issuer: *issuer, RedirectDomains: domains, NoSignup: *noSignup,
		BrandName: *brandName, BrandLogo: logo, BrandColor: *brandColor,
	})
	if err != nil {
		return usagef("--issuer, --redirect-domains: %v", err)
	}
	apiCfg.SignInURL = strings.TrimSuffix(*issuer, "/") + "/auth/signin"
	apiCfg.StepUpURL = strings.TrimSuffix(*issuer, "/") + "/auth/step-up"
	apiCfg.ForbiddenPage = pg.Forbidden
	api := httpapi.NewServer(svc, log, apiCfg)
	// The OpenID Connect provider is on whenever the server runs: it
	// signs with the token mode's keys, which serve always has. With no
	// app added (gatehouse clients add), it refuses every request.
	provider, err := oidc.New(svc, oidc.Config{Issuer: *issuer, API: apiCfg, ErrorPage: pg.RequestRefused}, log)
	if err != nil {
		return usagef("--issuer: %v", err)
	}
	root := http.NewServeMux()
	root.Handle("/auth/", pg)
	root.Handle(oidc.DiscoveryPath, provider)
	root.Handle("/oauth2/", provider)
	root.Handle("/", api)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := newHTTPServer(root, log)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go svc.Run(bg)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "db", redactedDB(*db))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
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

// readLogo reads the --brand-logo file, nil when none is named, and
// checks it as the pages will (pages.CheckLogo).
func readLogo(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, pages.MaxLogoBytes+1))
	if err != nil {
		return nil, err
	}
	if _, err := pages.CheckLogo(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// newHTTPServer is the server of serve and demo: h behind the timeouts
// and header limit above, with net/http's own errors in the log.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// servePrivate serves h on addr, a private port for operators (--name-addr).
// It has no write timeout, since a CPU profile takes as long as it is
// asked to.
func servePrivate(name, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--%s-addr: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout}
	go srv.Serve(ln)
	log.Info("serving "+name, "addr", ln.Addr().String())
	return func() { srv.Close() }, nil
}

// logFlags defines --log-format and --log-level.
func logFlags(fs *flag.FlagSet) (format, level *string) {
	format = fs.String("log-format", "text", "log format: text or json")
	level = fs.String("log-level", "info", "least level logged: debug (adds a line for every successful read, such as each /v1/verify), info, warn or error")
	return format, level
}

func newLogger(format, level string, std stdio) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(std.err, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(std.err, opts)), nil
	default:
		return nil, usagef("--log-format must be text or json, not %q", format)
	}
}

func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

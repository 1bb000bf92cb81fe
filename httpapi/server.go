package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Config holds the HTTP settings. The zero value serves a secure
// deployment: __Host- cookies with the Secure flag.
type Config struct {
	// Dev names the cookie "gatehouse" without the Secure flag, for plain
	// HTTP during development only.
	Dev bool
	// CookieDomain shares the cookie across subdomains of this domain; the
	// cookie is then named __Secure-gatehouse.
	CookieDomain string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Metrics, when set, is served at GET /metrics.
	Metrics http.Handler
	// OnRequest, when set, is told of every request: its route pattern
	// ("GET /v1/me"), status and duration. The pages, given this Config,
	// tell it of theirs too ("GET /auth/account"): see LogRequests.
	OnRequest func(route string, status int, d time.Duration)
	// SignInURL, when set, is the sign-in page (<issuer>/auth/signin):
	// GET /v1/verify?redirect=true sends a browser navigation without a
	// valid credential there with 302, rd=<the original URL>.
	SignInURL string
	// StepUpURL, when set, is the step-up page (<issuer>/auth/step-up):
	// GET /v1/verify?redirect=true&aal=2 sends a browser navigation whose
	// login is at aal1 there with 302, rd=<the original URL>, rather than
	// to sign in again.
	StepUpURL string
	// ForbiddenPage, when set, answers GET /v1/verify?redirect=true for a
	// browser navigation whose user lacks the permission: it writes a 403
	// HTML page. Without it, the answer is the usual 403 problem.
	ForbiddenPage func(w http.ResponseWriter, r *http.Request, p gatehouse.Principal, permission string)
}

// Server is the API handler.
type Server struct {
	svc     *gatehouse.Service
	log     *slog.Logger
	cfg     Config
	cookie  Cookie
	origin  *http.CrossOriginProtection
	handler http.Handler
	// patterns are the routes as "METHOD /path", in registration order.
	patterns []string
}

// NewServer returns the API as an http.Handler.
func NewServer(svc *gatehouse.Service, logger *slog.Logger, cfg Config) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, log: logger, cfg: cfg, cookie: NewCookie(cfg), origin: http.NewCrossOriginProtection()}
	s.handler = s.logRequests(s.routes())
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

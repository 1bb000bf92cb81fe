package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// HandleMethods registers one handler per method for path on mux (GET
// serves HEAD too), and answers every other method with notAllowed after
// setting the Allow header. The JSON API and the pages share it, each
// answering 405 in its own form.
func HandleMethods(mux *http.ServeMux, path string, methods map[string]http.Handler, notAllowed http.HandlerFunc) {
	var allow []string
	for m, h := range methods {
		mux.Handle(m+" "+path, h)
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	allowed := strings.Join(allow, ", ")
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowed)
		notAllowed(w, r)
	})
}

// methodNotAllowed is the JSON API's 405.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, http.StatusMethodNotAllowed, string(gatehouse.CodeMethodNotAllowed), r.Method+" is not allowed here")
}

func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, string(gatehouse.CodeNotFound), "no such endpoint")
	})
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LogRequests returns the request log and metrics middleware that the
// JSON API and the pages share: one log line per request (method, path,
// status, duration), and onRequest, when not nil, told the route pattern
// the mux matched ("GET /v1/me", "GET /auth/account"), the status and the
// duration. It never logs headers (the cookie), bodies (forms, passwords)
// or query strings (return URLs, tokens), which may hold secrets. A
// successful read (GET or HEAD below 400, such as every /v1/verify a proxy
// makes) is logged at debug level, so that the hot path writes no log
// line by default; changes, refusals and failures are logged at info,
// server errors at warn. Put it outside the mux whose pattern should be
// the route: the mux sets it on the request.
func LogRequests(log *slog.Logger, onRequest func(route string, status int, d time.Duration)) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			if level := levelFor(r.Method, sw.status); log.Enabled(r.Context(), level) {
				log.LogAttrs(r.Context(), level, "request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", sw.status), slog.Duration("duration", d))
			}
			if onRequest != nil {
				onRequest(r.Pattern, sw.status, d) // the mux set the pattern
			}
		})
	}
}

// logRequests is LogRequests with the headers every API response shares.
func (s *Server) logRequests(next http.Handler) http.Handler {
	logged := LogRequests(s.log, s.cfg.OnRequest)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			h["Cache-Control"] = noStore
		}
		logged.ServeHTTP(w, r)
	})
}

// Header values every response shares. net/http only reads them, so one
// slice serves every response.
var (
	nosniff = []string{"nosniff"}
	noStore = []string{"no-store"}
)

// sameOrigin refuses cross-site requests with 403 cross_origin, using the
// standard library's Sec-Fetch-Site and Origin checks.
func (s *Server) sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.origin.Check(r); err != nil {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.CodeCrossOrigin, "cross-origin requests are refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authed lets the request through only with a valid credential, and puts
// the principal in its context. A state-changing request that carries the
// session cookie must also come from the same origin.
func (s *Server) authed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeAuthError(w, r, err)
			return
		}
		if p.Login.Mode == gatehouse.ModeSession && !safeMethod(r.Method) {
			if err := s.origin.Check(r); err != nil {
				s.writeError(w, r, gatehouse.Errorf(gatehouse.CodeCrossOrigin, "cross-origin requests are refused"))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(gatehouse.NewContext(r.Context(), p)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// clientOf returns where the request came from: see Config.Client.
func (s *Server) clientOf(r *http.Request) gatehouse.Client { return s.cfg.Client(r) }

// Client returns where a request came from, as the JSON API and the
// pages both count it for throttling and audit. X-Forwarded-For is read
// only when the direct peer is one of TrustedProxies, and then the
// rightmost address that is not itself a trusted proxy is the client.
func (cfg Config) Client(r *http.Request) gatehouse.Client {
	return gatehouse.Client{IP: cfg.clientIP(r), UserAgent: r.UserAgent(), Lang: r.Header.Get("Accept-Language")}
}

// Actor is Client with Actor set to the user of the principal in the
// request's context, if any: the client of an admin acting on someone
// else's account, which the audit events of the change name (by=<id>).
// The admin API and the admin pages both use it.
func (cfg Config) Actor(r *http.Request) gatehouse.Client {
	c := cfg.Client(r)
	if p, ok := gatehouse.FromContext(r.Context()); ok {
		c.Actor = p.User.ID
	}
	return c
}

func (cfg Config) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !cfg.trusted(addr) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		if !cfg.trusted(hop) {
			return hop.Unmap().String()
		}
		addr = hop
	}
	return addr.Unmap().String()
}

// parseHop reads one X-Forwarded-For entry: an address, with or without
// a port ("198.51.100.7:4444", "[2001:db8::1]:4444").
func parseHop(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if a, err := netip.ParseAddr(hop); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

func (cfg Config) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// levelFor is the level of a request's log line: see LogRequests.
func levelFor(method string, status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelWarn
	case status < 400 && safeMethod(method) && method != http.MethodOptions:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

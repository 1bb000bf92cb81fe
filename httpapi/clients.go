package httpapi

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// clientJSON is an OpenID Connect client (a gatehouse.App) as the admin
// API shows it: never its secret, which only its creation answers with.
type clientJSON struct {
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Public                 bool      `json:"public"`
	Trusted                bool      `json:"trusted"`
	CreatedAt              time.Time `json:"created_at"`
}

func toClient(a gatehouse.App) clientJSON {
	return clientJSON{
		ClientID:               a.ID,
		Name:                   a.Name,
		RedirectURIs:           nonNil(a.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(a.PostLogoutURIs),
		Public:                 a.Public,
		Trusted:                a.Trusted,
		CreatedAt:              a.CreatedAt,
	}
}

// nonNil makes a missing list an empty JSON array rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleAdminAddClient() http.Handler {
	type request struct {
		Name                   string   `json:"name"`
		RedirectURIs           []string `json:"redirect_uris"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
		Public                 bool     `json:"public"`
		Trusted                bool     `json:"trusted"`
	}
	type response struct {
		clientJSON
		ClientSecret string `json:"client_secret,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		spec := gatehouse.AppSpec{Name: req.Name, RedirectURIs: req.RedirectURIs, PostLogoutURIs: req.PostLogoutRedirectURIs, Public: req.Public, Trusted: req.Trusted}
		a, secret, err := s.svc.AddApp(r.Context(), spec, s.actor(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, response{clientJSON: toClient(a), ClientSecret: secret})
	})
}

func (s *Server) handleAdminClients() http.Handler {
	type response struct {
		Clients []clientJSON `json:"clients"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apps, err := s.svc.Apps(r.Context())
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res := response{Clients: make([]clientJSON, 0, len(apps))}
		for _, a := range apps {
			res.Clients = append(res.Clients, toClient(a))
		}
		encode(w, http.StatusOK, res)
	})
}

func (s *Server) handleAdminRemoveClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.svc.RemoveApp(r.Context(), r.PathValue("id"), s.actor(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// appAccessJSON is an app the caller gave access to their account: its
// client id and name, the scopes consented to, and when.
type appAccessJSON struct {
	ClientID  string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	GrantedAt time.Time `json:"granted_at"`
}

// handleMyApps lists the apps with access to the caller's account, as
// the account page's "Apps with access" does.
func (s *Server) handleMyApps() http.Handler {
	type response struct {
		Apps []appAccessJSON `json:"apps"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		access, err := s.svc.AppsWithAccess(r.Context(), p.User.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res := response{Apps: make([]appAccessJSON, 0, len(access))}
		for _, a := range access {
			res.Apps = append(res.Apps, appAccessJSON{ClientID: a.App.ID, Name: a.App.Name, Scopes: nonNil(a.Scopes), GrantedAt: a.GrantedAt})
		}
		encode(w, http.StatusOK, res)
	})
}

// handleRevokeMyApp removes an app's access (Service.RevokeConsent): the
// consent is forgotten and the app's logins of the caller end.
func (s *Server) handleRevokeMyApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		if err := s.svc.RevokeConsent(r.Context(), p, r.PathValue("id"), s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

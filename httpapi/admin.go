package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Page sizes of the admin listings.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// permitted lets the request through only with a credential whose user
// holds the permission: 401 without a credential, 403 without the
// permission.
func (s *Server) permitted(perm string, next http.Handler) http.Handler {
	return s.authed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, _ := gatehouse.FromContext(r.Context()); !p.Can(perm) {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.CodeForbidden, "this needs the permission "+perm))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// pageSize reads ?limit=, defaulting and capping it.
func pageSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, gatehouse.Errorf(gatehouse.CodeInvalidRequest, "limit must be a positive integer")
	}
	return min(n, maxPageSize), nil
}

// actor is the client of an admin request, naming the admin in the audit
// log: see Config.Actor.
func (s *Server) actor(r *http.Request) gatehouse.Client { return s.cfg.Actor(r) }

func (s *Server) handleAdminUsers() http.Handler {
	type response struct {
		Users []userJSON `json:"users"`
		Next  string     `json:"next,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := pageSize(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		q := r.URL.Query()
		users, next, err := s.svc.ListUsers(r.Context(), gatehouse.UserQuery{EmailPrefix: q.Get("email"), After: q.Get("after"), Limit: limit})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res := response{Users: make([]userJSON, 0, len(users)), Next: next}
		for _, u := range users {
			res.Users = append(res.Users, toUser(u))
		}
		encode(w, http.StatusOK, res)
	})
}

func (s *Server) handleAdminPatchUser() http.Handler {
	type request struct {
		Disabled *bool     `json:"disabled"`
		Roles    *[]string `json:"roles"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		id, c := r.PathValue("id"), s.actor(r)
		u, err := s.svc.User(r.Context(), id)
		if err == nil && req.Roles != nil {
			p, _ := gatehouse.FromContext(r.Context())
			u, err = s.svc.SetRolesAs(r.Context(), p, id, *req.Roles, c)
		}
		if err == nil && req.Disabled != nil {
			u, err = s.svc.SetDisabled(r.Context(), id, *req.Disabled, c)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, toUser(u))
	})
}

func (s *Server) handleAdminRevokeSessions() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.svc.RevokeUserSessions(r.Context(), r.PathValue("id"), s.actor(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleAdminAudit() http.Handler {
	type event struct {
		At     time.Time `json:"at"`
		Type   string    `json:"type"`
		UserID string    `json:"user_id"`
		IP     string    `json:"ip"`
		Detail string    `json:"detail"`
	}
	type response struct {
		Events []event `json:"events"`
		Next   string  `json:"next,omitempty"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit, err := pageSize(r)
		q := r.URL.Query()
		var before int64
		if err == nil {
			before, err = gatehouse.ParseAuditCursor(q.Get("before"))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		events, next, err := s.svc.Audit(r.Context(), gatehouse.AuditQuery{UserID: q.Get("user"), Type: q.Get("type"), Before: before, Limit: limit})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res := response{Events: make([]event, 0, len(events))}
		if next != 0 {
			res.Next = strconv.FormatInt(next, 10)
		}
		for _, e := range events {
			res.Events = append(res.Events, event{At: e.At, Type: e.Type, UserID: e.UserID, IP: e.IP, Detail: e.Detail})
		}
		encode(w, http.StatusOK, res)
	})
}

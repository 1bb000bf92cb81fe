package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The email endpoints: recovery, verification and change of address.

// accepted is the body of every 202 of the email endpoints: the same
// whether or not a message went out, so that it reveals nothing.
var accepted = map[string]string{"status": "accepted"}

// LinkStatus is the status of an error answering a one-time link (a
// recovery or verification token): a bad link is a bad request (400
// invalid_token), not a failed authentication; other codes are as
// Status says. The pages answer their links with it too.
func LinkStatus(code gatehouse.Code) int {
	if code == gatehouse.CodeInvalidToken {
		return http.StatusBadRequest
	}
	return Status(code)
}

func (s *Server) handleRecovery() http.Handler {
	type request struct {
		Email string `json:"email"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.svc.RequestRecovery(r.Context(), req.Email, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusAccepted, accepted)
	})
}

func (s *Server) handleRecoveryConfirm() http.Handler {
	type request struct {
		Token       string `json:"token"`
		NewPassword string `json:"new_password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("token", req.Token, "new_password", req.NewPassword)
		}
		if err == nil {
			err = s.svc.ConfirmRecovery(r.Context(), req.Token, req.NewPassword, s.clientOf(r))
		}
		if err != nil {
			s.writeLinkError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleVerification() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		if err := s.svc.RequestVerification(r.Context(), p, s.clientOf(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusAccepted, accepted)
	})
}

func (s *Server) handleVerifyEmail() http.Handler {
	type request struct {
		Token string `json:"token"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("token", req.Token)
		}
		var u gatehouse.User
		if err == nil {
			u, err = s.svc.VerifyEmail(r.Context(), req.Token, s.clientOf(r))
		}
		if err != nil {
			s.writeLinkError(w, r, err)
			return
		}
		encode(w, http.StatusOK, toUser(u))
	})
}

func (s *Server) handleChangeEmail() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("email", req.Email, "password", req.Password)
		}
		if err == nil {
			p, _ := gatehouse.FromContext(r.Context())
			err = s.svc.ChangeEmail(r.Context(), p, req.Email, req.Password, s.clientOf(r))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusAccepted, accepted)
	})
}

func (s *Server) handleAdminRecovery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.svc.SendRecovery(r.Context(), r.PathValue("id"), s.cfg.Actor(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusAccepted, accepted)
	})
}

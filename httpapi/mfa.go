package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// The second-factor endpoints: an authenticator app (TOTP) and recovery
// codes, the second step of a sign-in, and step-up.

// aalValues are the values of X-Gatehouse-AAL, by level.
var aalValues = [...][]string{nil, {"1"}, {"2"}}

// insufficientAAL is RFC 9470's refusal of a login whose assurance is too
// low for what it asks.
func insufficientAAL() error {
	return gatehouse.Errorf(gatehouse.CodeInsufficientAuth, "this needs a sign-in with two factors (acr 2)")
}

// ConfirmStatus is the status of an error confirming an authenticator
// app: a wrong code is a bad request (400) there, where at sign-in it is
// a failed authentication (401); other codes are as Status says.
func ConfirmStatus(code gatehouse.Code) int {
	if code == gatehouse.CodeInvalidCode {
		return http.StatusBadRequest
	}
	return Status(code)
}

// withPassword serves a change to the principal's factors that takes the
// current password ({"password"}, which may be left out): do makes it,
// and its body is answered with status (none for 204).
func (s *Server) withPassword(status int, do func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Password string `json:"password"`
		}
		if err := decodeOptional(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		p, _ := gatehouse.FromContext(r.Context())
		body, err := do(r, p, req.Password, s.clientOf(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		encode(w, status, body)
	})
}

type codesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) handleFactors() http.Handler {
	type response struct {
		TOTP              bool `json:"totp"`
		RecoveryCodesLeft int  `json:"recovery_codes_left"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		userID := p.User.ID
		if id := r.PathValue("id"); id != "" {
			if _, err := s.svc.User(r.Context(), id); err != nil {
				s.writeError(w, r, err)
				return
			}
			userID = id
		}
		f, err := s.svc.Factors(r.Context(), userID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, response{TOTP: f.TOTP, RecoveryCodesLeft: f.RecoveryCodesLeft})
	})
}

func (s *Server) handleEnrollTOTP() http.Handler {
	type response struct {
		Secret string `json:"secret"`
		URI    string `json:"uri"`
		QR     string `json:"qr"`
	}
	return s.withPassword(http.StatusOK, func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error) {
		key, err := s.svc.EnrollTOTP(r.Context(), p, pw, c)
		return response{Secret: key.Secret, URI: key.URI, QR: key.QR}, err
	})
}

func (s *Server) handleConfirmTOTP() http.Handler {
	type request struct {
		Code string `json:"code"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("code", req.Code)
		}
		var codes []string
		if err == nil {
			p, _ := gatehouse.FromContext(r.Context())
			codes, err = s.svc.ConfirmTOTP(r.Context(), p, req.Code, s.clientOf(r))
		}
		if err != nil {
			s.writeErrorWith(w, r, err, ConfirmStatus)
			return
		}
		encode(w, http.StatusOK, codesResponse{RecoveryCodes: codes})
	})
}

func (s *Server) handleRemoveTOTP() http.Handler {
	return s.withPassword(http.StatusNoContent, func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error) {
		return nil, s.svc.RemoveTOTP(r.Context(), p, pw, c)
	})
}

func (s *Server) handleRecoveryCodes() http.Handler {
	return s.withPassword(http.StatusOK, func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error) {
		codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), p, pw, c)
		return codesResponse{RecoveryCodes: codes}, err
	})
}

// secondFactor is the body of the second step and of step-up.
type secondFactor struct {
	MFAToken string `json:"mfa_token"`
	// ChallengeID names a step-up's passkey ceremony
	// (/v1/login/step-up/begin).
	ChallengeID  string `json:"challenge_id"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recovery_code"`
	// Credential is a passkey's assertion (its toJSON()), answering the
	// options of mfa_required.
	Credential json.RawMessage `json:"credential"`
}

func (f secondFactor) request(c gatehouse.Client) gatehouse.MFARequest {
	return gatehouse.MFARequest{Token: f.MFAToken, ChallengeID: f.ChallengeID, Code: f.Code, RecoveryCode: f.RecoveryCode, Credential: f.Credential, Client: c}
}

func (s *Server) handleLoginMFA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req secondFactor
		err := decode(w, r, &req)
		if err == nil {
			err = required("mfa_token", req.MFAToken)
		}
		var res gatehouse.LoginResult
		if err == nil {
			res, err = s.svc.LoginMFA(r.Context(), req.request(s.clientOf(r)))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeLogin(w, res)
	})
}

func (s *Server) handleStepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req secondFactor
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		p, _ := gatehouse.FromContext(r.Context())
		res, err := s.svc.StepUp(r.Context(), p, req.request(s.clientOf(r)))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeLogin(w, res)
	})
}

func (s *Server) handleAdminResetFactors() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.svc.ResetFactors(r.Context(), r.PathValue("id"), s.cfg.Actor(r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

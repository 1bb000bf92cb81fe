package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse"
)

// The passkey endpoints: registering and managing a user's passkeys, and
// the passwordless sign-in. A passkey as the second factor goes through
// POST /v1/login/mfa (secondFactor.Credential).

// passkeyJSON is the passkey shape of the contract.
type passkeyJSON struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at"`
	BackupEligible bool       `json:"backup_eligible"`
	BackupState    bool       `json:"backup_state"`
}

func toPasskeyJSON(k gatehouse.Passkey) passkeyJSON {
	j := passkeyJSON{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, BackupEligible: k.BackupEligible, BackupState: k.BackupState}
	if !k.LastUsedAt.IsZero() {
		j.LastUsedAt = &k.LastUsedAt
	}
	return j
}

// passkeysOn answers 403 passkeys_disabled on a server without passkeys.
func (s *Server) passkeysOn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.svc.PasskeysEnabled() {
			s.writeError(w, r, gatehouse.Errorf(gatehouse.CodePasskeysDisabled, "passkeys are not available on this server"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// credentialRequired checks that a credential was sent, as an object.
func credentialRequired(c json.RawMessage) error {
	if len(c) == 0 || c[0] != '{' {
		return gatehouse.Errorf(gatehouse.CodeInvalidRequest, `field "credential" is required: the PublicKeyCredential's toJSON()`)
	}
	return nil
}

func (s *Server) handleBeginPasskeyRegistration() http.Handler {
	return s.withPassword(http.StatusOK, func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error) {
		return s.svc.BeginPasskeyRegistration(r.Context(), p, pw, c)
	})
}

func (s *Server) handleFinishPasskeyRegistration() http.Handler {
	type request struct {
		Name       string          `json:"name"`
		Credential json.RawMessage `json:"credential"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = credentialRequired(req.Credential)
		}
		var k gatehouse.Passkey
		if err == nil {
			p, _ := gatehouse.FromContext(r.Context())
			k, err = s.svc.FinishPasskeyRegistration(r.Context(), p, req.Name, req.Credential, s.clientOf(r))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusCreated, toPasskeyJSON(k))
	})
}

func (s *Server) handlePasskeys() http.Handler {
	type response struct {
		Passkeys []passkeyJSON `json:"passkeys"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		keys, err := s.svc.ListPasskeys(r.Context(), p.User.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		res := response{Passkeys: []passkeyJSON{}}
		for _, k := range keys {
			res.Passkeys = append(res.Passkeys, toPasskeyJSON(k))
		}
		encode(w, http.StatusOK, res)
	})
}

func (s *Server) handleRenamePasskey() http.Handler {
	type request struct {
		Name string `json:"name"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("name", req.Name)
		}
		var k gatehouse.Passkey
		if err == nil {
			p, _ := gatehouse.FromContext(r.Context())
			k, err = s.svc.RenamePasskey(r.Context(), p, r.PathValue("id"), req.Name)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, toPasskeyJSON(k))
	})
}

func (s *Server) handleRemovePasskey() http.Handler {
	return s.withPassword(http.StatusNoContent, func(r *http.Request, p gatehouse.Principal, pw string, c gatehouse.Client) (any, error) {
		return nil, s.svc.RemovePasskey(r.Context(), p, r.PathValue("id"), pw, c)
	})
}

func (s *Server) handleBeginPasskeyLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := s.svc.BeginPasskeyLogin(r.Context(), s.clientOf(r))
		s.writeCeremony(w, r, b, err)
	})
}

func (s *Server) handleBeginStepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := gatehouse.FromContext(r.Context())
		b, err := s.svc.BeginStepUp(r.Context(), p, s.clientOf(r))
		s.writeCeremony(w, r, b, err)
	})
}

// writeCeremony answers a passkey ceremony's request options
// ({"publicKey":{...}}) with its challenge_id beside them, or err.
func (s *Server) writeCeremony(w http.ResponseWriter, r *http.Request, b gatehouse.PasskeyLogin, err error) {
	var res map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(b.Options, &res)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, _ := json.Marshal(b.ChallengeID)
	res["challenge_id"] = id
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, res)
}

func (s *Server) handleFinishPasskeyLogin() http.Handler {
	type request struct {
		ChallengeID string          `json:"challenge_id"`
		Credential  json.RawMessage `json:"credential"`
		Mode        string          `json:"mode"`
		Remember    bool            `json:"remember"`
		Device      string          `json:"device"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		err := decode(w, r, &req)
		if err == nil {
			err = required("challenge_id", req.ChallengeID, "mode", req.Mode)
		}
		if err == nil {
			err = credentialRequired(req.Credential)
		}
		var res gatehouse.LoginResult
		if err == nil {
			res, err = s.svc.FinishPasskeyLogin(r.Context(), gatehouse.PasskeyLoginRequest{
				ChallengeID: req.ChallengeID, Credential: req.Credential, Mode: gatehouse.Mode(req.Mode),
				Remember: req.Remember, Device: req.Device, Client: s.clientOf(r),
			})
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeLogin(w, res)
	})
}

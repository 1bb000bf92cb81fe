package gatehouse

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/password"
)

// LoginRequest is a sign-in attempt.
type LoginRequest struct {
	Email    string
	Password string
	Mode     Mode
	Remember bool
	Device   string
	Client   Client
}

// LoginResult is a successful sign-in. Secret is the cookie secret of a
// session login, Tokens the tokens of a token login: each is returned once
// and only hashes are kept.
type LoginResult struct {
	User   User
	Login  Login
	Secret string
	Tokens TokenPair
}

// Login checks a password and starts a login. A wrong email and a wrong
// password give the same error after about the same work: an unknown email
// is checked against a dummy hash.
func (s *Service) Login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	res, err := s.login(ctx, req)
	s.cfg.Metrics.Login(req.Mode, loginOutcome(err))
	return res, err
}

func (s *Service) login(ctx context.Context, req LoginRequest) (LoginResult, error) {
	if req.Mode != ModeSession && req.Mode != ModeToken {
		return LoginResult{}, Errorf(CodeInvalidRequest, `mode must be "session" or "token"`)
	}
	device := req.Device
	if err := CheckText("device", device, MaxDeviceLength); err != nil {
		return LoginResult{}, err
	}
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		// An address that cannot exist fails like any unknown one.
		email = ""
	}
	u, err := s.throttledCheck(ctx, email, req.Client, "", func() (User, error) {
		return s.checkPassword(ctx, email, req.Password)
	})
	if err != nil {
		return LoginResult{}, err
	}
	if u.Disabled {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: req.Client.IP, Detail: "account disabled"})
		return LoginResult{}, Errorf(CodeAccountDisabled, "this account is disabled")
	}
	if s.mail != nil && s.mail.cfg.RequireVerified && !u.EmailVerified {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: req.Client.IP, Detail: "email not verified"})
		return LoginResult{}, Errorf(CodeEmailUnverified, "confirm your email address first: open the link we sent you")
	}
	if device == "" {
		device = DeviceName(req.Client.UserAgent)
	}
	if req.Mode == ModeToken && s.tok == nil {
		return LoginResult{}, errNoTokenMode
	}
	st := loginStart{user: u, mode: req.Mode, remember: req.Remember, device: device, client: req.Client, aal: AAL1, amr: []string{AMRPassword}}
	if err := s.secondStep(ctx, st); err != nil {
		return LoginResult{}, err
	}
	s.passed(ctx, email, req.Client)
	return s.startLogin(ctx, st)
}

// errNoTokenMode refuses a token login where token mode is off.
var errNoTokenMode = Errorf(CodeInvalidRequest, "token mode is not enabled on this server")

// loginStart is a sign-in whose factors are all checked: who, how, and at
// what assurance.
type loginStart struct {
	user     User
	mode     Mode
	remember bool
	device   string
	client   Client
	aal      int
	amr      []string
}

// startLogin makes the login of st: a session with its cookie secret, or
// a token login with its tokens.
func (s *Service) startLogin(ctx context.Context, st loginStart) (LoginResult, error) {
	now := s.now()
	l := Login{
		ID: newID(), UserID: st.user.ID, Mode: st.mode, Device: st.device, IP: st.client.IP,
		UserAgent: st.client.storedUserAgent(), Remember: st.remember, CreatedAt: now, LastSeenAt: now,
		AAL: st.aal, AMR: st.amr,
	}
	ev := AuditEvent{At: now, Type: EventLoginSucceeded, UserID: st.user.ID, IP: st.client.IP, Detail: "mode=" + string(l.Mode)}
	if st.aal >= AAL2 {
		ev.Detail += " aal=2"
	}
	if st.mode == ModeToken {
		return s.loginTokens(ctx, st.user, l, ev)
	}
	max := s.cfg.SessionMax
	if st.remember {
		max = s.cfg.RememberMax
	}
	secret, hash := newSecret()
	l.SecretHash, l.ExpiresAt = hash[:], now.Add(max)
	l.IdleExpiresAt = minTime(now.Add(s.cfg.SessionIdle), l.ExpiresAt)
	if err := s.store.CreateLogin(ctx, l, ev); err != nil {
		return LoginResult{}, err
	}
	s.evictOldest(ctx, st.user.ID, st.client)
	return LoginResult{User: st.user, Login: l, Secret: secret}, nil
}

// MaxLoginsPerUser is how many live logins one user may have; a new login
// beyond it ends the oldest, so an account cannot pile up logins (and
// rows) without bound.
const MaxLoginsPerUser = 100

// evictOldest ends the user's oldest logins beyond MaxLoginsPerUser. A
// failure is logged: the new login stands either way.
func (s *Service) evictOldest(ctx context.Context, userID string, c Client) {
	logins, err := s.store.ListLogins(ctx, userID, s.now())
	if err != nil {
		s.log.Warn("counting a user's logins failed", "user", userID, "err", err)
		return
	}
	for i := len(logins) - 1; i >= MaxLoginsPerUser; i-- { // newest first: the tail is oldest
		id := logins[i].ID
		if _, err := s.revoke(ctx, Revocation{UserID: userID, LoginID: id, Reason: ReasonEvicted},
			AuditEvent{Type: EventSessionEvicted, UserID: userID, IP: c.IP, Detail: "session=" + id}); err != nil {
			s.log.Warn("evicting an old login failed", "user", userID, "err", err)
		}
	}
}

// throttledCheck runs check, a check of a password for the account with
// email, under the account's lockout at the client's address: the attempt
// is counted before the check and refused with 429 when the throttle says
// so (see throttle.reserve), and a wrong password (or second factor,
// CodeInvalidCode) may start a wait; a wrong password is audited as
// login.failed (with detail). A right one does not clear the account's
// failures: the caller does (passed) once the whole check is through, so
// that a right password cannot reset the count of wrong second factors.
// Logins, second factors and password changes share it, so a stolen
// session guesses no faster than a stranger.
func (s *Service) throttledCheck(ctx context.Context, email string, c Client, detail string, check func() (User, error)) (User, error) {
	wait, err := s.limits.reserve(ctx, email, c.IP)
	s.throttleError(err)
	if wait > 0 {
		s.audit(ctx, AuditEvent{Type: EventLoginThrottled, IP: c.IP, Detail: "account locked at this address"})
		s.cfg.Metrics.Throttled("login")
		return User{}, tooMany(wait)
	}
	u, err := check()
	switch {
	case ErrorCode(err) == CodeInvalidCredentials || ErrorCode(err) == CodeInvalidCode:
		if ErrorCode(err) == CodeInvalidCredentials {
			// A wrong second factor is audited by its check (mfa.failed).
			s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: c.IP, Detail: detail})
		}
		wait, terr := s.limits.failed(ctx, email, c.IP)
		s.throttleError(terr)
		if wait > 0 {
			s.audit(ctx, AuditEvent{Type: EventLoginThrottled, UserID: u.ID, IP: c.IP})
			s.cfg.Metrics.Throttled("login")
			return User{}, tooMany(wait)
		}
	}
	return u, err
}

// passed clears the account's failures at the client's address, once a
// sign-in or a check of the current password is through.
func (s *Service) passed(ctx context.Context, email string, c Client) {
	s.throttleError(s.limits.succeeded(ctx, email, c.IP))
}

// checkPassword finds the user and verifies the password, upgrading the
// stored hash when its parameters are out of date. On a wrong password it
// returns the user (for the audit log) with CodeInvalidCredentials.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (User, error) {
	bad := Errorf(CodeInvalidCredentials, "the email or password is incorrect")
	var u User
	var err error
	if email != "" {
		u, err = s.store.UserByEmail(ctx, email)
	}
	if email == "" || ErrorCode(err) == CodeNotFound {
		if err := s.hasher.Dummy(ctx, pw); err != nil {
			return User{}, hashError(err)
		}
		return User{}, bad
	}
	if err != nil {
		return User{}, err
	}
	ok, rehash, err := s.hasher.Verify(ctx, pw, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrMalformedHash) {
		return User{}, hashError(err)
	}
	if !ok {
		return u, bad
	}
	if rehash {
		if h, err := s.hasher.Hash(ctx, pw); err == nil {
			u.PasswordHash = h
			if _, err := s.store.UpdateUser(ctx, UserChange{User: u}); err != nil {
				s.log.Warn("upgrading a password hash failed", "user", u.ID, "err", err)
			}
		}
	}
	return u, nil
}

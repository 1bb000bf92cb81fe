package gatehouse

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/gatehouse/gatehouse/token"
	"github.com/gatehouse/gatehouse/totp"
)

// Second factors: an authenticator app (TOTP) with recovery codes. A user
// with a confirmed one signs in in two steps (Login answers
// CodeMFARequired, LoginMFA finishes), and such a login is at AAL2.

// totpSealInfo binds the TOTP secrets' sealing key to this use of the
// deployment secret.
const totpSealInfo = "gatehouse totp: seal secrets v1"

// Rules of the second step of a sign-in, and of changes to factors.
const (
	mfaTokenTTL    = 5 * time.Minute
	maxMFAFailures = 5
	// recentAAL2 is how long after a two-factor sign-in a change to the
	// factors needs no password.
	recentAAL2 = 10 * time.Minute
)

// Factors is what a user has set up as second factors.
type Factors struct {
	TOTP              bool // a confirmed authenticator app
	TOTPPending       bool // one set up but not confirmed yet
	RecoveryCodesLeft int
	// Passkeys counts the user's passkeys.
	Passkeys int
}

// Methods are the second-factor methods the user can sign in with, as the
// contract names them.
func (f Factors) Methods() []string {
	var m []string
	if f.TOTP {
		m = append(m, "totp")
		if f.RecoveryCodesLeft > 0 {
			m = append(m, "recovery_code")
		}
	}
	if f.Passkeys > 0 {
		m = append(m, "passkey")
	}
	return m
}

// mfaState is the second-factor state of a Service.
type mfaState struct {
	sealer *token.Sealer
	issuer string // the name apps show beside the account
}

func newMFAState(secret []byte, publicURL string) (*mfaState, error) {
	sealer, err := token.NewSealerFor(secret, totpSealInfo)
	if err != nil {
		return nil, err
	}
	issuer := "Gatehouse"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		issuer = u.Hostname()
	}
	return &mfaState{sealer: sealer, issuer: issuer}, nil
}

// mfaOff refuses a second-factor change where second factors are off (a
// Service without Config.Secret; serve always has one).
func mfaOff() error {
	return Errorf(CodeForbidden, "second factors are not offered on this server")
}

// MFAOn reports whether the service offers second factors (it has the
// deployment secret, Config.Secret).
func (s *Service) MFAOn() bool { return s.mfa != nil }

// Factors returns the user's second factors: none for a user who does
// not exist.
func (s *Service) Factors(ctx context.Context, userID string) (Factors, error) {
	f, _, err := s.FactorsAndPasskeys(ctx, userID)
	return f, err
}

// FactorsAndPasskeys returns the user's second factors and their passkeys
// (oldest first), read once, for a page that shows both.
func (s *Service) FactorsAndPasskeys(ctx context.Context, userID string) (Factors, []Passkey, error) {
	var f Factors
	t, err := s.store.TOTP(ctx, userID)
	switch {
	case err == nil:
		f.TOTP, f.TOTPPending = t.Confirmed, !t.Confirmed
	case ErrorCode(err) != CodeNotFound:
		return Factors{}, nil, err
	}
	if f.TOTP {
		if f.RecoveryCodesLeft, err = s.store.RecoveryCodesLeft(ctx, userID); err != nil {
			return Factors{}, nil, err
		}
	}
	// Passkeys count even where passkeys are off (an issuer that is an IP
	// address): a user who set one up as a second factor keeps needing a
	// second step, which fails closed until passkeys are on again or an
	// admin resets the factors.
	keys, err := s.store.Passkeys(ctx, userID)
	if err != nil {
		return Factors{}, nil, err
	}
	f.Passkeys = len(keys)
	return f, keys, nil
}

// checkFactorChange lets a change of the principal's factors go ahead: it
// needs their password (under the account's lockout), unless the login
// signed in with two factors in the last recentAAL2.
func (s *Service) checkFactorChange(ctx context.Context, p Principal, pw string, c Client) (User, error) {
	if p.Login.AAL >= AAL2 && s.now().Sub(p.Login.CreatedAt) < recentAAL2 && pw == "" {
		return s.store.UserByID(ctx, p.User.ID)
	}
	return s.checkCurrentPassword(ctx, p, pw, c, "second factor change")
}

// EnrollTOTP starts setting up an authenticator app: a new secret, shown
// once as a QR code, pending until ConfirmTOTP. One not yet confirmed is
// replaced; a confirmed one is CodeAlreadyEnrolled.
func (s *Service) EnrollTOTP(ctx context.Context, p Principal, pw string, c Client) (totp.Key, error) {
	if s.mfa == nil {
		return totp.Key{}, mfaOff()
	}
	u, err := s.checkFactorChange(ctx, p, pw, c)
	if err != nil {
		return totp.Key{}, err
	}
	if f, err := s.Factors(ctx, u.ID); err != nil {
		return totp.Key{}, err
	} else if f.TOTP {
		return totp.Key{}, Errorf(CodeAlreadyEnrolled, "an authenticator app is already set up")
	}
	key, err := totp.Generate(s.mfa.issuer, u.Email)
	if err != nil {
		return totp.Key{}, err
	}
	now := s.now()
	t := TOTP{UserID: u.ID, Sealed: s.mfa.sealer.Seal([]byte(key.Secret), []byte(u.ID)), CreatedAt: now}
	if err := s.store.PutTOTP(ctx, t, AuditEvent{At: now, Type: EventMFAEnrolled, UserID: u.ID, IP: c.IP, Detail: "totp pending"}); err != nil {
		return totp.Key{}, err
	}
	return key, nil
}

// ConfirmTOTP confirms the authenticator app with a code from it, and
// returns the user's new recovery codes, shown this once.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code string, c Client) ([]string, error) {
	if s.mfa == nil {
		return nil, mfaOff()
	}
	t, err := s.store.TOTP(ctx, p.User.ID)
	if ErrorCode(err) == CodeNotFound || err == nil && t.Confirmed {
		return nil, Errorf(CodeInvalidCode, "set up an authenticator app first")
	}
	if err != nil {
		return nil, err
	}
	step, err := s.checkTOTP(t, code)
	if err != nil {
		return nil, err
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	now := s.now()
	mail := s.queue(p.User, Mail{Kind: MailFactorChanged, Detail: "authenticator app added"}, c, now)
	ev := AuditEvent{At: now, Type: EventMFAEnrolled, UserID: p.User.ID, IP: c.IP, Detail: "totp"}
	if err := s.store.ConfirmTOTP(ctx, p.User.ID, step, hashes, mail, ev); err != nil {
		return nil, err
	}
	s.queued(mail)
	return codes, nil
}

// checkTOTP checks a code against the user's secret, after the last step
// used; the caller records the step it returns.
func (s *Service) checkTOTP(t TOTP, code string) (int64, error) {
	secret, err := s.mfa.sealer.Open(t.Sealed, []byte(t.UserID))
	if err != nil {
		return 0, err
	}
	step, err := totp.Check(string(secret), code, s.now(), t.LastStep)
	if errors.Is(err, totp.ErrInvalidCode) {
		return 0, Errorf(CodeInvalidCode, "that code is not right; use the newest one your app shows")
	}
	return step, err
}

// newRecoveryCodes makes a set of recovery codes and their hashes.
func newRecoveryCodes() ([]string, [][]byte, error) {
	codes, err := totp.NewRecoveryCodes()
	if err != nil {
		return nil, nil, err
	}
	hashes := make([][]byte, len(codes))
	for i, code := range codes {
		n, _ := totp.NormalizeRecoveryCode(code)
		h := totp.HashRecoveryCode(n)
		hashes[i] = h[:]
	}
	return codes, hashes, nil
}

// RemoveTOTP removes the authenticator app and the recovery codes.
func (s *Service) RemoveTOTP(ctx context.Context, p Principal, pw string, c Client) error {
	u, err := s.checkFactorChange(ctx, p, pw, c)
	if err != nil {
		return err
	}
	return s.removeTOTP(ctx, u, c, "")
}

// ResetFactors removes a user's second factors (their passkeys, then the
// authenticator app and the recovery codes) for an admin (c.Actor), for
// the person who lost their phone.
func (s *Service) ResetFactors(ctx context.Context, userID string, c Client) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		ev := AuditEvent{At: s.now(), Type: EventPasskeyRemoved, UserID: u.ID, IP: c.IP, Detail: joinDetail("passkey="+k.ID, c.by(""))}
		if err := s.store.DeletePasskey(ctx, u.ID, k.ID, false, nil, ev); err != nil && ErrorCode(err) != CodeNotFound {
			return err
		}
	}
	err = s.removeTOTP(ctx, u, c, c.by(""))
	if ErrorCode(err) == CodeNotEnrolled && len(keys) > 0 {
		// Passkeys only: their recovery codes, if any, go too.
		return s.store.SetRecoveryCodes(ctx, u.ID, nil, AuditEvent{At: s.now(), Type: EventMFARemoved, UserID: u.ID, IP: c.IP, Detail: joinDetail("passkeys", c.by(""))})
	}
	return err
}

func (s *Service) removeTOTP(ctx context.Context, u User, c Client, detail string) error {
	f, err := s.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	mail := s.queue(u, Mail{Kind: MailFactorChanged, Detail: "authenticator app removed"}, c, now)
	ev := AuditEvent{At: now, Type: EventMFARemoved, UserID: u.ID, IP: c.IP, Detail: joinDetail("totp", detail)}
	if err := s.store.DeleteTOTP(ctx, u.ID, f.Passkeys == 0, mail, ev); err != nil {
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeNotEnrolled, "no authenticator app is set up")
		}
		return err
	}
	s.queued(mail)
	return nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes, returning
// the new ones, shown this once; the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p Principal, pw string, c Client) ([]string, error) {
	u, err := s.checkFactorChange(ctx, p, pw, c)
	if err != nil {
		return nil, err
	}
	if f, err := s.Factors(ctx, u.ID); err != nil {
		return nil, err
	} else if !f.TOTP {
		return nil, Errorf(CodeNotEnrolled, "set up an authenticator app first")
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	ev := AuditEvent{At: s.now(), Type: EventMFAEnrolled, UserID: u.ID, IP: c.IP, Detail: "recovery codes"}
	if err := s.store.SetRecoveryCodes(ctx, u.ID, hashes, ev); err != nil {
		return nil, err
	}
	return codes, nil
}

// joinDetail joins two audit details with a space, either may be empty.
func joinDetail(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " " + b
}

// MFAPending is a sign-in waiting for a second factor: the single-use
// token that finishes it (LoginMFA) and the methods the user can use.
type MFAPending struct {
	Token   string
	Methods []string
	// Passkey, when "passkey" is among the methods, are the request
	// options ({"publicKey":{...}}) whose challenge belongs to Token.
	Passkey json.RawMessage
}

// secondStep lets st through when the user has no second factor; else it
// keeps st as an MFA challenge and answers CodeMFARequired with its token.
func (s *Service) secondStep(ctx context.Context, st loginStart) error {
	if s.mfa == nil {
		return nil
	}
	f, err := s.Factors(ctx, st.user.ID)
	if err != nil || !f.TOTP && f.Passkeys == 0 {
		return err
	}
	secret, hash := newSecret()
	now := s.now()
	c := MFAChallenge{Hash: hash[:], UserID: st.user.ID, Mode: st.mode, Remember: st.remember, Device: st.device, CreatedAt: now, ExpiresAt: now.Add(mfaTokenTTL)}
	if err := s.store.CreateMFAChallenge(ctx, c); err != nil {
		return err
	}
	pending := &MFAPending{Token: secret, Methods: f.Methods()}
	if f.Passkeys > 0 && s.pk != nil {
		if pending.Passkey, err = s.beginPasskeyFactor(ctx, st.user, hash[:]); err != nil {
			return err
		}
	}
	return &Error{Code: CodeMFARequired, Detail: "enter a code from your authenticator app, or use a passkey", MFA: pending}
}

// MFARequest is the second step of a sign-in: its token, and a code from
// the authenticator app or a recovery code.
type MFARequest struct {
	Token string
	// ChallengeID names the passkey ceremony of a step-up (BeginStepUp);
	// a sign-in's second step uses its Token instead.
	ChallengeID  string
	Code         string
	RecoveryCode string
	// Credential is a passkey's assertion (its toJSON() form).
	Credential []byte
	Client     Client
}

// LoginMFA finishes a sign-in that answered CodeMFARequired, with the
// mode, remember and device of its first step, at AAL2. A wrong code
// counts toward the account's lockout like a wrong password, and the
// fifth ends the token. The token is spent by the first right code.
func (s *Service) LoginMFA(ctx context.Context, req MFARequest) (LoginResult, error) {
	res, err := s.loginMFA(ctx, req)
	s.cfg.Metrics.Login(res.Login.Mode, loginOutcome(err)) // "other" when it failed
	return res, err
}

func (s *Service) loginMFA(ctx context.Context, req MFARequest) (LoginResult, error) {
	badToken := Errorf(CodeInvalidToken, "this sign-in expired or was finished; sign in again")
	if s.mfa == nil || len(req.Token) != secretLen || !validSecret(req.Token) {
		return LoginResult{}, badToken
	}
	hash := SHA256(req.Token)
	c, err := s.store.MFAChallenge(ctx, hash[:])
	switch {
	case ErrorCode(err) == CodeNotFound:
		return LoginResult{}, badToken
	case err != nil:
		return LoginResult{}, err
	case !s.now().Before(c.ExpiresAt):
		return LoginResult{}, badToken
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if err != nil {
		return LoginResult{}, err
	}
	var amr string
	_, err = s.throttledCheck(ctx, u.Email, req.Client, "second factor", func() (User, error) {
		var err error
		amr, err = s.checkSecondFactor(ctx, u, req, hash[:])
		return u, err
	})
	if ErrorCode(err) == CodeInvalidCode {
		if _, ferr := s.store.FailMFAChallenge(ctx, hash[:], maxMFAFailures); ferr != nil && ErrorCode(ferr) != CodeNotFound {
			s.log.Warn("counting a wrong second factor failed", "err", ferr)
		}
	}
	if err != nil {
		return LoginResult{}, err
	}
	if u.Disabled {
		return LoginResult{}, Errorf(CodeAccountDisabled, "this account is disabled")
	}
	if err := s.store.SpendMFAChallenge(ctx, hash[:]); err != nil {
		return LoginResult{}, err
	}
	s.passed(ctx, u.Email, req.Client)
	return s.startLogin(ctx, loginStart{
		user: u, mode: c.Mode, remember: c.Remember, device: c.Device, client: req.Client,
		aal: AAL2, amr: []string{AMRPassword, amr, AMRMFA},
	})
}

// checkSecondFactor checks the code or recovery code of req for u, and
// records its use: the TOTP step (so the code is not accepted again) or
// the spent recovery code. It returns the method's AMR value; a wrong or
// missing code is CodeInvalidCode, audited as mfa.failed.
func (s *Service) checkSecondFactor(ctx context.Context, u User, req MFARequest, mfaHash []byte) (string, error) {
	var err error = Errorf(CodeInvalidCode, "that code is not right")
	switch {
	case len(req.Credential) > 0:
		if req.Code != "" || req.RecoveryCode != "" || mfaHash == nil {
			break
		}
		// checkPasskeyFactor audits its refusals.
		if err := s.checkPasskeyFactor(ctx, u, mfaHash, req.Credential, req.Client); err != nil {
			return "", err
		}
		return AMRHardware, nil
	case req.Code != "" && req.RecoveryCode == "":
		var t TOTP
		if t, err = s.store.TOTP(ctx, u.ID); err == nil && t.Confirmed {
			var step int64
			if step, err = s.checkTOTP(t, req.Code); err == nil {
				err = s.store.UseTOTPStep(ctx, u.ID, step)
			}
		} else if err == nil || ErrorCode(err) == CodeNotFound {
			err = Errorf(CodeInvalidCode, "no authenticator app is set up")
		}
	case req.RecoveryCode != "" && req.Code == "":
		n, nerr := totp.NormalizeRecoveryCode(req.RecoveryCode)
		if nerr == nil {
			h := totp.HashRecoveryCode(n)
			now := s.now()
			mail := s.queue(u, Mail{Kind: MailFactorChanged, Detail: "a recovery code was used"}, req.Client, now)
			err = s.store.UseRecoveryCode(ctx, u.ID, h[:], mail, AuditEvent{At: now, Type: EventRecoveryCodeUsed, UserID: u.ID, IP: req.Client.IP})
			if err == nil {
				s.queued(mail)
			}
		}
	}
	if err == nil {
		return AMROTP, nil // a TOTP code and a recovery code alike
	}
	if ErrorCode(err) == CodeInvalidCode {
		s.audit(ctx, AuditEvent{Type: EventMFAFailed, UserID: u.ID, IP: req.Client.IP})
	}
	return "", err
}

// StepUp raises the principal's login to AAL2 with a second factor: it
// makes a new login at AAL2 (a new cookie secret, or new tokens: the
// secret changes with the privilege) and ends the old one. A user without
// a second factor gets CodeNotEnrolled; a wrong code counts toward the
// account's lockout.
func (s *Service) StepUp(ctx context.Context, p Principal, req MFARequest) (LoginResult, error) {
	if s.mfa == nil {
		return LoginResult{}, mfaOff()
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return LoginResult{}, err
	}
	if f, err := s.Factors(ctx, u.ID); err != nil {
		return LoginResult{}, err
	} else if !f.TOTP && f.Passkeys == 0 {
		return LoginResult{}, Errorf(CodeNotEnrolled, "set up an authenticator app or a passkey first")
	}
	var ceremony []byte
	if req.ChallengeID != "" {
		h := SHA256(req.ChallengeID)
		ceremony = h[:]
	}
	var amr string
	_, err = s.throttledCheck(ctx, u.Email, req.Client, "step-up", func() (User, error) {
		var err error
		amr, err = s.checkSecondFactor(ctx, u, req, ceremony)
		return u, err
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.passed(ctx, u.Email, req.Client)
	old, err := s.store.LoginByID(ctx, p.Login.ID)
	if err != nil {
		return LoginResult{}, err
	}
	res, err := s.startLogin(ctx, loginStart{
		user: u, mode: old.Mode, remember: old.Remember, device: old.Device, client: req.Client,
		aal: AAL2, amr: appendNew(old.AMR, amr, AMRMFA),
	})
	if err != nil {
		return LoginResult{}, err
	}
	s.audit(ctx, AuditEvent{Type: EventLoginSteppedUp, UserID: u.ID, IP: req.Client.IP, Detail: "session=" + res.Login.ID})
	if err := s.Logout(ctx, p, req.Client); err != nil {
		s.log.Warn("ending the login that stepped up failed", "err", err)
	}
	return res, nil
}

// BeginStepUp starts a step-up with one of the principal's passkeys: it
// answers request options and the challenge id that StepUp's request
// carries back with the credential. The ceremony is bound to the user,
// single use, and lives five minutes; beginning one counts toward the
// address's Limits.PasskeyBegins.
func (s *Service) BeginStepUp(ctx context.Context, p Principal, c Client) (PasskeyLogin, error) {
	if s.pk == nil {
		return PasskeyLogin{}, passkeysOff()
	}
	if err := s.spend(ctx, "passkey-begin", c.IP, s.cfg.Limits.PasskeyBegins, time.Minute); err != nil {
		return PasskeyLogin{}, err
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return PasskeyLogin{}, err
	}
	if f, err := s.Factors(ctx, u.ID); err != nil {
		return PasskeyLogin{}, err
	} else if f.Passkeys == 0 {
		return PasskeyLogin{}, Errorf(CodeNotEnrolled, "add a passkey first")
	}
	id, hash := newSecret()
	options, err := s.beginPasskeyFactor(ctx, u, hash[:])
	if err != nil {
		return PasskeyLogin{}, err
	}
	return PasskeyLogin{Options: options, ChallengeID: id}, nil
}

// appendNew appends to list the values it does not hold yet.
func appendNew(list []string, values ...string) []string {
	out := slices.Clone(list)
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

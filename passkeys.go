package gatehouse

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/passkey"
	"github.com/gatehouse/gatehouse/token"
)

// Passkeys (WebAuthn): registered by a signed-in user, used alone
// (passwordless, with user verification: AAL2 by itself) or as the second
// factor after a password. The ceremony states are kept in the store,
// sealed under the deployment secret, used once and for five minutes.

// PasskeyConfig says who the WebAuthn relying party is. The zero value
// means: the relying party id is the host of Config.PublicURL, and the
// allowed origin is its origin.
type PasskeyConfig struct {
	// RPID widens the relying party id to a parent domain of the
	// issuer's host ("example.com" for https://auth.example.com).
	RPID string
	// Origins are allowed besides the issuer's origin.
	Origins []string
	// RPName is the name authenticators show; "" means the RPID.
	RPName string
}

// webauthnSealInfo binds the ceremony states' sealing key to this use of
// the deployment secret.
const webauthnSealInfo = "gatehouse webauthn: seal ceremony states v1"

// webauthnTTL is how long a ceremony may take.
const webauthnTTL = 5 * time.Minute

// MaxPasskeyNameLength caps a passkey's name.
const MaxPasskeyNameLength = 64

// passkeyState is the passkey state of a Service.
type passkeyState struct {
	rp     *passkey.RelyingParty
	sealer *token.Sealer
}

// newPasskeyState makes the relying party of cfg. It returns nil when
// passkeys are off but the server may run: with the reason to log when
// the issuer cannot be a relying party by itself (an IP address, plain
// HTTP on a host that is not localhost, a public suffix), silently without
// an issuer; and an error when an explicit setting is wrong (an RPID or
// origins that do not fit).
func newPasskeyState(secret []byte, publicURL string, cfg PasskeyConfig) (*passkeyState, string, error) {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Host == "" {
		if cfg.RPID != "" {
			return nil, "", errors.New("gatehouse: passkeys: a relying party id needs PublicURL")
		}
		return nil, "", nil // a service without an issuer, such as the CLI's
	}
	rpID := cfg.RPID
	if rpID == "" {
		rpID = u.Hostname()
	}
	origins := append([]string{u.Scheme + "://" + u.Host}, cfg.Origins...)
	rp, err := passkey.New(passkey.Config{RPID: rpID, RPName: cfg.RPName, Origins: origins})
	switch {
	case errors.Is(err, passkey.ErrNeedsDomain) && cfg.RPID == "":
		return nil, fmt.Sprintf("the issuer's host %s is an IP address, and WebAuthn needs a domain name", u.Hostname()), nil
	case err != nil && cfg.RPID == "" && len(cfg.Origins) == 0:
		return nil, fmt.Sprintf("the issuer %s cannot be a WebAuthn relying party (%v)", publicURL, err), nil
	case err != nil:
		return nil, "", fmt.Errorf("gatehouse: passkeys: %w", err)
	}
	sealer, err := token.NewSealerFor(secret, webauthnSealInfo)
	if err != nil {
		return nil, "", err
	}
	return &passkeyState{rp: rp, sealer: sealer}, "", nil
}

func passkeysOff() error {
	return Errorf(CodePasskeysDisabled, "passkeys are not available on this server")
}

// PasskeysEnabled reports whether this server serves passkeys.
func (s *Service) PasskeysEnabled() bool { return s.pk != nil }

// sealAD binds a sealed ceremony state to its row.
func sealAD(hash []byte, kind, userID string) []byte {
	return []byte(base64.RawURLEncoding.EncodeToString(hash) + "|" + kind + "|" + userID)
}

// keepCeremony stores a ceremony's state under hash.
func (s *Service) keepCeremony(ctx context.Context, hash []byte, kind, userID string, state []byte) error {
	c := WebAuthnChallenge{
		Hash: hash, UserID: userID, Kind: kind,
		Sealed: s.pk.sealer.Seal(state, sealAD(hash, kind, userID)), ExpiresAt: s.now().Add(webauthnTTL),
	}
	return s.store.CreateWebAuthnChallenge(ctx, c)
}

// spendCeremony takes the state of the ceremony under hash, once; refused
// is returned when there is none, it expired, or it is another user's.
func (s *Service) spendCeremony(ctx context.Context, hash []byte, kind, userID string, refused error) ([]byte, error) {
	c, err := s.store.SpendWebAuthnChallenge(ctx, hash, kind)
	switch {
	case ErrorCode(err) == CodeNotFound:
		return nil, refused
	case err != nil:
		return nil, err
	case !s.now().Before(c.ExpiresAt) || c.UserID != userID:
		return nil, refused
	}
	state, err := s.pk.sealer.Open(c.Sealed, sealAD(hash, kind, userID))
	if err != nil {
		return nil, refused
	}
	return state, nil
}

// webauthnUser is u as the ceremonies know them: the user handle is the
// bytes of the user's id.
func webauthnUser(u User, keys []Passkey) passkey.User {
	pu := passkey.User{ID: []byte(u.ID), Name: u.Email}
	for _, k := range keys {
		pu.Credentials = append(pu.Credentials, passkey.Credential{
			ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.AttestationType, AAGUID: k.AAGUID,
			SignCount: k.SignCount, BackupEligible: k.BackupEligible, BackupState: k.BackupState, Transports: k.Transports,
		})
	}
	return pu
}

// credentialChallenge reads the challenge a credential (toJSON() form)
// answers, from its client data, to find its ceremony; the ceremony
// checks it again.
func credentialChallenge(credentialJSON []byte) ([]byte, bool) {
	var c struct {
		Response struct {
			ClientDataJSON string `json:"clientDataJSON"`
		} `json:"response"`
	}
	if len(credentialJSON) > 64<<10 || json.Unmarshal(credentialJSON, &c) != nil {
		return nil, false
	}
	cd, err := base64.RawURLEncoding.DecodeString(c.Response.ClientDataJSON)
	if err != nil {
		return nil, false
	}
	var d struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(cd, &d) != nil || d.Challenge == "" {
		return nil, false
	}
	h := SHA256(d.Challenge)
	return h[:], true
}

// optionsChallenge reads the challenge of options the relying party made.
func optionsChallenge(options []byte) ([]byte, error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil || o.PublicKey.Challenge == "" {
		return nil, fmt.Errorf("gatehouse: options without a challenge: %v", err)
	}
	h := SHA256(o.PublicKey.Challenge)
	return h[:], nil
}

// BeginPasskeyRegistration starts adding a passkey for the principal: it
// needs their password, unless the login is at AAL2 and recent. It
// returns the creation options ({"publicKey":{...}}).
func (s *Service) BeginPasskeyRegistration(ctx context.Context, p Principal, pw string, c Client) (json.RawMessage, error) {
	if s.pk == nil {
		return nil, passkeysOff()
	}
	u, err := s.checkFactorChange(ctx, p, pw, c)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	options, state, err := s.pk.rp.BeginRegistration(webauthnUser(u, keys))
	if err != nil {
		return nil, err
	}
	hash, err := optionsChallenge(options)
	if err != nil {
		return nil, err
	}
	if err := s.keepCeremony(ctx, hash, CeremonyRegister, u.ID, state); err != nil {
		return nil, err
	}
	return options, nil
}

// FinishPasskeyRegistration checks the authenticator's answer to the
// principal's registration and stores the passkey; an answer that does not
// verify (or whose ceremony is gone, expired or another user's) is
// CodeInvalidCredential.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, p Principal, name string, credentialJSON []byte, c Client) (Passkey, error) {
	if s.pk == nil {
		return Passkey{}, passkeysOff()
	}
	if err := CheckText("name", name, MaxPasskeyNameLength); err != nil {
		return Passkey{}, err
	}
	refused := Errorf(CodeInvalidCredential, "the passkey could not be registered; try again")
	hash, ok := credentialChallenge(credentialJSON)
	if !ok {
		return Passkey{}, refused
	}
	state, err := s.spendCeremony(ctx, hash, CeremonyRegister, p.User.ID, refused)
	if err != nil {
		return Passkey{}, err
	}
	u, err := s.store.UserByID(ctx, p.User.ID)
	if err != nil {
		return Passkey{}, err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return Passkey{}, err
	}
	cred, err := s.pk.rp.FinishRegistration(webauthnUser(u, keys), state, credentialJSON)
	if err != nil {
		s.log.Info("a passkey registration was refused", "user", u.ID, "err", err)
		return Passkey{}, refused
	}
	now := s.now()
	if name == "" {
		name = fmt.Sprintf("Passkey %d", len(keys)+1)
	}
	k := Passkey{
		ID: newID(), UserID: u.ID, Name: name, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		AttestationType: cred.AttestationType, AAGUID: cred.AAGUID, SignCount: cred.SignCount,
		BackupEligible: cred.BackupEligible, BackupState: cred.BackupState, Transports: cred.Transports, CreatedAt: now,
	}
	mail := s.queue(u, Mail{Kind: MailFactorChanged, Detail: "passkey added"}, c, now)
	ev := AuditEvent{At: now, Type: EventPasskeyAdded, UserID: u.ID, IP: c.IP, Detail: "passkey=" + k.ID}
	if err := s.store.AddPasskey(ctx, k, mail, ev); err != nil {
		return Passkey{}, err
	}
	s.queued(mail)
	return k, nil
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Service) ListPasskeys(ctx context.Context, userID string) ([]Passkey, error) {
	return s.store.Passkeys(ctx, userID)
}

// RenamePasskey names one of the principal's passkeys; another user's is
// CodeNotFound.
func (s *Service) RenamePasskey(ctx context.Context, p Principal, id, name string) (Passkey, error) {
	if err := CheckText("name", name, MaxPasskeyNameLength); err != nil {
		return Passkey{}, err
	}
	if name == "" {
		return Passkey{}, Errorf(CodeInvalidRequest, "name is required")
	}
	return s.store.RenamePasskey(ctx, p.User.ID, id, name)
}

// RemovePasskey removes one of the principal's passkeys (their password,
// unless the login is at AAL2 and recent); another user's is
// CodeNotFound. When it was their last factor, the recovery codes go too.
func (s *Service) RemovePasskey(ctx context.Context, p Principal, id, pw string, c Client) error {
	u, err := s.checkFactorChange(ctx, p, pw, c)
	if err != nil {
		return err
	}
	f, err := s.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	now := s.now()
	mail := s.queue(u, Mail{Kind: MailFactorChanged, Detail: "passkey removed"}, c, now)
	ev := AuditEvent{At: now, Type: EventPasskeyRemoved, UserID: u.ID, IP: c.IP, Detail: "passkey=" + id}
	if err := s.store.DeletePasskey(ctx, u.ID, id, !f.TOTP && f.Passkeys <= 1, mail, ev); err != nil {
		return err
	}
	s.queued(mail)
	return nil
}

// PasskeyLogin is the start of a passwordless sign-in: the request
// options ({"publicKey":{...}}) and the id that finishes it.
type PasskeyLogin struct {
	Options     json.RawMessage
	ChallengeID string
}

// BeginPasskeyLogin starts a passwordless sign-in: any of the site's
// discoverable passkeys, with user verification.
func (s *Service) BeginPasskeyLogin(ctx context.Context, c Client) (PasskeyLogin, error) {
	if s.pk == nil {
		return PasskeyLogin{}, passkeysOff()
	}
	// Each begins a ceremony the store keeps for five minutes: an address
	// may begin Limits.PasskeyBegins a minute.
	if err := s.spend(ctx, "passkey-begin", c.IP, s.cfg.Limits.PasskeyBegins, time.Minute); err != nil {
		return PasskeyLogin{}, err
	}
	options, state, err := s.pk.rp.BeginLogin(nil)
	if err != nil {
		return PasskeyLogin{}, err
	}
	id, hash := newSecret()
	if err := s.keepCeremony(ctx, hash[:], CeremonyLogin, "", state); err != nil {
		return PasskeyLogin{}, err
	}
	return PasskeyLogin{Options: options, ChallengeID: id}, nil
}

// PasskeyLoginRequest finishes a passwordless sign-in.
type PasskeyLoginRequest struct {
	ChallengeID string
	Credential  []byte
	Mode        Mode
	Remember    bool
	Device      string
	Client      Client
}

// FinishPasskeyLogin checks a passwordless sign-in's assertion and starts
// a login at AAL2. Any refusal (no user verification, a counter that went
// backwards, an unknown passkey, a spent or expired challenge) is
// CodeInvalidCredentials.
func (s *Service) FinishPasskeyLogin(ctx context.Context, req PasskeyLoginRequest) (LoginResult, error) {
	res, err := s.finishPasskeyLogin(ctx, req)
	s.cfg.Metrics.Login(req.Mode, loginOutcome(err))
	return res, err
}

func (s *Service) finishPasskeyLogin(ctx context.Context, req PasskeyLoginRequest) (LoginResult, error) {
	if s.pk == nil {
		return LoginResult{}, passkeysOff()
	}
	if req.Mode != ModeSession && req.Mode != ModeToken {
		return LoginResult{}, Errorf(CodeInvalidRequest, `mode must be "session" or "token"`)
	}
	if err := CheckText("device", req.Device, MaxDeviceLength); err != nil {
		return LoginResult{}, err
	}
	if req.Mode == ModeToken && s.tok == nil {
		return LoginResult{}, errNoTokenMode
	}
	refused := Errorf(CodeInvalidCredentials, "that passkey cannot sign in here; try again")
	if len(req.ChallengeID) != secretLen || !validSecret(req.ChallengeID) {
		return LoginResult{}, refused
	}
	hash := SHA256(req.ChallengeID)
	state, err := s.spendCeremony(ctx, hash[:], CeremonyLogin, "", refused)
	if err != nil {
		return LoginResult{}, err
	}
	u, key, login, err := s.checkAssertion(ctx, state, req.Credential, nil, req.Client)
	if err != nil {
		if ErrorCode(err) == CodeInvalidCode {
			return LoginResult{}, refused
		}
		return LoginResult{}, err
	}
	if !login.UserVerified { // FinishLogin refuses it; never without
		return LoginResult{}, refused
	}
	if u.Disabled {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: req.Client.IP, Detail: "account disabled"})
		return LoginResult{}, Errorf(CodeAccountDisabled, "this account is disabled")
	}
	if s.mail != nil && s.mail.cfg.RequireVerified && !u.EmailVerified {
		s.audit(ctx, AuditEvent{Type: EventLoginFailed, UserID: u.ID, IP: req.Client.IP, Detail: "email not verified"})
		return LoginResult{}, Errorf(CodeEmailUnverified, "confirm your email address first: open the link we sent you")
	}
	if err := s.usePasskey(ctx, key, login); err != nil {
		return LoginResult{}, err
	}
	device := req.Device
	if device == "" {
		device = DeviceName(req.Client.UserAgent)
	}
	return s.startLogin(ctx, loginStart{
		user: u, mode: req.Mode, remember: req.Remember, device: device, client: req.Client,
		aal: AAL2, amr: []string{AMRHardware, AMRUser, AMRMFA},
	})
}

// checkAssertion checks an assertion against the ceremony state: of the
// user only (a second factor) or of anyone (passwordless, only is nil).
// A refusal is CodeInvalidCode, audited as mfa.failed (with the reason
// when the counter went backwards).
func (s *Service) checkAssertion(ctx context.Context, state, credentialJSON []byte, only *User, c Client) (User, Passkey, passkey.Login, error) {
	var (
		u    User
		keys []Passkey
	)
	login, err := s.pk.rp.FinishLogin(state, credentialJSON, func(handle, credID []byte) (passkey.User, error) {
		id := string(handle)
		if only != nil && id != only.ID {
			return passkey.User{}, passkey.ErrInvalidCredential
		}
		var err error
		if u, err = s.store.UserByID(ctx, id); ErrorCode(err) == CodeNotFound {
			return passkey.User{}, fmt.Errorf("%w: no such user", passkey.ErrInvalidCredential)
		} else if err != nil {
			return passkey.User{}, err
		}
		if keys, err = s.store.Passkeys(ctx, u.ID); err != nil {
			return passkey.User{}, err
		}
		return webauthnUser(u, keys), nil
	})
	var key Passkey
	if err == nil {
		for _, k := range keys {
			if bytes.Equal(k.CredentialID, login.Credential.ID) {
				key = k
			}
		}
		if key.ID == "" {
			err = fmt.Errorf("%w: not the user's", passkey.ErrInvalidCredential)
		}
	}
	switch {
	case err == nil:
		return u, key, login, nil
	case errors.Is(err, passkey.ErrCounterWentBack):
		s.log.Warn("a passkey's signature counter went backwards: it may have been cloned", "user", u.ID, "err", err)
		s.audit(ctx, AuditEvent{Type: EventMFAFailed, UserID: u.ID, IP: c.IP, Detail: "passkey counter went backwards"})
	case errors.Is(err, passkey.ErrInvalidCredential) || errors.Is(err, passkey.ErrInvalidState):
		s.log.Info("a passkey assertion was refused", "err", err)
		if u.ID != "" {
			s.audit(ctx, AuditEvent{Type: EventMFAFailed, UserID: u.ID, IP: c.IP, Detail: "passkey"})
		}
	default:
		return User{}, Passkey{}, passkey.Login{}, err
	}
	return User{}, Passkey{}, passkey.Login{}, Errorf(CodeInvalidCode, "that passkey did not work")
}

// usePasskey records a sign-in with key: its counter (which must move
// forward, also against a concurrent sign-in), backup flags and last use.
func (s *Service) usePasskey(ctx context.Context, key Passkey, l passkey.Login) error {
	err := s.store.UsePasskey(ctx, PasskeyUse{
		ID: key.ID, SignCount: l.Credential.SignCount, BackupEligible: l.Credential.BackupEligible,
		BackupState: l.Credential.BackupState, At: s.now(),
	})
	if ErrorCode(err) == CodeInvalidCredentials {
		s.audit(ctx, AuditEvent{Type: EventMFAFailed, UserID: key.UserID, Detail: "passkey counter went backwards"})
	}
	return err
}

// beginPasskeyFactor starts a passkey as the second factor of the sign-in
// of the MFA challenge hash, and returns the request options.
func (s *Service) beginPasskeyFactor(ctx context.Context, u User, hash []byte) (json.RawMessage, error) {
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	pu := webauthnUser(u, keys)
	options, state, err := s.pk.rp.BeginLogin(&pu)
	if err != nil {
		return nil, err
	}
	if err := s.keepCeremony(ctx, hash, CeremonyMFA, u.ID, state); err != nil {
		return nil, err
	}
	return options, nil
}

// checkPasskeyFactor checks a passkey as the second factor of the sign-in
// of the MFA challenge hash; user presence suffices. A refusal is
// CodeInvalidCode.
func (s *Service) checkPasskeyFactor(ctx context.Context, u User, hash, credentialJSON []byte, c Client) error {
	if s.pk == nil {
		return Errorf(CodeInvalidCode, "passkeys are not available on this server")
	}
	refused := Errorf(CodeInvalidCode, "that passkey did not work; sign in again to use a passkey")
	state, err := s.spendCeremony(ctx, hash, CeremonyMFA, u.ID, refused)
	if err != nil {
		if ErrorCode(err) == CodeInvalidCode {
			s.audit(ctx, AuditEvent{Type: EventMFAFailed, UserID: u.ID, IP: c.IP, Detail: "passkey"})
		}
		return err
	}
	_, key, login, err := s.checkAssertion(ctx, state, credentialJSON, &u, c)
	if err != nil {
		return err
	}
	if err := s.usePasskey(ctx, key, login); ErrorCode(err) == CodeInvalidCredentials {
		return Errorf(CodeInvalidCode, "that passkey did not work")
	} else if err != nil {
		return err
	}
	return nil
}

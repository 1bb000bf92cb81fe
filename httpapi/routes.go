package httpapi

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// route registers a path's methods, and records each "METHOD /path"
	// so that a test can hold the routes to the OpenAPI document.
	route := func(path string, methods map[string]http.Handler) {
		HandleMethods(mux, path, methods, methodNotAllowed)
		for m := range methods {
			s.patterns = append(s.patterns, m+" "+path)
		}
	}

	route("/healthz", map[string]http.Handler{"GET": s.handleHealth()})
	route("/readyz", map[string]http.Handler{"GET": s.handleReady()})
	route("/openapi.json", map[string]http.Handler{"GET": s.handleOpenAPI()})
	route("/v1/users", map[string]http.Handler{"POST": s.handleRegister()})
	route("/v1/login", map[string]http.Handler{"POST": s.sameOrigin(s.handleLogin())})
	route("/v1/logout", map[string]http.Handler{"POST": s.authed(s.handleLogout())})
	route("/v1/me", map[string]http.Handler{"GET": s.authed(s.handleMe())})
	route("/v1/me/password", map[string]http.Handler{"PUT": s.authed(s.handleChangePassword())})
	route("/v1/mfa", map[string]http.Handler{"GET": s.authed(s.handleFactors())})
	route("/v1/mfa/totp", map[string]http.Handler{"POST": s.authed(s.handleEnrollTOTP()), "DELETE": s.authed(s.handleRemoveTOTP())})
	route("/v1/mfa/totp/confirm", map[string]http.Handler{"POST": s.authed(s.handleConfirmTOTP())})
	route("/v1/mfa/recovery-codes", map[string]http.Handler{"POST": s.authed(s.handleRecoveryCodes())})
	route("/v1/login/mfa", map[string]http.Handler{"POST": s.sameOrigin(s.handleLoginMFA())})
	route("/v1/passkeys/register/begin", map[string]http.Handler{"POST": s.passkeysOn(s.authed(s.handleBeginPasskeyRegistration()))})
	route("/v1/passkeys/register/finish", map[string]http.Handler{"POST": s.passkeysOn(s.authed(s.handleFinishPasskeyRegistration()))})
	route("/v1/passkeys", map[string]http.Handler{"GET": s.passkeysOn(s.authed(s.handlePasskeys()))})
	route("/v1/passkeys/{id}", map[string]http.Handler{
		"PATCH":  s.passkeysOn(s.authed(s.handleRenamePasskey())),
		"DELETE": s.passkeysOn(s.authed(s.handleRemovePasskey())),
	})
	route("/v1/login/passkey/begin", map[string]http.Handler{"POST": s.passkeysOn(s.sameOrigin(s.handleBeginPasskeyLogin()))})
	route("/v1/login/passkey/finish", map[string]http.Handler{"POST": s.passkeysOn(s.sameOrigin(s.handleFinishPasskeyLogin()))})
	route("/v1/login/step-up", map[string]http.Handler{"POST": s.authed(s.handleStepUp())})
	route("/v1/login/step-up/begin", map[string]http.Handler{"POST": s.passkeysOn(s.authed(s.handleBeginStepUp()))})
	route("/v1/me/email", map[string]http.Handler{"PUT": s.authed(s.handleChangeEmail())})
	route("/v1/me/apps", map[string]http.Handler{"GET": s.authed(s.handleMyApps())})
	route("/v1/me/apps/{id}", map[string]http.Handler{"DELETE": s.authed(s.handleRevokeMyApp())})
	route("/v1/recovery", map[string]http.Handler{"POST": s.sameOrigin(s.handleRecovery())})
	route("/v1/recovery/confirm", map[string]http.Handler{"POST": s.sameOrigin(s.handleRecoveryConfirm())})
	route("/v1/email/verification", map[string]http.Handler{"POST": s.authed(s.handleVerification())})
	route("/v1/email/verify", map[string]http.Handler{"POST": s.sameOrigin(s.handleVerifyEmail())})
	route("/v1/sessions", map[string]http.Handler{
		"GET":    s.authed(s.handleSessions()),
		"DELETE": s.authed(s.handleRevokeSessions()),
	})
	route("/v1/sessions/{id}", map[string]http.Handler{"DELETE": s.authed(s.handleRevokeSession())})
	route("/v1/token/refresh", map[string]http.Handler{"POST": s.handleRefresh()})
	route("/.well-known/jwks.json", map[string]http.Handler{"GET": s.handleJWKS()})
	route("/v1/verify", map[string]http.Handler{"GET": s.handleVerify()})
	route("/v1/roles", map[string]http.Handler{"GET": s.authed(s.handleRoles())})
	route("/v1/revocations", map[string]http.Handler{"GET": s.permitted(gatehouse.PermRevocationsRead, s.handleRevocations())})
	route("/v1/admin/users", map[string]http.Handler{"GET": s.permitted(gatehouse.PermUsersAdmin, s.handleAdminUsers())})
	route("/v1/admin/users/{id}", map[string]http.Handler{"PATCH": s.permitted(gatehouse.PermUsersAdmin, s.handleAdminPatchUser())})
	route("/v1/admin/users/{id}/mfa", map[string]http.Handler{
		"GET":    s.permitted(gatehouse.PermUsersAdmin, s.handleFactors()),
		"DELETE": s.permitted(gatehouse.PermUsersAdmin, s.handleAdminResetFactors()),
	})
	route("/v1/admin/users/{id}/recovery", map[string]http.Handler{"POST": s.permitted(gatehouse.PermUsersAdmin, s.handleAdminRecovery())})
	route("/v1/admin/users/{id}/sessions", map[string]http.Handler{"DELETE": s.permitted(gatehouse.PermUsersAdmin, s.handleAdminRevokeSessions())})
	route("/v1/admin/clients", map[string]http.Handler{
		"GET":  s.permitted(gatehouse.PermClientsAdmin, s.handleAdminClients()),
		"POST": s.permitted(gatehouse.PermClientsAdmin, s.handleAdminAddClient()),
	})
	route("/v1/admin/clients/{id}", map[string]http.Handler{"DELETE": s.permitted(gatehouse.PermClientsAdmin, s.handleAdminRemoveClient())})
	route("/v1/admin/audit", map[string]http.Handler{"GET": s.permitted(gatehouse.PermAuditRead, s.handleAdminAudit())})
	if s.cfg.Metrics != nil {
		route("/metrics", map[string]http.Handler{"GET": s.cfg.Metrics})
	}
	mux.Handle("/", notFound())
	return mux
}

package gatehouse

import "time"

// AuditEvent is one line of the audit log. Detail never holds a secret.
type AuditEvent struct {
	At     time.Time
	Type   string
	UserID string
	IP     string
	Detail string
}

// Audit event types.
const (
	EventUserCreated        = "user.created"
	EventLoginSucceeded     = "login.succeeded"
	EventLoginFailed        = "login.failed"
	EventLogout             = "logout"
	EventSessionRevoked     = "session.revoked"
	EventSessionEvicted     = "session.evicted"
	EventPasswordChanged    = "password.changed"
	EventUserDisabled       = "user.disabled"
	EventUserEnabled        = "user.enabled"
	EventUserRolesChanged   = "user.roles_changed"
	EventTokenRefreshed     = "token.refreshed"
	EventRefreshTokenReused = "refresh_token.reused"
	EventKeysRotated        = "keys.rotated"
	EventLoginThrottled     = "login.throttled"
)

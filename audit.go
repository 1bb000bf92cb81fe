package gatehouse

import (
	"slices"
	"strconv"
	"time"
)

// AuditEvent is one line of the audit log. Detail never holds a secret.
type AuditEvent struct {
	// ID is the event's place in the log, given by the store when it
	// records the event: a later event has a larger ID. It is 0 in an
	// event not yet recorded.
	ID     int64
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
	EventRecoveryRequested  = "recovery.requested"
	EventPasswordReset      = "password.reset"
	EventEmailVerified      = "email.verified"
	EventEmailChanged       = "email.changed"
	// EventVerificationRequested and EventEmailChangeRequested record a
	// verification or change-of-address link sent.
	EventVerificationRequested = "email.verification_requested"
	EventEmailChangeRequested  = "email.change_requested"
	EventMFAEnrolled           = "mfa.enrolled"
	EventMFARemoved            = "mfa.removed"
	EventMFAFailed             = "mfa.failed"
	EventRecoveryCodeUsed      = "recovery_code.used"
	EventPasskeyAdded          = "passkey.added"
	EventPasskeyRemoved        = "passkey.removed"
	EventLoginSteppedUp        = "login.stepped_up"
	EventEmailSent             = "email.sent"
	EventEmailFailed           = "email.failed"
	// EventClientCreated and EventClientRemoved record an administrator
	// adding or removing an OpenID Connect client (an App).
	EventClientCreated = "client.created"
	EventClientRemoved = "client.removed"
	// EventConsentGranted and EventConsentRevoked record a user's consent
	// to an app given or taken back.
	EventConsentGranted = "consent.granted"
	EventConsentRevoked = "consent.revoked"
)

// eventTypes lists the event types above, in the order of their list.
var eventTypes = []string{
	EventUserCreated, EventLoginSucceeded, EventLoginFailed, EventLoginThrottled, EventLogout,
	EventSessionRevoked, EventSessionEvicted, EventPasswordChanged, EventUserDisabled,
	EventUserEnabled, EventUserRolesChanged, EventTokenRefreshed, EventRefreshTokenReused, EventKeysRotated,
	EventRecoveryRequested, EventPasswordReset, EventVerificationRequested, EventEmailVerified,
	EventEmailChangeRequested, EventEmailChanged, EventEmailSent, EventEmailFailed,
	EventMFAEnrolled, EventMFARemoved, EventMFAFailed, EventRecoveryCodeUsed, EventLoginSteppedUp,
	EventPasskeyAdded, EventPasskeyRemoved,
	EventClientCreated, EventClientRemoved, EventConsentGranted, EventConsentRevoked,
	EventCodeReused,
}

// EventTypes returns the audit event types the server records.
func EventTypes() []string { return slices.Clone(eventTypes) }

// AuditQuery selects audit events, newest first. Its zero fields select
// everything.
type AuditQuery struct {
	// UserID keeps the events of this user.
	UserID string
	// Type keeps the events of this type (one of EventTypes, though any
	// well-formed name is accepted and may match nothing).
	Type string
	// Before, when not 0, keeps the events whose ID is below it: the ID of
	// the last event of a page is where the next page starts.
	Before int64
	// Limit is the most events returned; below 1 returns none.
	Limit int
}

// maxTypeLength bounds an event type in a query.
const maxTypeLength = 64

// check refuses a query that no event could match because it is not
// text, or whose names are not shaped like names, with CodeInvalidRequest.
func (q AuditQuery) check() error {
	if err := CheckText("user", q.UserID, maxCursorLength); err != nil {
		return err
	}
	if q.Type != "" && !validName(q.Type, maxTypeLength) {
		return Errorf(CodeInvalidRequest, "type must be an event type such as user.created")
	}
	if q.Before < 0 {
		return Errorf(CodeInvalidRequest, "the cursor must be one a page of the audit log gave")
	}
	return nil
}

// ParseAuditCursor reads the cursor of a page of the audit log (an
// AuditQuery.Before, written in decimal), as a query string carries it:
// "" is 0, the first page; anything but a positive integer is
// CodeInvalidRequest.
func ParseAuditCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, Errorf(CodeInvalidRequest, "the cursor must be one a page of the audit log gave")
	}
	return n, nil
}

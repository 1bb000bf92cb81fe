package gatehouse

// Metrics receives counts of what the service does. Package metrics
// implements it with Prometheus; the zero Config uses a no-op.
type Metrics interface {
	// Login counts a login attempt by mode and outcome: "succeeded",
	// "failed", "throttled", "disabled", "invalid" or "error".
	Login(mode Mode, outcome string)
	// RefreshReused counts a retired refresh token presented again.
	RefreshReused()
	// Throttled counts a request refused by a limit: "login",
	// "register" or "refresh".
	Throttled(kind string)
	// Mail counts a message queued ("queued") and each delivery attempt
	// of the outbox by outcome: "sent", "retried" or "failed" (given up).
	Mail(outcome string)
}

type noMetrics struct{}

func (noMetrics) Login(Mode, string) {}
func (noMetrics) RefreshReused()     {}
func (noMetrics) Throttled(string)   {}
func (noMetrics) Mail(string)        {}

// loginOutcome names the outcome of a login attempt for Metrics.
func loginOutcome(err error) string {
	switch ErrorCode(err) {
	case "":
		if err != nil {
			return "error"
		}
		return "succeeded"
	case CodeInvalidCredentials:
		return "failed"
	case CodeTooManyAttempts:
		return "throttled"
	case CodeAccountDisabled:
		return "disabled"
	case CodeInvalidRequest:
		return "invalid"
	default:
		return "error"
	}
}

package gatehouse

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/token"
)

// QueuedMail is a message in the outbox: a Mail sealed under the
// deployment secret, since it may carry a one-time link. It is written in
// the same transaction as the change it belongs to, and deleted once sent.
type QueuedMail struct {
	ID        int64 // given by the store
	UserID    string
	Kind      MailKind
	Sealed    []byte
	CreatedAt time.Time
	// NextAt is when the message is next due: a claim moves it to the end
	// of its lease, a failure to the next attempt.
	NextAt   time.Time
	Attempts int
}

// OutboxStore keeps messages until they are delivered. Messages are
// queued by the writes they belong to (CreateEmailToken, UpdateUser).
type OutboxStore interface {
	// ClaimMail returns up to limit messages due at now, oldest first,
	// and moves their NextAt to until: until then no other claim returns
	// them, so that of several servers one sends each message.
	ClaimMail(ctx context.Context, now, until time.Time, limit int) ([]QueuedMail, error)
	// FinishMail deletes a message, sent or given up, and records ev.
	FinishMail(ctx context.Context, id int64, ev AuditEvent) error
	// RetryMail sets a message's attempts and when it is next due.
	RetryMail(ctx context.Context, id int64, attempts int, next time.Time) error
	// OutboxStats returns how many messages wait and when the oldest was
	// queued (the zero time when none).
	OutboxStats(ctx context.Context) (n int, oldest time.Time, err error)
}

// Delivery: a claim leases a batch for mailLease; each send may take
// mailSendMax, and none starts when less than twice that is left of the
// lease (the rest is claimed again when it ends). A failed message waits
// mailRetryFirst, doubling with each failure up to mailRetryMax, and is
// given up mailGiveUp after it was queued.
const (
	mailBatch      = 50
	mailLease      = 5 * time.Minute
	mailSendMax    = time.Minute
	mailRetryFirst = 15 * time.Second
	mailRetryMax   = time.Hour
	mailGiveUp     = 24 * time.Hour
	mailPoll       = 5 * time.Second
)

// mailSealInfo binds the outbox's sealing key to this use of the
// deployment secret.
const mailSealInfo = "gatehouse outbox: seal messages v1"

// mailer is the email state of a Service: nil when email is off.
type mailer struct {
	cfg    EmailConfig
	sealer *token.Sealer
	queued chan struct{} // a message was queued here: deliver now
}

func newMailer(cfg EmailConfig) (*mailer, error) {
	sealer, err := token.NewSealerFor(cfg.Secret, mailSealInfo)
	if err != nil {
		return nil, err
	}
	return &mailer{cfg: cfg, sealer: sealer, queued: make(chan struct{}, 1)}, nil
}

// seal makes m a message for the outbox, due at once. The sealed data is
// bound to the user, so it cannot be moved to another's row.
func (ml *mailer) seal(userID string, m Mail, now time.Time) QueuedMail {
	b, _ := json.Marshal(m) // a Mail always marshals
	return QueuedMail{UserID: userID, Kind: m.Kind, Sealed: ml.sealer.Seal(b, []byte(userID)), CreatedAt: now, NextAt: now}
}

func (ml *mailer) open(q QueuedMail) (Mail, error) {
	b, err := ml.sealer.Open(q.Sealed, []byte(q.UserID))
	if err != nil {
		return Mail{}, err
	}
	var m Mail
	err = json.Unmarshal(b, &m)
	return m, err
}

// wake tells the sender a message was queued.
func (ml *mailer) wake() {
	select {
	case ml.queued <- struct{}{}:
	default:
	}
}

// runOutbox delivers the outbox until ctx ends: at once when a message is
// queued here, and every mailPoll for those queued elsewhere or due again.
func (s *Service) runOutbox(ctx context.Context) {
	poll := time.NewTicker(mailPoll)
	defer poll.Stop()
	for {
		if _, err := s.DeliverMail(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reading the outbox failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		case <-s.mail.queued:
		}
	}
}

// DeliverMail sends the messages due now, batch after batch, and returns
// how many were sent. A message that fails waits longer each time and is
// given up, with an email.failed event, a day after it was queued.
func (s *Service) DeliverMail(ctx context.Context) (int, error) {
	if s.mail == nil {
		return 0, nil
	}
	sent := 0
	for {
		now := s.now()
		until := now.Add(mailLease)
		batch, err := s.store.ClaimMail(ctx, now, until, mailBatch)
		if err != nil {
			return sent, err
		}
		for _, q := range batch {
			if s.now().After(until.Add(-2 * mailSendMax)) {
				return sent, nil
			}
			if s.deliver(ctx, q) {
				sent++
			}
		}
		if len(batch) < mailBatch || ctx.Err() != nil {
			return sent, ctx.Err()
		}
	}
}

// deliver sends one claimed message and records what came of it.
func (s *Service) deliver(ctx context.Context, q QueuedMail) bool {
	m, err := s.mail.open(q)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, mailSendMax)
		err = s.mail.cfg.Mailer.Send(sctx, m)
		cancel()
	}
	now := s.now()
	ev := AuditEvent{At: now, UserID: q.UserID, Detail: "kind=" + string(q.Kind)}
	switch {
	case err == nil:
		ev.Type = EventEmailSent
		s.cfg.Metrics.Mail("sent")
		if err := s.store.FinishMail(ctx, q.ID, ev); err != nil {
			s.log.Warn("removing a sent message from the outbox failed; it may be sent again", "err", err)
		}
		return true
	case now.Sub(q.CreatedAt) >= mailGiveUp:
		ev.Type = EventEmailFailed
		ev.Detail += " attempts=" + strconv.Itoa(q.Attempts+1)
		s.cfg.Metrics.Mail("failed")
		s.log.Error("giving up a message", "kind", q.Kind, "attempts", q.Attempts+1, "err", err)
		if err := s.store.FinishMail(ctx, q.ID, ev); err != nil {
			s.log.Warn("removing a failed message from the outbox failed", "err", err)
		}
	default:
		s.cfg.Metrics.Mail("retried")
		s.log.Warn("sending a message failed; it will be retried", "kind", q.Kind, "attempts", q.Attempts+1, "err", err)
		if err := s.store.RetryMail(ctx, q.ID, q.Attempts+1, now.Add(retryDelay(q.Attempts+1))); err != nil {
			s.log.Warn("rescheduling a message failed", "err", err)
		}
	}
	return false
}

// retryDelay is how long a message waits after its nth failure.
func retryDelay(n int) time.Duration {
	d := mailRetryFirst
	for i := 1; i < n && d < mailRetryMax; i++ {
		d *= 2
	}
	return min(d, mailRetryMax)
}

// Outbox returns how many messages wait and the age of the oldest, for
// monitoring.
func (s *Service) Outbox(ctx context.Context) (int, time.Duration, error) {
	n, oldest, err := s.store.OutboxStats(ctx)
	if err != nil || n == 0 {
		return n, 0, err
	}
	return n, s.now().Sub(oldest), nil
}

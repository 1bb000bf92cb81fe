package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse"
)

// Revocation feed settings.
const (
	feedPageSize = 1000
	// feedKeepAlive is how often an idle event stream sends a comment, so
	// proxies and clients can tell a quiet stream from a dead one.
	feedKeepAlive = 15 * time.Second
	// feedWriteTimeout bounds each write to a stream subscriber.
	feedWriteTimeout = 10 * time.Second
	// recheckEvery is how often a stream checks its own credential again.
	recheckEvery = time.Second
)

// feedEvent is one revocation as the feed publishes it: sid is the
// revoked login (empty for a roles_changed entry, which concerns every
// token of sub issued before at).
type feedEvent struct {
	SID    string    `json:"sid"`
	Sub    string    `json:"sub"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

func toFeedEvent(e gatehouse.RevocationEvent) feedEvent {
	return feedEvent{SID: e.LoginID, Sub: e.UserID, At: e.At, Reason: e.Reason}
}

// handleRevocations serves the revocation feed: a page of entries after
// the cursor as JSON, or, with Accept: text/event-stream, every entry as
// it happens (the event id is the cursor, so a client resumes with
// Last-Event-ID).
func (s *Server) handleRevocations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after, err := feedCursor(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			s.streamRevocations(w, r, after)
			return
		}
		events, err := s.svc.Revocations(r.Context(), after, feedPageSize)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out := make([]feedEvent, 0, len(events))
		for _, e := range events {
			out = append(out, toFeedEvent(e))
			after = e.Seq
		}
		encode(w, http.StatusOK, map[string]any{"events": out, "cursor": strconv.FormatInt(after, 10)})
	})
}

// feedCursor reads the cursor from Last-Event-ID or ?after=.
func feedCursor(r *http.Request) (int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, gatehouse.Errorf(gatehouse.CodeInvalidRequest, "the cursor must be one the feed returned")
	}
	return n, nil
}

// streamRevocations sends feed entries as server-sent events until the
// client goes away or the stream's own credential stops working: it is
// checked again every recheckEvery, and when its login is revoked or has
// expired (the stream is no activity, so an idle session expires under
// it), its user is disabled or the permission is lost, the stream ends
// and sends nothing more.
func (s *Server) streamRevocations(w http.ResponseWriter, r *http.Request, after int64) {
	p, _ := gatehouse.FromContext(r.Context())
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	keepAlive := time.NewTicker(feedKeepAlive)
	defer keepAlive.Stop()
	recheck := time.NewTicker(recheckEvery)
	defer recheck.Stop()
	still := func() bool {
		q, err := s.recheck(r)
		return err == nil && q.Login.ID == p.Login.ID && q.Can(gatehouse.PermRevocationsRead)
	}
	for {
		changed := s.svc.FeedChanged() // before reading, so nothing slips between
		if !still() {
			return
		}
		events, err := s.svc.Revocations(r.Context(), after, feedPageSize)
		if err != nil {
			s.log.Warn("revocation stream: reading the feed failed", "err", err)
			return
		}
		rc.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
		for _, e := range events {
			data, _ := json.Marshal(toFeedEvent(e))
			fmt.Fprintf(w, "id: %d\nevent: revocation\ndata: %s\n\n", e.Seq, data)
			after = e.Seq
		}
		if err := rc.Flush(); err != nil {
			return
		}
		if len(events) == feedPageSize {
			continue
		}
		// Wait for the feed to change, checking the credential and
		// keeping the stream alive meanwhile.
	wait:
		for {
			select {
			case <-r.Context().Done():
				return
			case <-changed:
				break wait
			case <-recheck.C:
				if !still() {
					return
				}
			case <-keepAlive.C:
				rc.SetWriteDeadline(time.Now().Add(feedWriteTimeout))
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
	}
}

package guard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/gatehouse/gatehouse/token"
)

// Revocation feed settings.
const (
	// idleTimeout is how long a stream may stay silent before it is taken
	// for dead; Gatehouse sends a keep-alive every 15 seconds.
	idleTimeout = 40 * time.Second
	// Reconnections wait from minBackoff, doubling up to maxBackoff.
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
	// maxEventBytes bounds one line of the stream.
	maxEventBytes = 64 << 10
	// maxAnswerBytes bounds the other answers, a feed page the largest.
	maxAnswerBytes = 4 << 20
)

// errRenew ends a stream on purpose, shortly before its access token
// expires (Gatehouse would end it then), to reconnect with a fresh one.
var errRenew = errors.New("access token renewal")

// errIdle ends a stream that stayed silent for longer than idleTimeout.
var errIdle = errors.New("no data from the stream for " + idleTimeout.String())

// feed follows Gatehouse's revocation feed, signed in as a service
// account, and keeps the revocations that can still matter.
type feed struct {
	base     string
	email    string
	password string
	client   *http.Client // for calls; stream uses a copy without Timeout
	stream   *http.Client
	log      *slog.Logger
	now      func() time.Time // see WithClock
	maxStale time.Duration
	epoch    time.Time // origin of downSince
	// downSince is 1 + the time since epoch at which the feed stopped
	// being followed, or 0 while a stream is open.
	downSince atomic.Int64

	revs revocations

	// The rest is used by one goroutine at a time: New, then run, then
	// Close.
	cursor   string
	access   string
	refresh  string
	expires  time.Time
	lifetime time.Duration // of an access token
}

func newFeed(base string, cfg config) *feed {
	stream := *cfg.client
	stream.Timeout = 0
	f := &feed{
		base: base, email: cfg.email, password: cfg.password,
		client: cfg.client, stream: &stream, log: cfg.log, now: cfg.now, maxStale: cfg.maxStale,
		epoch: cfg.now(),
		revs:  revocations{sids: make(map[string]time.Time), subs: make(map[string]rolesChange)},
	}
	f.markDown(f.epoch)
	return f
}

// stale reports whether, at now (a reading of f.now), the feed has
// been down for longer than maxStale.
func (f *feed) stale(now time.Time) bool {
	d := f.downSince.Load()
	return d != 0 && now.Sub(f.epoch)-time.Duration(d-1) > f.maxStale
}

// markDown records that the feed is not followed since t, unless it was
// already down.
func (f *feed) markDown(t time.Time) {
	f.downSince.CompareAndSwap(0, int64(t.Sub(f.epoch))+1)
}

// start signs in and reads the recent feed, so that the Guard knows the
// revocations of the last access-token lifetime before it lets a token in.
func (f *feed) start(ctx context.Context) error {
	if err := f.login(ctx); err != nil {
		return err
	}
	for {
		prev, path := f.cursor, "/v1/revocations"
		if prev != "" {
			path += "?after=" + url.QueryEscape(prev)
		}
		var page struct {
			Events []feedEvent `json:"events"`
			Cursor string      `json:"cursor"`
		}
		if err := f.call(ctx, http.MethodGet, path, f.access, nil, &page); err != nil {
			return fmt.Errorf("reading the revocation feed: %w", err)
		}
		for _, ev := range page.Events {
			f.apply(ev)
		}
		if len(page.Events) == 0 || page.Cursor == "" || page.Cursor == prev {
			return nil
		}
		f.cursor = page.Cursor
	}
}

// run follows the feed as an event stream until ctx ends, reconnecting
// with Last-Event-ID after a disconnection.
func (f *feed) run(ctx context.Context) {
	wait := minBackoff
	for {
		up, err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case errors.Is(err, errRenew):
			f.log.Debug("guard: renewing the revocation stream")
			wait = 0
		case up:
			f.log.Warn("guard: the revocation stream ended; reconnecting", "err", err)
			wait = minBackoff
		default:
			f.log.Warn("guard: connecting to the revocation stream failed", "err", err, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait + rand.N(wait/4+1)):
		}
		wait = min(max(2*wait, minBackoff), maxBackoff)
	}
}

// follow opens one event stream and applies its events until it ends. It
// reports whether the stream was open at all.
func (f *feed) follow(ctx context.Context) (up bool, err error) {
	heard := f.now()
	defer func() {
		if errors.Is(err, errIdle) {
			f.markDown(heard)
		} else {
			f.markDown(f.now())
		}
	}()
	tok, err := f.accessToken(ctx)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go f.renewAt(sctx, f.expires.Add(-renewBefore(f.lifetime)), cancel)
	idle := time.AfterFunc(idleTimeout, func() { cancel(errIdle) })
	defer idle.Stop()
	defer func() {
		if cause := context.Cause(sctx); cause != nil && ctx.Err() == nil {
			err = cause
		}
	}()

	req, err := http.NewRequestWithContext(sctx, http.MethodGet, f.base+"/v1/revocations", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tok)
	if f.cursor != "" {
		req.Header.Set("Last-Event-ID", f.cursor)
	}
	resp, err := f.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized {
			f.access = "" // refresh it before the next attempt
		}
		return false, responseError(resp)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, fmt.Errorf("GET /v1/revocations: Content-Type %q, want text/event-stream", ct)
	}
	f.downSince.Store(0)

	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 4096), maxEventBytes)
	var id, event string
	var data []byte
	for sc.Scan() {
		heard = f.now()
		idle.Reset(idleTimeout)
		line := sc.Bytes()
		if len(line) == 0 { // the end of an event: dispatch it
			if event == "revocation" && len(data) > 0 {
				f.applyJSON(data)
			}
			if id != "" {
				f.cursor = id
			}
			id, event, data = "", "", data[:0]
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "id":
			id = string(value)
		case "event":
			event = string(value)
		case "data":
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, value...)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, io.ErrUnexpectedEOF
}

// feedEvent is one entry of the feed. An entry with a sid revokes that
// login; one without, of reason roles_changed, makes every token of sub
// issued before at stale.
type feedEvent struct {
	SID    string    `json:"sid"`
	Sub    string    `json:"sub"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

func (f *feed) applyJSON(data []byte) {
	var ev feedEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		f.log.Error("guard: skipping a malformed revocation event", "err", err)
		return
	}
	f.apply(ev)
}

// apply records ev for one access-token lifetime (plus the most leeway a
// verifier allows), after which no token it concerns can still be valid.
func (f *feed) apply(ev feedEvent) {
	forget := f.now().Add(f.lifetime + token.MaxLeeway)
	switch {
	case ev.SID != "":
		f.revs.revoke(ev.SID, forget)
	case ev.Reason == "roles_changed" && ev.Sub != "":
		f.revs.rolesChanged(ev.Sub, ev.At, forget)
	}
}

// renewAt ends a stream with errRenew, through cancel, once the clock
// reaches at, or returns when ctx ends first. It waits on a timer of real
// time and reads the clock when it fires, until the clock is there: a
// clock that is time.Now is there at the first firing; one that a test
// moves forward is seen there at the next.
func (f *feed) renewAt(ctx context.Context, at time.Time, cancel context.CancelCauseFunc) {
	t := time.NewTimer(at.Sub(f.now()))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			left := at.Sub(f.now())
			if left <= 0 {
				cancel(errRenew)
				return
			}
			t.Reset(left)
		}
	}
}

// renewBefore is how long before its expiry an access token is renewed.
func renewBefore(lifetime time.Duration) time.Duration {
	return min(lifetime/5, time.Minute)
}

// accessToken returns the service account's access token, refreshed or
// signed in again when it is about to expire.
func (f *feed) accessToken(ctx context.Context) (string, error) {
	if f.access != "" && f.expires.Sub(f.now()) > renewBefore(f.lifetime) {
		return f.access, nil
	}
	if f.refresh != "" {
		err := f.tokens(ctx, "/v1/token/refresh", map[string]string{"refresh_token": f.refresh})
		var se *statusError
		if !errors.As(err, &se) || se.status != http.StatusUnauthorized {
			return f.access, err
		}
		f.log.Info("guard: the service account's refresh token was refused; signing in again", "err", err)
	}
	if err := f.login(ctx); err != nil {
		return "", err
	}
	return f.access, nil
}

// login signs the service account in, in token mode.
func (f *feed) login(ctx context.Context) error {
	err := f.tokens(ctx, "/v1/login", map[string]string{"email": f.email, "password": f.password, "mode": "token"})
	if err != nil {
		return fmt.Errorf("signing in the service account %s: %w", f.email, err)
	}
	return nil
}

// tokens posts body to a path that answers with a token pair, and keeps
// the pair.
func (f *feed) tokens(ctx context.Context, path string, body any) error {
	var pair struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int    `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	start := f.now()
	if err := f.call(ctx, http.MethodPost, path, "", body, &pair); err != nil {
		return err
	}
	if pair.AccessToken == "" || pair.RefreshToken == "" || pair.ExpiresIn <= 0 {
		return fmt.Errorf("POST %s: no token pair in the answer", path)
	}
	f.access, f.refresh = pair.AccessToken, pair.RefreshToken
	f.lifetime = time.Duration(pair.ExpiresIn) * time.Second
	// A token's exp has whole seconds: it may come up to a second before
	// expires_in says.
	f.expires = start.Add(f.lifetime - time.Second)
	return nil
}

// logout ends the service account's login, so that a Guard that is closed
// leaves no live login behind. It is best effort.
func (f *feed) logout() {
	if f.access == "" || !f.now().Before(f.expires) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := f.call(ctx, http.MethodPost, "/v1/logout", f.access, struct{}{}, nil); err != nil {
		f.log.Warn("guard: signing the service account out failed", "err", err)
	}
	f.access, f.refresh = "", ""
}

// call sends a JSON request to Gatehouse, with bearer when not empty, and
// decodes a successful answer into out unless it is nil.
func (f *feed) call(ctx context.Context, method, path, bearer string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return responseError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAnswerBytes)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// statusError is an answer of Gatehouse other than a success.
type statusError struct {
	method, path string
	status       int
	code         string // the problem's code, if any
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	if e.code != "" {
		msg += " (" + e.code + ")"
	}
	return msg
}

// responseError reads the problem details of a failed answer.
func responseError(resp *http.Response) error {
	var p struct {
		Code string `json:"code"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&p)
	return &statusError{method: resp.Request.Method, path: resp.Request.URL.Path, status: resp.StatusCode, code: p.Code}
}

// revocations are the logins revoked and the role changes made within
// the last access-token lifetime.
type revocations struct {
	mu   sync.RWMutex
	sids map[string]time.Time   // revoked login → when to forget it
	subs map[string]rolesChange // user → the latest change of their roles
}

type rolesChange struct {
	at     time.Time // tokens issued before are stale
	forget time.Time
}

// check refuses a token of login sid, user sub, issued at iat, if the
// login was revoked or the token is stale after a change of the user's
// roles, by the server's rule, gatehouse.RolesStale: issued before the
// change, taken to its second.
func (r *revocations) check(sid, sub string, iat time.Time) *Error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.sids[sid]; ok {
		return errRevoked
	}
	if c, ok := r.subs[sub]; ok && gatehouse.RolesStale(iat, c.at) {
		return errStaleRoles
	}
	return nil
}

func (r *revocations) revoke(sid string, forget time.Time) {
	r.mu.Lock()
	r.sids[sid] = forget
	r.mu.Unlock()
}

func (r *revocations) rolesChanged(sub string, at, forget time.Time) {
	r.mu.Lock()
	if c, ok := r.subs[sub]; !ok || at.After(c.at) {
		r.subs[sub] = rolesChange{at: at, forget: forget}
	}
	r.mu.Unlock()
}

// sweep forgets what no valid token can concern any more.
func (r *revocations) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for sid, forget := range r.sids {
		if now.After(forget) {
			delete(r.sids, sid)
		}
	}
	for sub, c := range r.subs {
		if now.After(c.forget) {
			delete(r.subs, sub)
		}
	}
}

// Package metrics exposes what a Gatehouse server does as Prometheus
// metrics: requests by route and status with their latency, logins by mode
// and outcome, live logins, refresh-token reuse, throttled requests, store
// errors, and the outbox's deliveries and backlog.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a registry of Gatehouse's metrics. It implements
// gatehouse.Metrics.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	logins      *prometheus.CounterVec
	reused      prometheus.Counter
	throttled   *prometheus.CounterVec
	storeErrors prometheus.Counter
	mail        *prometheus.CounterVec
}

var _ gatehouse.Metrics = (*Metrics)(nil)

// New registers the metrics. liveLogins, when not nil, is asked for the
// number of live logins at each scrape.
func New(liveLogins func(context.Context) (int, error)) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gatehouse_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_logins_total", Help: "Login attempts by mode and outcome.",
		}, []string{"mode", "outcome"}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_refresh_token_reuse_total", Help: "Retired refresh tokens presented again (the login was revoked).",
		}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_throttled_total", Help: "Requests refused by a rate limit, by kind.",
		}, []string{"kind"}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gatehouse_store_errors_total", Help: "Requests answered 503 because the store (or Redis) failed.",
		}),
		mail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_mail_total", Help: "Messages queued in the outbox, and delivery attempts by outcome: sent, retried, failed (given up).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.logins, m.reused, m.throttled, m.storeErrors, m.mail,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if liveLogins != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_live_logins", Help: "Logins of both modes that are live now (read from the store at each scrape).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			defer cancel()
			n, err := liveLogins(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return m
}

// scrapeTimeout bounds a store read made for a scrape.
const scrapeTimeout = 2 * time.Second

// WatchOutbox registers the outbox's gauges, read from outbox at each
// scrape: how many messages wait, and the age of the oldest. Both are -1
// when the read fails.
func (m *Metrics) WatchOutbox(outbox func(context.Context) (int, time.Duration, error)) {
	read := func() (int, time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		return outbox(ctx)
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gatehouse_outbox_messages", Help: "Messages waiting in the outbox (read from the store at each scrape).",
	}, func() float64 {
		n, _, err := read()
		if err != nil {
			return -1
		}
		return float64(n)
	}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gatehouse_outbox_oldest_seconds", Help: "Age of the oldest message in the outbox; 0 when it is empty.",
	}, func() float64 {
		_, age, err := read()
		if err != nil {
			return -1
		}
		return age.Seconds()
	}))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request records one HTTP request. route is the mux pattern, which keeps
// the label's values few (never the raw path, which holds ids).
func (m *Metrics) Request(route string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
	if status == http.StatusServiceUnavailable {
		m.storeErrors.Inc()
	}
}

// Login implements gatehouse.Metrics.
func (m *Metrics) Login(mode gatehouse.Mode, outcome string) {
	if mode != gatehouse.ModeSession && mode != gatehouse.ModeToken && mode != gatehouse.ModeOIDC {
		mode = "other"
	}
	m.logins.WithLabelValues(string(mode), outcome).Inc()
}

// RefreshReused implements gatehouse.Metrics.
func (m *Metrics) RefreshReused() { m.reused.Inc() }

// Mail implements gatehouse.Metrics.
func (m *Metrics) Mail(outcome string) { m.mail.WithLabelValues(outcome).Inc() }

// Throttled implements gatehouse.Metrics.
func (m *Metrics) Throttled(kind string) { m.throttled.WithLabelValues(kind).Inc() }

package gatehouse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse"
)

// BenchmarkRequestRecovery measures POST /v1/recovery's work in the
// Service, on SQLite, for an account and for an address without one: the
// two must take about the same time (the budget is 5 ms at p99, and
// nothing waits for the mail server, which is down here).
func BenchmarkRequestRecovery(b *testing.B) {
	e := newMailEnvLimits(b, nil, gatehouse.Limits{Recoveries: 1 << 30, RecoveriesPerAccount: 1 << 30})
	e.smtp.Stop()
	e.register(b, "ada@example.com")
	for _, bc := range []struct{ name, email string }{{"account", "ada@example.com"}, {"no-account", "nobody@example.com"}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				if err := e.svc.RequestRecovery(ctx, bc.email, gatehouse.Client{IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeliverMail measures the sender: 100 queued messages delivered
// to a local SMTP server (STARTTLS, AUTH), one connection each. The budget
// is 5 s for the 100.
func BenchmarkDeliverMail(b *testing.B) {
	ctx := context.Background()
	e := newMailEnvLimits(b, nil, gatehouse.Limits{Recoveries: 1 << 30, RecoveriesPerAccount: 1 << 30})
	e.register(b, "ada@example.com")
	sent := 0
	for b.Loop() {
		b.StopTimer()
		for range 100 {
			if err := e.svc.RequestRecovery(ctx, "ada@example.com", client); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		n, err := e.svc.DeliverMail(ctx)
		if err != nil || n != 100 {
			b.Fatalf("DeliverMail = %d, %v; want 100", n, err)
		}
		sent += n
	}
	e.smtp.Wait(b, sent, 10*time.Second)
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100-messages")
}

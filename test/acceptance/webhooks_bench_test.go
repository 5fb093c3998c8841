package acceptance

import (
	"slices"
	"testing"
	"time"

	"github.com/leadr-oss/identity/client"
	"github.com/leadr-oss/identity/test/harness"
)

// BenchmarkWebhookDelivery makes b.N events, as fast as one client can,
// for two endpoints on the loopback that answer at once, and reports how
// fast they were delivered (deliveries/s, counted from the first event to
// the last delivery) and how long each took from its creation's answer to
// its arrival (p50, p99).
func BenchmarkWebhookDelivery(b *testing.B) {
	s := harness.StartService(b, allowPrivate())
	c := harness.NewTenant(b, s).Client
	var receivers []*receiver
	for range 2 {
		rc := newReceiver(b, nil)
		receivers = append(receivers, rc)
		if _, err := c.CreateWebhook(b.Context(), client.CreateWebhookRequest{URL: rc.srv.URL, EventTypes: []string{"game.created"}}); err != nil {
			b.Fatal(err)
		}
	}
	var made []time.Time
	start := time.Now()
	for b.Loop() {
		if _, err := c.CreateGame(b.Context(), client.CreateGameRequest{Name: "Bench " + harness.Unique()}); err != nil {
			b.Fatal(err)
		}
		made = append(made, time.Now())
	}
	var delays []time.Duration
	last := start
	for _, rc := range receivers {
		got := rc.wait(b, len(made), time.Minute)
		for i, r := range got {
			delays = append(delays, r.at.Sub(made[i]))
			if r.at.After(last) {
				last = r.at
			}
		}
	}
	slices.Sort(delays)
	b.ReportMetric(float64(len(delays))/last.Sub(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
}

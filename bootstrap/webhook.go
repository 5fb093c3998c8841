package bootstrap

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
	"github.com/leadr-oss/identity/adapters/store"
	"github.com/leadr-oss/identity/adapters/webhooks"
	appwebhook "github.com/leadr-oss/identity/application/webhook"
	"github.com/leadr-oss/identity/domain/webhook"
	"github.com/leadr-oss/identity/ports"
)

const (
	// webhookPoll is how often each replica looks for new events and due
	// attempts: an event is on its way within about this much of the
	// moment the feed serves it.
	webhookPoll = 250 * time.Millisecond
	// purgeDeliveriesEvery: the delivery log goes with the events it
	// logs, at LEADR_EVENT_RETENTION.
	purgeDeliveriesEvery = 10 * time.Minute
)

// WebhookModule is webhooks: the endpoints, their use cases and routes,
// the dispatcher that delivers the outbox's events to them, its metrics,
// and the purge of the delivery log. The resolver that endpoint hosts are
// looked up with is a value of its own, so that tests can answer for it.
var WebhookModule = fx.Module("webhook",
	fx.Provide(
		fx.Annotate(store.NewWebhooks, fx.As(new(ports.WebhookRepository))),
		fx.Annotate(store.NewDeliveries, fx.As(new(ports.DeliveryQueue))),
		func() webhooks.Resolver { return net.DefaultResolver },
		func(cfg Config, r webhooks.Resolver) *webhooks.Client {
			return webhooks.New(webhooks.Config{AllowPrivate: cfg.WebhookAllowPrivate, Resolver: r})
		},
		func(c *webhooks.Client) ports.WebhookURLs { return c },
		func(c *webhooks.Client) ports.WebhookSender { return c },
		fx.Annotate(appwebhook.NewService, fx.As(new(ports.Webhooks))),
	),
	routes(httpapi.WebhookRoutes),
	fx.Invoke(runDispatcher),
	fx.Invoke(func(lc fx.Lifecycle, queue ports.DeliveryQueue, now ports.Clock, cfg Config, log *zap.Logger) {
		purgeInBackground(lc, purgeDeliveriesEvery, "webhook deliveries past the event retention", func(ctx context.Context) (int, error) {
			return queue.Purge(ctx, now().Add(-cfg.EventRetention))
		}, log)
	}),
)

// runDispatcher delivers while the service runs, and exports what it does.
func runDispatcher(lc fx.Lifecycle, queue ports.DeliveryQueue, sender ports.WebhookSender, cipher ports.Cipher, now ports.Clock,
	cfg Config, log *zap.Logger, reg *prometheus.Registry) error {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leadr_webhook_deliveries_total",
		Help: "Attempts to deliver an event to a webhook, by outcome: succeeded (2xx), failed (another status) or error (no answer: refused, timed out, not an allowed address).",
	}, []string{"outcome"})
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "leadr_webhook_attempt_duration_seconds",
		Help:    "How long attempts to deliver to a webhook took, answered or not.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15},
	})
	oldest := &pendingCollector{queue: queue, now: now, desc: prometheus.NewDesc("leadr_webhook_oldest_pending_seconds",
		"Per webhook with deliveries pending, the age of the oldest event not yet delivered to it.", []string{"webhook_id"}, nil)}
	for _, c := range []prometheus.Collector{outcomes, latency, oldest} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	d := appwebhook.NewDispatcher(queue, sender, httpapi.WebhookPayload, cipher, now,
		appwebhook.DispatcherConfig{Workers: cfg.WebhookWorkers, PerEndpoint: cfg.WebhookPerEndpoint, Poll: webhookPoll},
		appwebhook.Observer{
			Attempted: func(o webhook.Outcome) {
				switch {
				case o.Succeeded():
					outcomes.WithLabelValues("succeeded").Inc()
				case o.ResponseStatus != 0:
					outcomes.WithLabelValues("failed").Inc()
				default:
					outcomes.WithLabelValues("error").Inc()
				}
				latency.Observe(o.Duration.Seconds())
			},
			Failed: func(what string, err error) {
				log.Warn("webhooks: "+what+" failed; the next step retries", zap.Error(err))
			},
		})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() { d.Run(ctx) })
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
	return nil
}

// pendingCollector reads the age of each webhook's oldest undelivered
// event when the metrics are scraped: one grouped query of the pending
// attempts' index.
type pendingCollector struct {
	queue ports.DeliveryQueue
	now   ports.Clock
	desc  *prometheus.Desc
}

func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, err := c.queue.Pending(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	now := c.now()
	for w, since := range pending {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, now.Sub(since).Seconds(), w.String())
	}
}

package bootstrap

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/leadr-oss/identity/ports"
)

// cacheCounter is what counts its cache's lookups (application/credcache).
type cacheCounter interface {
	CacheCounts() (hits, misses uint64)
}

// CacheMetricsModule exports the credential caches' lookups and whether the
// change feed that invalidates them is live: a replica whose feed is down
// serves every request from the database, which its hit rate shows.
var CacheMetricsModule = fx.Invoke(func(reg *prometheus.Registry, keys ports.Authenticator, tokens ports.ClientSessions, changes ports.Changes) error {
	var cs []prometheus.Collector
	for name, v := range map[string]any{"api_keys": keys, "access_tokens": tokens} {
		c, ok := v.(cacheCounter)
		if !ok {
			continue
		}
		for result, count := range map[string]func() uint64{
			"hit":  func() uint64 { h, _ := c.CacheCounts(); return h },
			"miss": func() uint64 { _, m := c.CacheCounts(); return m },
		} {
			cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "leadr_credential_cache_lookups_total",
				Help:        "Lookups of verified credentials, by cache and whether the cache served them.",
				ConstLabels: prometheus.Labels{"cache": name, "result": result},
			}, func() float64 { return float64(count()) }))
		}
	}
	cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "leadr_change_feed_live",
		Help: "1 while this replica hears every replica's changes (PostgreSQL LISTEN/NOTIFY) and may serve cached credentials.",
	}, func() float64 {
		if changes != nil && changes.Live() {
			return 1
		}
		return 0
	}))
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
})

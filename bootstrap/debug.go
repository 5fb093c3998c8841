package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
)

// DebugModule serves what an operator keeps off the public network, on
// ports of their own: Go's profiles on LEADR_DEBUG_ADDR (they show memory
// and code paths), so that a slow replica can be profiled where it runs;
// and the Prometheus metrics at /metrics, which show every tenant's
// traffic, on LEADR_METRICS_ADDR and with the profiles.
var DebugModule = fx.Options(
	fx.Provide(newPrivateListeners),
	fx.Invoke(func(*PrivateListeners) {}),
)

// PrivateListeners are the listeners of DebugModule, once started.
type PrivateListeners struct {
	metrics net.Addr
}

// MetricsAddr is the address that serves /metrics: LEADR_METRICS_ADDR's,
// else LEADR_DEBUG_ADDR's; nil when neither is set.
func (p *PrivateListeners) MetricsAddr() net.Addr { return p.metrics }

func newPrivateListeners(lc fx.Lifecycle, cfg Config, metrics *httpapi.Metrics, log *zap.Logger) *PrivateListeners {
	p := &PrivateListeners{}
	// Hooks start in order: LEADR_METRICS_ADDR's address, when it has a
	// listener of its own, replaces the debug listener's.
	if cfg.DebugAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("GET /metrics", metrics.Handler())
		servePrivate(lc, log, "LEADR_DEBUG_ADDR", cfg.DebugAddr, mux, func(a net.Addr) { p.metrics = a })
	}
	if cfg.MetricsAddr != "" && cfg.MetricsAddr != cfg.DebugAddr {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		servePrivate(lc, log, "LEADR_METRICS_ADDR", cfg.MetricsAddr, mux, func(a net.Addr) { p.metrics = a })
	}
	return p
}

// servePrivate serves h on addr (the value of the variable named env)
// while the service runs, and tells started the address it listens on.
func servePrivate(lc fx.Lifecycle, log *zap.Logger, env, addr string, h http.Handler, started func(net.Addr)) {
	// No write timeout: a CPU profile takes as long as it was asked to.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("private"))}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s %s: %w", env, addr, err)
			}
			started(ln.Addr())
			log.Info("private listener", zap.String("variable", env), zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("private listener stopped", zap.String("variable", env), zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error { return srv.Close() },
	})
}

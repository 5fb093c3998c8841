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
)

// DebugModule serves Go's profiles on LEADR_DEBUG_ADDR, a port of its own
// that an operator keeps private (profiles show memory and code paths), so
// that a slow replica can be profiled where it runs.
var DebugModule = fx.Invoke(func(lc fx.Lifecycle, cfg Config, log *zap.Logger) {
	if cfg.DebugAddr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile takes as long as it was asked to.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("debug"))}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.DebugAddr)
			if err != nil {
				return fmt.Errorf("listen on LEADR_DEBUG_ADDR %s: %w", cfg.DebugAddr, err)
			}
			log.Info("debug listener (pprof)", zap.String("addr", ln.Addr().String()))
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("debug listener stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(context.Context) error { return srv.Close() },
	})
})

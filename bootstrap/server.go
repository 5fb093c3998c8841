package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/leadr-oss/identity/adapters/httpapi"
)

// Server is the running HTTP server.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	addr net.Addr

	mu sync.Mutex
	// fresh are the connections accepted whose first request has not
	// arrived whole: net/http drops a request that arrives after Shutdown
	// began without an answer, so shutdown waits for them first.
	fresh map[net.Conn]struct{}
}

// Addr is the address the server listens on, known once it started.
func (s *Server) Addr() net.Addr { return s.addr }

func NewServer(lc fx.Lifecycle, cfg Config, h http.Handler, log *zap.Logger, draining *Draining) *Server {
	s := &Server{fresh: map[net.Conn]struct{}{}}
	// A request's line and headers are read and parsed before anything
	// checks them: net/http's default of 1 MiB let 50 unauthenticated
	// requests of header lines take 300 MB. MaxHeaderBytes is twice the
	// adapter's limit, so that headers over that limit still get its 431
	// in the contract's shape; past twice, net/http answers a plain 431.
	s.srv = &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		MaxHeaderBytes:    2 * httpapi.MaxHeaderBytes,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
		ConnState:         s.track,
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.HTTPAddr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
			}
			s.ln, s.addr = ln, ln.Addr()
			log.Info("listening", zap.String("addr", ln.Addr().String()))
			go func() {
				err := s.srv.Serve(ln)
				if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
					log.Error("http server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error {
			// Behind a load balancer: readiness fails first, and requests
			// are still served while the balancer notices and stops
			// sending them (LEADR_SHUTDOWN_DRAIN).
			draining.Store(true)
			if cfg.ShutdownDrain > 0 {
				log.Info("shutting down: draining, readiness answers 503", zap.Duration("drain", cfg.ShutdownDrain))
				select {
				case <-time.After(cfg.ShutdownDrain):
				case <-ctx.Done():
				}
			}
			ctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
			defer cancel()
			log.Info("shutting down: finishing requests in flight", zap.Duration("timeout", cfg.ShutdownTimeout))
			// No new connection; then the requests of connections already
			// accepted may arrive whole before Shutdown, which would drop
			// them. The wait is capped: a connection that sends nothing (a
			// preconnect, a TCP health check) must not take the time of
			// the requests in flight.
			// (Keep-alives stay on until then: turning them off closes
			// the connections still sending their first request's headers.)
			_ = s.ln.Close()
			s.awaitFirstRequests(ctx, min(readHeaderTimeout, cfg.ShutdownTimeout/2))
			err := s.srv.Shutdown(ctx)
			if errors.Is(err, context.DeadlineExceeded) {
				// The time for requests in flight is up: drop what is left,
				// and still stop cleanly.
				log.Warn("shutdown timeout reached: closing the connections that remain")
				return s.srv.Close()
			}
			if errors.Is(err, net.ErrClosed) { // the listener, closed above
				err = nil
			}
			return err
		},
	})
	return s
}

// readHeaderTimeout is how long a connection has to send a request's
// headers, and so the longest shutdown waits for a first request.
const readHeaderTimeout = 10 * time.Second

func (s *Server) track(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = struct{}{}
	} else {
		delete(s.fresh, c)
	}
}

// awaitFirstRequests waits until every connection accepted has sent its
// first request (or given up, by the read header timeout), for at most
// limit.
func (s *Server) awaitFirstRequests(ctx context.Context, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		n := len(s.fresh)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

package bootstrap

import (
	"context"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// purgeInBackground runs purge every interval while the service runs.
// Replicas that purge at once only share the work.
func purgeInBackground(lc fx.Lifecycle, every time.Duration, what string, purge func(context.Context) (int, error), log *zap.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			wg.Go(func() { purgeEveryTick(ctx, every, what, purge, log) })
			return nil
		},
		OnStop: func(context.Context) error {
			cancel()
			wg.Wait()
			return nil
		},
	})
}

// purgeEveryTick purges once every interval until ctx ends; a failed purge
// is retried at the next.
func purgeEveryTick(ctx context.Context, every time.Duration, what string, purge func(context.Context) (int, error), log *zap.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			purgeCtx, done := context.WithTimeout(ctx, time.Minute)
			n, err := purge(purgeCtx)
			done()
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("purge of "+what+" failed; the next one will retry", zap.Error(err))
			case n > 0:
				log.Info("purged "+what, zap.Int("rows", n))
			}
		}
	}
}

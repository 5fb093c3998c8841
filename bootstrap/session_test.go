package bootstrap

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/leadr-oss/identity/ports"
)

// purgeCounter is a session repository that only counts purges and sweeps
// of orphaned sessions.
type purgeCounter struct {
	ports.SessionRepository
	calls, sweeps atomic.Int32
	keep, most    atomic.Int64
	fail          bool
}

func (p *purgeCounter) Purge(_ context.Context, _ time.Time, keep time.Duration) (int, error) {
	p.calls.Add(1)
	p.keep.Store(int64(keep))
	if p.fail {
		return 0, errors.New("database down")
	}
	return 1, nil
}

func (p *purgeCounter) RevokeOrphaned(_ context.Context, _ time.Time, most int) (int, error) {
	p.sweeps.Add(1)
	p.most.Store(int64(most))
	if p.fail {
		return 0, errors.New("database down")
	}
	return 1, nil
}

// The purge and the sweep of orphaned sessions run on every tick, go on
// after a failed one, and stop with their context.
func TestPurgeRunsEveryTickUntilStopped(t *testing.T) {
	for _, fail := range []bool{false, true} {
		repo := &purgeCounter{fail: fail}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			purgeEveryTick(ctx, time.Millisecond, "sessions", purgeSessions(repo, time.Now, zap.NewNop()), zap.NewNop())
			close(done)
		}()
		deadline := time.After(10 * time.Second)
		for repo.calls.Load() < 3 || repo.sweeps.Load() < 3 {
			select {
			case <-deadline:
				t.Fatalf("fail=%v: %d purges and %d sweeps in 10 s at a 1 ms interval", fail, repo.calls.Load(), repo.sweeps.Load())
			case <-time.After(time.Millisecond):
			}
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the purge loop did not stop with its context")
		}
		if time.Duration(repo.keep.Load()) != purgeKeep {
			t.Errorf("purged with keep %v, want %v", time.Duration(repo.keep.Load()), purgeKeep)
		}
		if repo.most.Load() != orphansPerPurge {
			t.Errorf("swept at most %d, want %d", repo.most.Load(), orphansPerPurge)
		}
	}
}

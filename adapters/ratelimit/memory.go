// Package ratelimit implements ports.RateLimiter with the generic cell rate
// algorithm (GCRA): in process, per replica, or in Redis, shared by every
// replica (go-redis/redis_rate runs the same algorithm as a Lua script).
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/leadr-oss/identity/ports"
)

// Memory limits in process: each replica counts its own requests, so N
// replicas behind a balancer let about N times the limit through.
type Memory struct {
	now func() time.Time

	mu sync.Mutex
	// tat is each key's theoretical arrival time: when its next request
	// would be on schedule. A key whose tat has passed is at full burst
	// and needs no entry.
	tat       map[string]time.Time
	nextSweep time.Time
}

// sweepEvery is how often keys back at full burst are forgotten, so that
// the map holds only keys active in the last minute or so.
const sweepEvery = time.Minute

func NewMemory(now func() time.Time) *Memory {
	return &Memory{now: now, tat: make(map[string]time.Time)}
}

func (m *Memory) Allow(_ context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	if limit.Off() {
		return ports.RateDecision{Allowed: true, Remaining: limit.Burst}, nil
	}
	now := m.now()
	interval := limit.Period / time.Duration(limit.Rate)
	tolerance := interval * time.Duration(max(limit.Burst, 1))

	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if wait := next.Sub(now) - tolerance; wait > 0 {
		return ports.RateDecision{RetryAfter: wait, ResetAfter: tat.Sub(now)}, nil
	}
	m.tat[key] = next
	// What is left of the tolerance, in requests; redis_rate counts the same.
	return ports.RateDecision{Allowed: true, Remaining: int((tolerance - next.Sub(now)) / interval), ResetAfter: next.Sub(now)}, nil
}

func (m *Memory) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for key, tat := range m.tat {
		if !tat.After(now) {
			delete(m.tat, key)
		}
	}
}

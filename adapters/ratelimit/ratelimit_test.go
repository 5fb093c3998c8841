package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/leadr-oss/identity/adapters/ratelimit"
	"github.com/leadr-oss/identity/ports"
	"github.com/leadr-oss/identity/test/redistest"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// allowed counts how many of n requests of key a limiter lets through.
func allowed(t *testing.T, l ports.RateLimiter, key string, limit ports.RateLimit, n int) (int, time.Duration) {
	t.Helper()
	count, retry := 0, time.Duration(0)
	for range n {
		d, err := l.Allow(context.Background(), key, limit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			count++
		} else {
			retry = d.RetryAfter
		}
	}
	return count, retry
}

func TestMemoryIsGCRA(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := ratelimit.NewMemory(c.Now)
	perMinute := ports.RateLimit{Rate: 6, Period: time.Minute, Burst: 6}

	// A burst of 6 at once, then nothing until the next one is due.
	if n, retry := allowed(t, m, "a", perMinute, 10); n != 6 || retry <= 0 || retry > 10*time.Second {
		t.Fatalf("burst: %d allowed, retry after %s; want 6 and at most 10s", n, retry)
	}
	if n, _ := allowed(t, m, "b", perMinute, 1); n != 1 {
		t.Fatal("keys share a count")
	}
	// Every 10 s one more: the pace, not a window that resets.
	c.Advance(10 * time.Second)
	if n, _ := allowed(t, m, "a", perMinute, 3); n != 1 {
		t.Fatalf("after 10s: %d allowed, want 1", n)
	}
	c.Advance(time.Minute)
	if n, _ := allowed(t, m, "a", perMinute, 10); n != 6 {
		t.Fatalf("after a quiet minute: %d allowed, want the whole burst of 6", n)
	}
	if n, _ := allowed(t, m, "a", ports.RateLimit{}, 100); n != 100 {
		t.Fatal("a limit that is off limits")
	}
}

// TestDefaultKeyBudget: under the default limit of an API key (1000/s, a
// burst of 1000), a client that sends 1,000 requests a second for 10 s is
// never refused, even when it sends each second's all at once; the
// 1,001st at once is.
func TestDefaultKeyBudget(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := ratelimit.NewMemory(c.Now)
	limit := ports.RateLimit{Rate: 1000, Period: time.Second, Burst: 1000}
	for second := range 10 {
		for ms := range 1000 {
			if n, _ := allowed(t, m, "paced", limit, 1); n != 1 {
				t.Fatalf("paced: request %d of second %d refused", ms, second)
			}
			c.Advance(time.Millisecond)
		}
	}
	for second := range 10 {
		if n, _ := allowed(t, m, "bursts", limit, 1000); n != 1000 {
			t.Fatalf("second %d's 1000 at once: %d allowed", second, n)
		}
		c.Advance(time.Second)
	}
	if n, retry := allowed(t, m, "over", limit, 1001); n != 1000 || retry != time.Millisecond {
		t.Fatalf("1001 at once: %d allowed, retry after %s; want 1000 and 1ms", n, retry)
	}
}

// TestDecisionsCountDown: each decision says what is left of the budget
// and when it is whole again, on both limiters alike.
func TestDecisionsCountDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	shared, err := ratelimit.NewRedis(srv.URL, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shared.Close() })
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	limit := ports.RateLimit{Rate: 3, Period: time.Hour, Burst: 3}
	for name, l := range map[string]ports.RateLimiter{"memory": ratelimit.NewMemory(c.Now), "redis": shared} {
		key := "test:" + t.Name() + time.Now().String()
		for i, want := range []int{2, 1, 0} {
			d, err := l.Allow(context.Background(), key, limit)
			if err != nil {
				t.Fatal(err)
			}
			// Each request spends 20 minutes of the hour's budget.
			wantReset := time.Duration(i+1) * 20 * time.Minute
			if !d.Allowed || d.Remaining != want || d.ResetAfter < wantReset-time.Minute || d.ResetAfter > wantReset {
				t.Fatalf("%s: request %d: %+v; want allowed, %d left, whole again in %s", name, i+1, d, want, wantReset)
			}
		}
		d, err := l.Allow(context.Background(), key, limit)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed || d.Remaining != 0 || d.RetryAfter < 19*time.Minute || d.ResetAfter < 59*time.Minute {
			t.Fatalf("%s: over the limit: %+v", name, d)
		}
	}
}

// TestRedisIsSharedAndFailsFast: two limiters on one Redis are two
// replicas counting against one limit; a Redis that is gone is an error at
// once, which the HTTP adapter turns into letting the request through.
func TestRedisIsSharedAndFailsFast(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	srv.Stoppable(t)
	var replicas []*ratelimit.Redis
	for range 2 {
		r, err := ratelimit.NewRedis(srv.URL, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		replicas = append(replicas, r)
	}
	limit := ports.RateLimit{Rate: 5, Period: time.Hour, Burst: 5}
	key := "test:" + t.Name() + time.Now().String()
	a, _ := allowed(t, replicas[0], key, limit, 3)
	b, retry := allowed(t, replicas[1], key, limit, 5)
	if a+b != 5 || retry < 10*time.Minute {
		t.Fatalf("two replicas let %d+%d through (retry after %s), want 5 in all and about 12 minutes", a, b, retry)
	}

	srv.Stop()
	start := time.Now()
	for i := range 20 {
		d, err := replicas[0].Allow(context.Background(), key+"-down", limit)
		if err == nil || !d.Allowed {
			t.Fatalf("request %d with Redis down: allowed %v, err %v; want an error and allowed", i, d.Allowed, err)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("20 requests with Redis down took %s: each waits for Redis", took)
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := replicas[0].Allow(context.Background(), key+"-back", limit)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis is back but the limiter still fails: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

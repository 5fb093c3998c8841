package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loader makes timed, closed-loop runs: concurrency workers, each sending
// its next request as soon as its last one is answered, so that a run
// measures what a server sustains rather than what it was offered.
type loader struct {
	concurrency int
	duration    time.Duration
	profiler    *profiler
	logf        func(string, ...any)
}

// runResult is one timed run on one server.
type runResult struct {
	requests      uint64
	rate          float64 // answered requests per second
	p50, p95, p99 time.Duration
	// errors are answers other than the scenario's, and requests that got
	// none.
	errors  uint64
	reasons map[string]uint64
}

// scenarioResult holds a scenario's runs on each target, in the order of
// the targets (onService, onBaseline, onBefore).
type scenarioResult struct {
	name string
	runs [][]runResult
}

// requestTimeout is far beyond any healthy answer; one that long is an
// error, not a latency.
const requestTimeout = 30 * time.Second

// rounds runs each scenario rounds times on each target in turn, so that
// the machine's noise falls on all alike. Each round starts one target
// later than the last, so that no target always runs right after the
// same other one, in the wake of its writes (PostgreSQL flushing and
// vacuuming what the last run wrote).
func (l loader) rounds(ctx context.Context, targets []*target, ss []scenario, rounds int) ([]scenarioResult, error) {
	var out []scenarioResult
	for _, s := range ss {
		res := scenarioResult{name: s.name, runs: make([][]runResult, len(targets))}
		for round := range rounds {
			for turn := range targets {
				i := (round + turn) % len(targets)
				t := targets[i]
				if s.prepare != nil {
					if err := s.prepare(ctx, t, l.duration); err != nil {
						return nil, fmt.Errorf("%s on the %s: %w", s.name, t.name, err)
					}
				}
				wait := func() {}
				if round == 0 && t.debugAddr != "" && l.profiler != nil {
					wait = l.profiler.start(ctx, t, s.name, l.duration)
				}
				r, err := l.attack(ctx, t, s.request, s.want(), l.duration)
				wait()
				if err != nil {
					return nil, err
				}
				l.logf("%-13s %-8s round %d: %7.0f req/s, p50 %s, p99 %s, %d errors",
					s.name, t.name, round+1, r.rate, ms(r.p50), ms(r.p99), r.errors)
				res.runs[i] = append(res.runs[i], r)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// attack runs request on t for d; an answer other than want is an error.
func (l loader) attack(ctx context.Context, t *target, request func(*target, *vegeta.Target), want int, d time.Duration) (runResult, error) {
	// One connection per worker, kept alive, and closed when the run ends
	// so that the next run (and the memory snapshots) start from none.
	transport := &http.Transport{MaxIdleConnsPerHost: l.concurrency, DisableCompression: true}
	defer transport.CloseIdleConnections()
	atk := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: transport, Timeout: requestTimeout}),
		vegeta.Workers(uint64(l.concurrency)), vegeta.MaxWorkers(uint64(l.concurrency)),
		vegeta.MaxBody(0), // read and dropped: the status is what is checked
	)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()
	targeter := func(r *vegeta.Target) error {
		request(t, r)
		return nil
	}
	var m vegeta.Metrics
	r := runResult{reasons: map[string]uint64{}}
	// Rate zero with a cap on workers is vegeta's closed loop.
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: 0}, d, t.name) {
		m.Add(res)
		if res.Code != uint16(want) {
			r.errors++
			reason := res.Error
			if reason == "" {
				reason = fmt.Sprintf("status %d", res.Code)
			}
			r.reasons[reason]++
		}
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	m.Close()
	r.requests, r.p50, r.p95, r.p99 = m.Requests, m.Latencies.P50, m.Latencies.P95, m.Latencies.P99
	if span := (m.Duration + m.Wait).Seconds(); span > 0 {
		r.rate = float64(m.Requests) / span
	}
	return r, nil
}

// profiler takes CPU profiles of the services from their private debug
// listeners (net/http/pprof): SCENARIO.pprof of the service,
// SCENARIO-before.pprof of -before.
type profiler struct {
	dir  string
	logf func(string, ...any)
	// off: the listener did not answer once; the rest would not either.
	off bool
}

// start asks for a profile of the coming run, one second shorter so that
// it ends within it, and returns a function that waits until it is saved.
func (p *profiler) start(ctx context.Context, t *target, scenario string, run time.Duration) (wait func()) {
	if p.off {
		return func() {}
	}
	file := scenario + ".pprof"
	if t.name != "service" {
		file = scenario + "-" + t.name + ".pprof"
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.save(ctx, t.debugAddr, file, max(1, int(run.Seconds())-1)); err != nil {
			p.logf("cpuprofile: %v; going on without profiles", err)
			p.off = true
		}
	}()
	return func() { <-done }
}

func (p *profiler) save(ctx context.Context, debugAddr, file string, seconds int) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("the service's debug listener (LEADR_DEBUG_ADDR=%s) does not answer: %w", debugAddr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	f, err := os.Create(filepath.Join(p.dir, file))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

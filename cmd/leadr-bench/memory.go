package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// procStatus is a process's memory as the kernel counts it, in bytes.
type procStatus struct {
	rss, hwm int64 // VmRSS, and its peak VmHWM
}

// readStatus reads /proc/PID/status; a process that is gone reads as zero.
func readStatus(pid int) procStatus {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}
	}
	var s procStatus
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, _ := strings.Cut(sc.Text(), ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			s.rss = kb << 10
		case "VmHWM":
			s.hwm = kb << 10
		}
	}
	return s
}

// rssSampler keeps the highest VmRSS seen, sampled in the background.
type rssSampler struct {
	max  atomic.Int64
	done chan struct{}
}

const rssInterval = 250 * time.Millisecond

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	go func() {
		tick := time.NewTicker(rssInterval)
		defer tick.Stop()
		for {
			if rss := readStatus(pid).rss; rss > s.max.Load() {
				s.max.Store(rss)
			}
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) peak() int64 { return s.max.Load() }
func (s *rssSampler) stop()       { close(s.done) }

// memorySnapshot is the service at rest: what the kernel and the Go
// runtime (through the service's /metrics, on its debug listener) say of it.
type memorySnapshot struct {
	procStatus
	heapInuse, goroutines float64
}

// settle lets the service see the load's connections close, so that their
// goroutines are not counted.
const settle = time.Second

func snapshot(ctx context.Context, metricsURL string, pid int) (memorySnapshot, error) {
	select {
	case <-ctx.Done():
		return memorySnapshot{}, ctx.Err()
	case <-time.After(settle):
	}
	s := memorySnapshot{procStatus: readStatus(pid)}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return s, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	values := map[string]*float64{"go_memstats_heap_inuse_bytes": &s.heapInuse, "go_goroutines": &s.goroutines}
	for line := range strings.Lines(string(body)) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		if dst, ok := values[name]; ok {
			if *dst, err = strconv.ParseFloat(value, 64); err != nil {
				return s, fmt.Errorf("GET /metrics: %s: %w", name, err)
			}
			delete(values, name)
		}
	}
	if len(values) > 0 {
		return s, fmt.Errorf("GET /metrics has no %s", strings.Join(slices.Sorted(maps.Keys(values)), ", "))
	}
	return s, nil
}

// memoryReport is the soak's account of the service's memory.
type memoryReport struct {
	soak          time.Duration
	before, after memorySnapshot
	run           runResult
	// peakRSS is the highest VmRSS sampled over the whole bench; hwm is the
	// kernel's own peak, which also catches what fell between samples.
	peakRSS, hwm int64
}

// soakService runs the mix on the service alone for d, between two
// snapshots: heap and goroutines that grow across it are a leak.
func soakService(ctx context.Context, l loader, t *target, metricsURL string, pid int, d time.Duration) (memoryReport, error) {
	m := memoryReport{soak: d}
	var err error
	if m.before, err = snapshot(ctx, metricsURL, pid); err != nil {
		return m, err
	}
	l.logf("soak: the mix on the service for %s", d)
	if m.run, err = l.attack(ctx, t, mix, http.StatusOK, d); err != nil {
		return m, err
	}
	m.after, err = snapshot(ctx, metricsURL, pid)
	return m, err
}

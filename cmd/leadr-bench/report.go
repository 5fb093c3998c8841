package main

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

type report struct {
	options
	fixture *fixture
	targets []*target
	results []scenarioResult
	memory  memoryReport
}

// The targets, in the order of scenarioResult.runs; onBefore only with
// -before.
const (
	onService  = 0
	onBaseline = 1
	onBefore   = 2
)

// best is the run with the highest rate: on a noisy machine the least
// disturbed one says most about the server.
func best(runs []runResult) runResult {
	return slices.MaxFunc(runs, func(a, b runResult) int {
		switch {
		case a.rate < b.rate:
			return -1
		case a.rate > b.rate:
			return 1
		}
		return 0
	})
}

func (r report) byName(name string) (scenarioResult, bool) {
	i := slices.IndexFunc(r.results, func(s scenarioResult) bool { return s.name == name })
	if i < 0 {
		return scenarioResult{}, false
	}
	return r.results[i], true
}

// clean reports whether every run answered and none had an error.
func (r report) clean() bool {
	runs := []runResult{}
	for _, s := range r.results {
		for _, on := range s.runs {
			runs = append(runs, on...)
		}
	}
	if r.soak > 0 {
		runs = append(runs, r.memory.run)
	}
	return !slices.ContainsFunc(runs, func(run runResult) bool { return run.requests == 0 || run.errors > 0 })
}

func (r report) write(w io.Writer) {
	database := "a throw-away server (" + strings.Join(serverSettings, ", ") + ")"
	if r.databaseURL != "" {
		database = "the server of -database-url"
	}
	fmt.Fprintf(w, "## leadr-bench\n\n")
	fmt.Fprintf(w, "- command: `leadr-bench %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "- machine: %s, %d CPUs, %s/%s, %s; PostgreSQL %s, %s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), r.fixture.postgres, database)
	fmt.Fprintf(w, "- data: %s identities over %d accounts and %d games, kinds at random, a third without a display name\n",
		thousands(float64(len(r.fixture.identities))), len(r.fixture.accounts), r.fixture.games())
	names := make([]string, len(r.targets))
	for i, t := range r.targets {
		names[i] = t.name
	}
	fmt.Fprintf(w, "- load: vegeta, closed loop, %d requests in flight, %s a run, %d round(s) alternating %s, each round starting with the next; "+
		"each cell is the best round (highest req/s) with its own latencies; errors are summed over all rounds\n",
		r.concurrency, r.duration, r.rounds, strings.Join(names[:len(names)-1], ", ")+" and "+names[len(names)-1])
	if r.before != "" {
		fmt.Fprintf(w, "- before: `%s serve` on a database of its own on the same PostgreSQL, seeded the same way, with the service's settings\n", r.before)
	}
	fmt.Fprintf(w, "- service requests carry their account's regular API key (client_me: a bearer token; sign_in: nothing, as a game client's); "+
		"the baseline has no authentication; create and sign_in expect 201, the others 200\n\n")

	fmt.Fprintln(w, "| scenario | service req/s | baseline req/s | ratio | service p50/p95/p99 | baseline p50/p95/p99 | p99 ratio | errors (service / baseline) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---:|---:|")
	var failures []string
	for _, s := range r.results {
		svc, base := best(s.runs[onService]), best(s.runs[onBaseline])
		errs := make([]uint64, len(s.runs))
		for i, runs := range s.runs {
			for _, run := range runs {
				errs[i] += run.errors
				failures = append(failures, reasons(s.name+" on the "+r.targets[i].name, run)...)
			}
		}
		errors := "0"
		if errs[onService] != 0 || errs[onBaseline] != 0 {
			errors = fmt.Sprintf("%d / %d", errs[onService], errs[onBaseline])
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.name, thousands(svc.rate), thousands(base.rate),
			ratio(svc.rate, base.rate), latencies(svc), latencies(base), ratio(float64(svc.p99), float64(base.p99)), errors)
	}
	fmt.Fprintln(w)
	if r.before != "" {
		r.writeBefore(w)
	}
	failures = append(failures, reasons("soak", r.memory.run)...)
	if len(failures) > 0 {
		fmt.Fprintf(w, "errors:\n\n")
		for _, f := range failures {
			fmt.Fprintf(w, "- %s\n", f)
		}
		fmt.Fprintln(w)
	}

	first, okFirst := r.byName("list_first")
	deep, okDeep := r.byName("list_deep")
	if okFirst && okDeep {
		fmt.Fprintf(w, "- deep page p50 / first page p50 (%s rows deep and beyond): service %s, baseline %s\n", thousands(float64(r.targets[onService].deepDepth)),
			ratio(float64(best(deep.runs[onService]).p50), float64(best(first.runs[onService]).p50)),
			ratio(float64(best(deep.runs[onBaseline]).p50), float64(best(first.runs[onBaseline]).p50)))
	}
	get, okGet := r.byName("get")
	me, okMe := r.byName("client_me")
	if okGet && okMe {
		fmt.Fprintf(w, "- /client/me req/s vs get req/s: service %s, baseline %s (its /client/me is a get by id)",
			ratio(best(me.runs[onService]).rate, best(get.runs[onService]).rate),
			ratio(best(me.runs[onBaseline]).rate, best(get.runs[onBaseline]).rate))
		if r.before != "" {
			fmt.Fprintf(w, ", before %s", ratio(best(me.runs[onBefore]).rate, best(get.runs[onBefore]).rate))
		}
		fmt.Fprintln(w)
	}

	m := r.memory
	fmt.Fprintf(w, "\n### service memory\n\n")
	if r.soak > 0 {
		fmt.Fprintf(w, "Soak: the mix for %s on the service alone, %s req/s, %d errors. Heap and goroutines are the service's /metrics "+
			"(go_memstats_heap_inuse_bytes, go_goroutines), read %s after the load's connections closed.\n\n", m.soak, thousands(m.run.rate), m.run.errors, settle)
		fmt.Fprintln(w, "| | VmRSS | VmHWM | heap in use | goroutines |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
		for _, row := range []struct {
			name string
			s    memorySnapshot
		}{{"before the soak", m.before}, {"after the soak", m.after}} {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f |\n", row.name, mib(row.s.rss), mib(row.s.hwm), mib(int64(row.s.heapInuse)), row.s.goroutines)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Peak RSS over the whole bench: %s sampled every %s; VmHWM at the end %s.\n", mib(m.peakRSS), rssInterval, mib(m.hwm))
}

// writeBefore sets the service beside the earlier version of -before:
// their ratio, and each one's ratio to the baseline of the same rounds.
func (r report) writeBefore(w io.Writer) {
	fmt.Fprintf(w, "### service against -before\n\n")
	fmt.Fprintln(w, "| scenario | service req/s | before req/s | service / before | service p50/p95/p99 | before p50/p95/p99 | p99 service / before | "+
		"service / baseline | before / baseline | errors (before) |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---:|---:|---:|---:|")
	for _, s := range r.results {
		svc, base, before := best(s.runs[onService]), best(s.runs[onBaseline]), best(s.runs[onBefore])
		var errs uint64
		for _, run := range s.runs[onBefore] {
			errs += run.errors
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", s.name, thousands(svc.rate), thousands(before.rate),
			ratio(svc.rate, before.rate), latencies(svc), latencies(before), ratio(float64(svc.p99), float64(before.p99)),
			ratio(svc.rate, base.rate), ratio(before.rate, base.rate), errs)
	}
	fmt.Fprintln(w)
}

func reasons(where string, r runResult) []string {
	var out []string
	for _, reason := range slices.Sorted(maps.Keys(r.reasons)) {
		out = append(out, fmt.Sprintf("%s: %d× %s", where, r.reasons[reason], reason))
	}
	return out
}

func latencies(r runResult) string {
	return ms(r.p50) + " / " + ms(r.p95) + " / " + ms(r.p99)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// thousands rounds v and groups its digits: 16170.4 is "16,170".
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

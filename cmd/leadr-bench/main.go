// Command leadr-bench measures the identity service against a baseline on
// this machine: a bare net/http + pgx server that runs the same SQL and
// answers the same JSON, without authentication. It starts a throw-away
// PostgreSQL (unless -database-url names one), the service and the baseline
// as processes of their own, seeds the identities and their players, then
// loads the servers in turn, scenario by scenario and round by round, so
// that all see the same machine at nearly the same moment. It prints a markdown
// report and exits non-zero when any scenario had errors or no requests.
//
//	go run ./cmd/leadr-bench                       1M identities, 10s a run, 2 rounds, 60s soak
//	go run ./cmd/leadr-bench -identities 2000 -duration 1s -rounds 1 -soak 2s
//	go run ./cmd/leadr-bench -scenarios get,list_first -service-env LEADR_DB_MAX_OPEN_CONNS=40
//	go run ./cmd/leadr-bench -scenarios sign_in,client_me -before /tmp/leadr-before/leadr
//
// -before adds an earlier version of the service as a third server, for a
// change's cost measured in one run: its `leadr` binary, built from a commit
// without touching the work tree (git archive COMMIT | tar -x -C DIR, then go
// build -o DIR/leadr ./cmd/leadr in DIR). It runs on a database of its own on
// the same PostgreSQL, since an earlier version cannot run on a newer schema,
// seeded the same way, and takes its turn in every round.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	// The bench runs the service and the baseline by starting itself again
	// with one of these as its only argument; they take their settings from
	// the environment, as the service does.
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case serviceMode:
			os.Exit(runService())
		case baselineMode:
			os.Exit(runBaseline())
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	identities  int
	duration    time.Duration
	rounds      int
	concurrency int
	soak        time.Duration
	databaseURL string
	serviceEnv  []string
	scenarios   []scenario
	cpuprofile  string
	before      string
}

// envFlags collects repeated -service-env K=V flags.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, " ") }

func (e *envFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	var env envFlags
	var names string
	fs := flag.NewFlagSet("leadr-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.identities, "identities", 1_000_000, "identities to seed")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of one timed run")
	fs.IntVar(&o.rounds, "rounds", 2, "runs of each scenario on each server, alternating; the best is reported")
	fs.IntVar(&o.concurrency, "c", 16, "requests in flight (closed loop)")
	fs.DurationVar(&o.soak, "soak", 60*time.Second, "length of the service's memory soak (the mix); 0 skips it")
	fs.StringVar(&o.databaseURL, "database-url", "", "an empty PostgreSQL database to use instead of a throw-away server")
	fs.Var(&env, "service-env", "K=V added to the service's environment (repeatable), to compare configurations")
	fs.StringVar(&names, "scenarios", "", "comma-separated subset of: "+strings.Join(scenarioNames(), ","))
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "folder for a CPU profile of the service per scenario (first round), from its debug listener")
	fs.StringVar(&o.before, "before", "", "a leadr binary of an earlier version, to load as a third server on a database of its own")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case o.identities < 100:
		return o, errors.New("-identities: at least 100")
	case o.duration <= 0 || o.rounds < 1 || o.concurrency < 1:
		return o, errors.New("-duration, -rounds and -c must be positive")
	case o.soak < 0:
		return o, errors.New("-soak: 0 or more")
	case o.before != "" && o.databaseURL != "":
		return o, errors.New("-before needs the throw-away server, on which it makes a second database: leave out -database-url")
	case o.before != "" && !executable(o.before):
		return o, fmt.Errorf("-before %s: not an executable file", o.before)
	}
	o.serviceEnv = env
	var err error
	o.scenarios, err = selectScenarios(names)
	return o, err
}

func selectScenarios(names string) ([]scenario, error) {
	if names == "" {
		return scenarios, nil
	}
	var out []scenario
	for _, n := range strings.Split(names, ",") {
		i := slices.IndexFunc(scenarios, func(s scenario) bool { return s.name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("-scenarios: unknown %q; known: %s", n, strings.Join(scenarioNames(), ","))
		}
		out = append(out, scenarios[i])
	}
	return out, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := bench(ctx, o, stdout, stderr)
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "leadr-bench: interrupted; everything it started is stopped and removed")
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "leadr-bench:", err)
		return 1
	}
	if !ok {
		fmt.Fprintln(stderr, "leadr-bench: a scenario had errors or no requests")
		return 1
	}
	return 0
}

// bench sets everything up, measures, reports, and tears everything down
// (deferred, so that errors and Ctrl-C clean up too). It reports whether
// every run was clean.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) (bool, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	work, err := os.MkdirTemp("", "leadr-bench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)

	dbURL := o.databaseURL
	if dbURL == "" {
		pg, err := startPostgres(ctx, work, logf)
		if err != nil {
			return false, err
		}
		defer pg.stop()
		dbURL = pg.url
	}

	svc, err := startService(ctx, dbURL, o.serviceEnv, stderr)
	if err != nil {
		return false, err
	}
	defer svc.stop()
	rss := sampleRSS(svc.pid())
	defer rss.stop()

	start := time.Now()
	fx, err := seed(ctx, svc, dbURL, o.identities, logf)
	if err != nil {
		return false, err
	}
	logf("seeded %d identities in %d accounts (%d games) in %s", len(fx.identities), len(fx.accounts), fx.games(), time.Since(start).Round(10*time.Millisecond))

	base, err := startBaseline(ctx, dbURL, svc.poolSize, stderr)
	if err != nil {
		return false, err
	}
	defer base.stop()

	targets := []*target{newServiceTarget("service", svc, fx), newBaselineTarget(base, fx)}
	if o.before != "" {
		before, t, err := startBeforeOn(ctx, o, dbURL, stderr, logf)
		if err != nil {
			return false, err
		}
		defer before.stop()
		targets = append(targets, t)
	}
	l := loader{concurrency: o.concurrency, duration: o.duration, logf: logf}
	if o.cpuprofile != "" {
		if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
			return false, err
		}
		l.profiler = &profiler{dir: o.cpuprofile, logf: logf}
	}
	results, err := l.rounds(ctx, targets, o.scenarios, o.rounds)
	if err != nil {
		return false, err
	}
	var mem memoryReport
	if o.soak > 0 {
		if mem, err = soakService(ctx, l, targets[onService], "http://"+svc.debugAddr+"/metrics", svc.pid(), o.soak); err != nil {
			return false, err
		}
	}
	mem.peakRSS, mem.hwm = rss.peak(), readStatus(svc.pid()).hwm

	r := report{options: o, fixture: fx, targets: targets, results: results, memory: mem}
	r.write(stdout)
	return r.clean(), nil
}

// startBeforeOn makes the earlier version's database on the server of
// dbURL, starts it there and seeds it as the service's was.
func startBeforeOn(ctx context.Context, o options, dbURL string, stderr io.Writer, logf func(string, ...any)) (*serviceProcess, *target, error) {
	beforeURL, err := createDatabase(ctx, dbURL, "leadr_before")
	if err != nil {
		return nil, nil, err
	}
	p, err := startBefore(ctx, o.before, beforeURL, o.serviceEnv, stderr)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	fx, err := seed(ctx, p, beforeURL, o.identities, logf)
	if err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("seeding -before: %w", err)
	}
	logf("seeded the same for -before in %s", time.Since(start).Round(10*time.Millisecond))
	return p, newServiceTarget("before", p, fx), nil
}

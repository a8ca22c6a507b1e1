// Command bench measures Sparrow against baselines taken in the same run, on
// the same machine and database, and prints each performance target of
// DESIGN.md with its ratio and whether it is met.
//
//	go run ./examples/bench                     # the suite, about 3 minutes on 2 cores
//	go run ./examples/bench -json > bench.json  # the same, for machines
//	go run ./examples/bench -rounds 3           # rates measured 3 times over, medians
//	go run ./examples/bench -backlog 1000000    # memory up to 1M deliveries owed
//	go run ./examples/bench -instances 3        # end-to-end rates with 3 engines too
//	go run ./examples/bench -history 1000000    # rates with 1M rows of history vs none
//	go run ./examples/bench -soak 10m -rate 1000
//	go run ./examples/bench -only e2e -cpuprofile e2e.prof
//	go run ./examples/bench -only fairness      # 1 stalled webhook of 10 vs none
//	go run ./examples/bench -only e2e,ordered   # 100 ordering keys vs none
//	go run ./examples/bench -only tenants       # a namespace's backlog vs another's latency
//	go run ./examples/bench -only api,insert,e2e # pushes over HTTP vs insert+commit and the library
//
// It finds PostgreSQL the way the tests do (DATABASE_URL, else 127.0.0.1:5432,
// else a throwaway cluster), creates a database of its own (or, when not
// allowed to, schemas in DATABASE_URL's) and drops it at the end, also on
// Ctrl-C. Every scenario runs in a schema of its own. All traffic stays on
// loopback: the receivers are local.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "bench: interrupted (its database dropped)")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// config is what the flags say.
type config struct {
	Duration         time.Duration
	Deliveries       int
	Jobs             int
	Payload          int
	PoolConns        int
	Workers          int
	PerWebhook       int
	BatchConcurrency int
	LatencyRate      int
	LatencyDuration  time.Duration
	LatencyWebhooks  int
	FairnessRate     int
	FairnessDuration time.Duration
	TenantsRate      int
	TenantsBacklog   int
	TenantsDuration  time.Duration
	Backlog          int
	Instances        int
	History          int
	ListCalls        int
	APIClients       int
	Rounds           int
	Only             map[string]bool

	Soak         time.Duration
	Rate         int
	SampleEvery  time.Duration
	SoakWebhooks int

	JSON       bool
	Quick      bool
	Progress   string
	CPUProfile string
	MemProfile string
	PprofAddr  string

	// settings is every flag's value, for the report.
	settings map[string]string
}

// scenarios are the names -only accepts, in the order they run.
var scenarios = []string{"noop", "insert", "rivertx", "pushtx", "api", "pushevents", "naive", "e2e", "ordered", "latency", "fairness", "tenants", "backlog", "history"}

// quickSettings shrink every size for a smoke run (the test's); flags given
// explicitly still win.
var quickSettings = map[string]string{
	"duration":          "300ms",
	"deliveries":        "100",
	"jobs":              "1000",
	"latency-rate":      "200",
	"latency-duration":  "1500ms",
	"fairness-rate":     "20",
	"fairness-duration": "1s",
	"tenants-backlog":   "2000",
	"tenants-duration":  "1s",
	"backlog":           "1000",
	"list-calls":        "20",
	"sample-every":      "500ms",
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./examples/bench [flags]\n\n"+
			"Measures Sparrow against same-run baselines and prints the targets met or not.\n\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "how long each fixed-time rate (insert+commit, PushEventTx, PushEvents, PushEvent over the API) is measured")
	fs.IntVar(&cfg.Deliveries, "deliveries", 20000, "deliveries per end-to-end run, the API's included (and per naive River run)")
	fs.IntVar(&cfg.Jobs, "jobs", 50000, "River no-op jobs to work")
	fs.IntVar(&cfg.Payload, "payload", 1024, "bytes of every event payload and naive POST body")
	fs.IntVar(&cfg.PoolConns, "pool", 20, "max connections of each pgx pool (baselines and each engine alike)")
	fs.IntVar(&cfg.Workers, "workers", 0, "the engine's WithMaxWorkers, also the River baselines' MaxWorkers (0: Sparrow's default)")
	fs.IntVar(&cfg.PerWebhook, "per-webhook", 0, "the engine's WithMaxConcurrentPerWebhook (0: Sparrow's default)")
	fs.IntVar(&cfg.BatchConcurrency, "batch-concurrency", 2, "concurrent PushEvents callers")
	fs.IntVar(&cfg.LatencyRate, "latency-rate", 1000, "offered deliveries/s of the latency run")
	fs.DurationVar(&cfg.LatencyDuration, "latency-duration", 20*time.Second, "how long the latency run offers its load")
	fs.IntVar(&cfg.LatencyWebhooks, "latency-webhooks", 10, "webhooks the latency run's deliveries go to (events/s = rate / webhooks)")
	fs.IntVar(&cfg.FairnessRate, "fairness-rate", 100, "fairness runs: events/s offered, each delivered to 10 webhooks (the default is the latency run's 1,000 deliveries/s); run A all healthy, run B with one webhook that holds every request until its 2s timeout")
	fs.DurationVar(&cfg.FairnessDuration, "fairness-duration", 10*time.Second, "fairness runs: how long each offers its load")
	fs.IntVar(&cfg.TenantsRate, "tenants-rate", 50, "fair sharing runs: namespace B's events/s, each to one webhook")
	fs.IntVar(&cfg.TenantsBacklog, "tenants-backlog", 100000, "fair sharing runs: deliveries namespace A owes its 10 webhooks when run B starts")
	fs.DurationVar(&cfg.TenantsDuration, "tenants-duration", 20*time.Second, "fair sharing runs: how long B pushes")
	fs.IntVar(&cfg.Backlog, "backlog", 200000, "deliveries owed (pushed, not yet received) the memory run grows to (e.g. 1000000)")
	fs.IntVar(&cfg.Instances, "instances", 1, "also measure end-to-end rates with this many engines (own River client and pool each, one database)")
	fs.IntVar(&cfg.History, "history", 0, "pre-fill this many finished deliveries and compare rates with and without them (0: skip)")
	fs.IntVar(&cfg.ListCalls, "list-calls", 100, "with -history: ListDeliveries calls timed per kind of listing")
	fs.IntVar(&cfg.APIClients, "api-clients", 16, "API runs: concurrent HTTP clients pushing single events over Connect JSON")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "measure the rates (baselines, pushes, end-to-end) this many times over and report the medians: steadier ratios on a busy machine")
	only := fs.String("only", "", "comma-separated scenarios to run, of: "+strings.Join(scenarios, ","))
	fs.DurationVar(&cfg.Soak, "soak", 0, "soak mode: push at -rate for this long, sampling resources (skips the suite)")
	fs.IntVar(&cfg.Rate, "rate", 1000, "soak mode: deliveries/s")
	fs.DurationVar(&cfg.SampleEvery, "sample-every", 10*time.Second, "soak mode: interval between samples")
	fs.IntVar(&cfg.SoakWebhooks, "soak-webhooks", 10, "soak mode: webhooks subscribed (events/s = rate / webhooks)")
	fs.BoolVar(&cfg.JSON, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&cfg.Quick, "quick", false, "tiny sizes, for a smoke test (explicit flags still win)")
	fs.StringVar(&cfg.Progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, else lines), bar, lines, off")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the measurements to this file")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile at each backlog checkpoint to this prefix + the backlog + .pb.gz")
	fs.StringVar(&cfg.PprofAddr, "pprof", "", "serve net/http/pprof on this loopback address while running (e.g. 127.0.0.1:6060)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %q\n", fs.Args())
		return nil, errUsage
	}
	if cfg.Quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, value := range quickSettings {
			if !set[name] {
				if err := fs.Set(name, value); err != nil {
					return nil, err
				}
			}
		}
	}
	if *only != "" {
		cfg.Only = map[string]bool{}
		for name := range strings.SplitSeq(*only, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(scenarios, name) {
				fmt.Fprintf(stderr, "-only: unknown scenario %q (have %s)\n", name, strings.Join(scenarios, ","))
				return nil, errUsage
			}
			cfg.Only[name] = true
		}
	}
	if err := cfg.validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, errUsage
	}
	cfg.settings = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { cfg.settings[f.Name] = f.Value.String() })
	return cfg, nil
}

func (c *config) validate() error {
	var problems []error
	positive := func(name string, v int) {
		if v <= 0 {
			problems = append(problems, fmt.Errorf("-%s must be positive", name))
		}
	}
	positive("deliveries", c.Deliveries)
	positive("jobs", c.Jobs)
	positive("pool", c.PoolConns)
	positive("batch-concurrency", c.BatchConcurrency)
	positive("latency-rate", c.LatencyRate)
	positive("latency-webhooks", c.LatencyWebhooks)
	positive("fairness-rate", c.FairnessRate)
	positive("tenants-rate", c.TenantsRate)
	positive("tenants-backlog", c.TenantsBacklog)
	positive("backlog", c.Backlog)
	positive("instances", c.Instances)
	positive("list-calls", c.ListCalls)
	positive("api-clients", c.APIClients)
	positive("rounds", c.Rounds)
	positive("rate", c.Rate)
	positive("soak-webhooks", c.SoakWebhooks)
	if c.Payload < 64 {
		problems = append(problems, errors.New("-payload must be at least 64 bytes"))
	}
	if c.Duration <= 0 || c.LatencyDuration <= 0 || c.FairnessDuration <= 0 || c.TenantsDuration <= 0 || c.SampleEvery <= 0 {
		problems = append(problems, errors.New("-duration, -latency-duration, -fairness-duration, -tenants-duration and -sample-every must be positive"))
	}
	if c.Workers < 0 || c.PerWebhook < 0 || c.History < 0 || c.Soak < 0 {
		problems = append(problems, errors.New("-workers, -per-webhook, -history and -soak must not be negative"))
	}
	if !slices.Contains([]string{"auto", "bar", "lines", "off"}, c.Progress) {
		problems = append(problems, fmt.Errorf("-progress %q: want auto, bar, lines or off", c.Progress))
	}
	return errors.Join(problems...)
}

// runs reports whether scenario is to run.
func (c *config) runs(scenario string) bool {
	if scenario == "history" && c.History == 0 {
		return false
	}
	return c.Only == nil || c.Only[scenario]
}

// run is the whole program: flags, database, the steps, the report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	prog := newProgress(stderr, cfg.Progress)
	defer prog.close()

	b := &bench{cfg: cfg, prog: prog, res: newResults(cfg), engineLog: newLogSink()}
	b.quiet = quietLogger()
	prog.note("finding PostgreSQL")
	if b.db, err = openDatabase(ctx, b.quiet); err != nil {
		return err
	}
	defer func() {
		// Cleanup must run even after Ctrl-C cancelled ctx; dropping the
		// database can take a minute or more on a server busy writing.
		cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if cerr := b.db.close(cleanupCtx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("cleanup: %w", cerr))
		}
	}()
	b.res.Environment.fill(b.db)

	if cfg.PprofAddr != "" {
		stopPprof, err := servePprof(cfg.PprofAddr)
		if err != nil {
			return err
		}
		defer stopPprof()
		prog.note("pprof on http://" + cfg.PprofAddr + "/debug/pprof/")
	}
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	steps := b.plan()
	prog.start(len(steps))
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		prog.begin(s.name)
		summary, err := s.run(ctx)
		if err != nil {
			prog.fail(err)
			return fmt.Errorf("%s: %w", s.name, err)
		}
		prog.end(summary)
	}
	prog.close()
	b.res.finish(b.engineLog)
	if cfg.JSON {
		return b.res.writeJSON(stdout)
	}
	return b.res.writeTable(stdout)
}

// step is one measurement of the plan; run returns a one-line summary for
// the progress display.
type step struct {
	name string
	run  func(ctx context.Context) (string, error)
}

// plan lists the steps the flags ask for. Each rate is measured right next
// to the baseline it is compared with, so a change in the machine's load
// during the run skews the ratio as little as possible.
func (b *bench) plan() []step {
	cfg := b.cfg
	if cfg.Soak > 0 {
		return []step{{fmt.Sprintf("soak, %d deliveries/s for %s", cfg.Rate, cfg.Soak), b.soak}}
	}
	var steps []step
	add := func(scenario, name string, run func(ctx context.Context) (string, error)) {
		if cfg.runs(scenario) {
			steps = append(steps, step{name, run})
		}
	}
	// The rates, each next to its baseline, -rounds times over: the
	// figures are the medians.
	for round := 1; round <= cfg.Rounds; round++ {
		suffix := ""
		if cfg.Rounds > 1 {
			suffix = fmt.Sprintf(" (round %d of %d)", round, cfg.Rounds)
		}
		add("noop", "River no-op jobs"+suffix, b.riverNoop)
		for _, conc := range []int{1, 8} {
			add("insert", fmt.Sprintf("insert+commit, concurrency %d", conc)+suffix, b.insertCommit(conc))
			add("rivertx", fmt.Sprintf("insert+River InsertTx, concurrency %d", conc)+suffix, b.insertRiverTx(conc))
			add("pushtx", fmt.Sprintf("insert+PushEventTx, concurrency %d", conc)+suffix, b.pushEventTx(conc))
		}
		add("api", fmt.Sprintf("PushEvent over the API, %d clients", cfg.APIClients)+suffix, b.apiIngest)
		add("pushevents", "PushEvents batches"+suffix, b.pushEvents)
		add("naive", "naive River delivery"+suffix, b.naiveDelivery)
		for _, webhooks := range []int{1, 10} {
			add("e2e", fmt.Sprintf("end-to-end, %d webhook(s)", webhooks)+suffix, b.endToEnd(webhooks, 1))
			if webhooks == 1 {
				add("ordered", fmt.Sprintf("end-to-end, 1 webhook, %d ordering keys", orderedKeys)+suffix, b.ordered)
				add("api", fmt.Sprintf("end-to-end through the API, 1 webhook, %d clients", cfg.APIClients)+suffix, b.apiEndToEnd)
			}
			if cfg.Instances > 1 {
				add("e2e", fmt.Sprintf("end-to-end, %d webhook(s), %d instances", webhooks, cfg.Instances)+suffix, b.endToEnd(webhooks, cfg.Instances))
			}
		}
	}
	add("latency", fmt.Sprintf("latency at %d deliveries/s to %d webhook(s)", cfg.LatencyRate, cfg.LatencyWebhooks), b.latency)
	add("fairness", fmt.Sprintf("fairness, %d events/s to %d webhooks, 1 stalled vs none", cfg.FairnessRate, fairnessWebhooks), b.fairness)
	add("tenants", fmt.Sprintf("fair sharing, namespace B at %d events/s with namespace A owing %d vs alone", cfg.TenantsRate, cfg.TenantsBacklog), b.tenants)
	add("backlog", fmt.Sprintf("memory while the backlog grows to %d", cfg.Backlog), b.backlog)
	add("history", fmt.Sprintf("empty tables vs %d rows of history", cfg.History), b.history)
	return steps
}

// bench is one run: its settings, database, progress display and results.
type bench struct {
	cfg       *config
	db        *database
	prog      *progress
	res       *Results
	engineLog *logSink
	quiet     *slog.Logger
}

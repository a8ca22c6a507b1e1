package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Results is everything a run measured; -json prints it as is.
type Results struct {
	Started     time.Time         `json:"started"`
	Seconds     float64           `json:"seconds"`
	Environment Environment       `json:"environment"`
	Settings    map[string]string `json:"settings"`
	// Figures are every number measured, in the order taken.
	Figures []Figure `json:"figures"`
	// Targets are DESIGN.md's performance targets, each judged against its
	// same-run reference.
	Targets   []Target        `json:"targets"`
	Latency   *LatencyResult  `json:"latency,omitempty"`
	Fairness  *FairnessResult `json:"fairness,omitempty"`
	Tenants   *TenantsResult  `json:"tenants,omitempty"`
	Backlog   []BacklogSample `json:"backlog,omitempty"`
	History   *HistoryResult  `json:"history,omitempty"`
	Soak      *SoakResult     `json:"soak,omitempty"`
	EngineLog EngineLog       `json:"engine_log"`
	// Diagnostics say where the engines spent their time, step by step.
	Diagnostics []Diagnostic `json:"diagnostics"`

	mu sync.Mutex
}

// Environment says where the figures come from.
type Environment struct {
	GoVersion  string `json:"go_version"`
	Platform   string `json:"platform"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Postgres   string `json:"postgres"`
	Source     string `json:"postgres_source"`
	Database   string `json:"database"`
}

func (e *Environment) fill(db *database) {
	e.GoVersion = runtime.Version()
	e.Platform = runtime.GOOS + "/" + runtime.GOARCH
	e.CPUs = runtime.NumCPU()
	e.GOMAXPROCS = runtime.GOMAXPROCS(0)
	e.Postgres = db.version
	e.Source = string(db.server.Source)
	e.Database = db.own
	if db.own == "" {
		e.Database = "schemas " + db.schemaPrefix() + "* in DATABASE_URL's database"
	}
}

// Section groups figures in the table.
type Section string

const (
	SectionBaseline Section = "baseline"
	SectionSparrow  Section = "sparrow"
	SectionLatency  Section = "latency"
	SectionFairness Section = "fairness"
	SectionTenants  Section = "tenants"
	SectionMemory   Section = "memory"
	SectionHistory  Section = "history"
	SectionSoak     Section = "soak"
)

// Figure is one number measured.
type Figure struct {
	Key     string  `json:"key"`
	Section Section `json:"section"`
	Label   string  `json:"label"`
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`
	// Signed figures may be zero or negative (a slope); all others are
	// positive in a sound run.
	Signed bool `json:"signed,omitempty"`
	// Rounds are the values measured when -rounds measured the figure more
	// than once; Value is their median.
	Rounds []float64 `json:"rounds,omitempty"`
}

// Target is a performance goal judged: Value against Reference (a same-run
// baseline, or the goal's absolute number), their Ratio, and the Goal the
// ratio must meet.
type Target struct {
	Name           string  `json:"name"`
	Value          float64 `json:"value"`
	Unit           string  `json:"unit"`
	Reference      float64 `json:"reference"`
	ReferenceLabel string  `json:"reference_label"`
	Ratio          float64 `json:"ratio"`
	Goal           string  `json:"goal"`
	Met            bool    `json:"met"`
	// RoundRatios are each round's ratio when -rounds measured both
	// figures more than once.
	RoundRatios []float64 `json:"round_ratios,omitempty"`
	Note        string    `json:"note,omitempty"`
}

// Diagnostic is what the engines did during one step besides its figure.
type Diagnostic struct {
	Step string `json:"step"`
	// PoolAcquires counts connections taken from the engines' pools,
	// PoolWaited those that found the pool empty, PoolMeanWaitMS their mean
	// wait.
	PoolAcquires   int64   `json:"pool_acquires"`
	PoolWaited     int64   `json:"pool_waited"`
	PoolMeanWaitMS float64 `json:"pool_mean_wait_ms"`
	// Snoozes counts delivery jobs River ran only for them to snooze;
	// SnoozesPerJob is per delivery job.
	Snoozes       int64   `json:"snoozes"`
	SnoozesPerJob float64 `json:"snoozes_per_job"`
}

// EngineLog counts what the engines logged at warning level or above; a
// clean run logs nothing.
type EngineLog struct {
	Warnings int      `json:"warnings"`
	Errors   int      `json:"errors"`
	First    []string `json:"first,omitempty"`
}

func newResults(cfg *config) *Results {
	return &Results{Started: time.Now(), Settings: cfg.settings, Figures: []Figure{}, Targets: []Target{}, Diagnostics: []Diagnostic{}}
}

// add records a figure.
func (r *Results) add(key string, section Section, label string, value float64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Figures = append(r.Figures, Figure{Key: key, Section: section, Label: label, Value: value, Unit: unit})
}

// addSigned records a figure that may be zero or negative.
func (r *Results) addSigned(key string, section Section, label string, value float64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Figures = append(r.Figures, Figure{Key: key, Section: section, Label: label, Value: value, Unit: unit, Signed: true})
}

func (r *Results) diagnose(d Diagnostic) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Diagnostics = append(r.Diagnostics, d)
}

func (r *Results) figure(key string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Key == key {
			return f, true
		}
	}
	return Figure{}, false
}

// finish merges figures measured in several rounds and judges the targets
// whose figures were measured.
func (r *Results) finish(log *logSink) {
	r.Seconds = time.Since(r.Started).Seconds()
	r.mergeRounds()
	r.EngineLog = log.snapshot()
	r.relative("end-to-end, 1 webhook / naive River delivery", "e2e_1_webhook", "naive_delivery", 1.5)
	r.relativeEveryRound("end-to-end, 10 webhooks / naive River delivery", "e2e_10_webhooks", "naive_delivery", 1.5)
	r.relative("end-to-end, 100 ordering keys / no key", "e2e_ordered", "e2e_1_webhook", 0.5)
	r.relative("PushEventTx c1 / plain insert+commit c1", "push_event_tx_c1", "insert_commit_c1", 0.5)
	r.relative("PushEventTx c8 / plain insert+commit c8", "push_event_tx_c8", "insert_commit_c8", 0.5)
	r.relative(fmt.Sprintf("API ingest, PushEvent over Connect JSON at %s clients / plain insert+commit c8", r.Settings["api-clients"]),
		"api_ingest", "insert_commit_c8", 0.8)
	r.relative("API end-to-end, 1 webhook / end-to-end, 1 webhook", "api_e2e_1_webhook", "e2e_1_webhook", 0.6)
	r.absolute("PushEvents", "push_events", 20000, true)
	if t, ok := r.absolute("p99 push→received", "latency_p99", 100, false); ok && r.Latency != nil {
		if short := r.Latency.Achieved < 0.95*r.Latency.Offered || r.Latency.Late > 0; short {
			t.Met = false
			t.Note = fmt.Sprintf("achieved %s of %s deliveries/s offered, %d not received within the drain time", thousands(r.Latency.Achieved), thousands(r.Latency.Offered), r.Latency.Late)
		}
	}
	r.judgeFairness()
	r.judgeTenants()
	r.ceiling("Go heap, last / first backlog checkpoint", "backlog_heap_last", "backlog_heap_first", 1.2)
	r.relative("PushEventTx c8, history / empty", "history_push_tx_full", "history_push_tx_empty", 0.8)
	r.relative("end-to-end, history / empty", "history_e2e_full", "history_e2e_empty", 0.8)
	r.ceiling("ListDeliveries p99, history / empty", "history_list_p99_full", "history_list_p99_empty", 1.2)
}

// mergeRounds makes one figure of each key measured more than once: the
// median of its values, in the place of the first.
func (r *Results) mergeRounds() {
	index := map[string]int{}
	var merged []Figure
	for _, f := range r.Figures {
		if i, ok := index[f.Key]; ok {
			merged[i].Rounds = append(merged[i].Rounds, f.Value)
			continue
		}
		f.Rounds = []float64{f.Value}
		index[f.Key] = len(merged)
		merged = append(merged, f)
	}
	for i := range merged {
		f := &merged[i]
		if len(f.Rounds) == 1 {
			f.Rounds = nil
			continue
		}
		f.Value = median(f.Rounds)
	}
	r.Figures = merged
}

func median(values []float64) float64 {
	sorted := slices.Sorted(slices.Values(values))
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// relative judges value ≥ factor × reference.
func (r *Results) relative(name, valueKey, refKey string, factor float64) {
	r.judgeRelative(name, valueKey, refKey, factor, false)
}

// relativeEveryRound judges value ≥ factor × reference in every round
// measured, not only their medians.
func (r *Results) relativeEveryRound(name, valueKey, refKey string, factor float64) {
	r.judgeRelative(name, valueKey, refKey, factor, true)
}

func (r *Results) judgeRelative(name, valueKey, refKey string, factor float64, everyRound bool) {
	v, ok1 := r.figure(valueKey)
	ref, ok2 := r.figure(refKey)
	if !ok1 || !ok2 || ref.Value <= 0 {
		return
	}
	ratio := v.Value / ref.Value
	t := Target{
		Name: name, Value: v.Value, Unit: v.Unit, Reference: ref.Value, ReferenceLabel: ref.Label,
		Ratio: ratio, Goal: fmt.Sprintf("≥ %.2g×", factor), Met: ratio >= factor,
	}
	// Each round's value and reference were measured side by side.
	if len(v.Rounds) > 1 && len(v.Rounds) == len(ref.Rounds) {
		var each []string
		for i := range v.Rounds {
			roundRatio := v.Rounds[i] / ref.Rounds[i]
			t.RoundRatios = append(t.RoundRatios, roundRatio)
			each = append(each, fmt.Sprintf("%.2f×", roundRatio))
			if everyRound && roundRatio < factor {
				t.Met = false
			}
		}
		t.Note = "rounds " + strings.Join(each, ", ")
	}
	if everyRound {
		t.Goal += " in every round"
	}
	r.Targets = append(r.Targets, t)
}

// ceiling judges value ≤ factor × reference.
func (r *Results) ceiling(name, valueKey, refKey string, factor float64) {
	v, ok1 := r.figure(valueKey)
	ref, ok2 := r.figure(refKey)
	if !ok1 || !ok2 || ref.Value <= 0 {
		return
	}
	ratio := v.Value / ref.Value
	r.Targets = append(r.Targets, Target{
		Name: name, Value: v.Value, Unit: v.Unit, Reference: ref.Value, ReferenceLabel: ref.Label,
		Ratio: ratio, Goal: fmt.Sprintf("≤ %.2g×", factor), Met: ratio <= factor,
	})
}

// absolute judges value against a fixed goal: at least it, or at most.
func (r *Results) absolute(name, valueKey string, goal float64, atLeast bool) (*Target, bool) {
	v, ok := r.figure(valueKey)
	if !ok {
		return nil, false
	}
	t := Target{Name: name, Value: v.Value, Unit: v.Unit, Reference: goal, ReferenceLabel: "the goal", Ratio: v.Value / goal}
	if atLeast {
		t.Goal, t.Met = "≥ "+thousands(goal)+" "+v.Unit, v.Value >= goal
	} else {
		t.Goal, t.Met = "≤ "+thousands(goal)+" "+v.Unit, v.Value <= goal
	}
	r.Targets = append(r.Targets, t)
	return &r.Targets[len(r.Targets)-1], true
}

func (r *Results) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var sectionTitles = []struct {
	section Section
	title   string
}{
	{SectionBaseline, "BASELINES (same run)"},
	{SectionSparrow, "SPARROW"},
	{SectionLatency, "LATENCY"},
	{SectionFairness, "FAIRNESS: 1 STALLED WEBHOOK OF 10 (B) VS NONE (A)"},
	{SectionTenants, "FAIR SHARING: NAMESPACE B WITH NAMESPACE A'S BACKLOG (B) VS ALONE (A)"},
	{SectionMemory, "MEMORY"},
	{SectionHistory, "HISTORY"},
	{SectionSoak, "SOAK"},
}

// writeTable prints the results for people.
func (r *Results) writeTable(w io.Writer) error {
	var buf bytes.Buffer
	if err := r.table(&buf); err != nil {
		return err
	}
	// tabwriter pads cells up to the line's end: trim that.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func (r *Results) table(w io.Writer) error {
	e := r.Environment
	fmt.Fprintf(w, "\nSparrow bench: %s, %s, %d CPUs (GOMAXPROCS %d), PostgreSQL %s (%s), %s\n",
		e.GoVersion, e.Platform, e.CPUs, e.GOMAXPROCS, e.Postgres, e.Source, time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
	fmt.Fprintf(w, "settings: %s\n", r.settingsLine())
	left := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range sectionTitles {
		first := true
		for _, f := range r.Figures {
			if f.Section != s.section {
				continue
			}
			if first {
				// Cells on the blank and title lines keep the column
				// block unbroken: figures line up across sections.
				fmt.Fprintf(left, "\t\n%s\t\n", s.title)
				first = false
			}
			fmt.Fprintf(left, "  %s\t%12s %s%s\n", f.Label, number(f.Value), f.Unit, roundsNote(f.Rounds))
		}
	}
	if len(r.Backlog) > 0 {
		fmt.Fprintf(left, "\nMEMORY WHILE THE BACKLOG GROWS\n  owed\tpending (db)\tGo heap\tRSS\tgoroutines\n")
		for _, s := range r.Backlog {
			fmt.Fprintf(left, "  %s\t%s\t%s\t%s\t%d\n", thousands(float64(s.Owed)), thousands(float64(s.Pending)),
				mib(s.HeapBytes), mib(s.RSSBytes), s.Goroutines)
		}
	}
	if r.History != nil {
		fmt.Fprintf(left, "\nLISTDELIVERIES WITH %s ROWS OF HISTORY\n  query\tp99 empty\tp99 history\n", thousands(float64(r.History.Rows)))
		for _, q := range r.History.Queries {
			fmt.Fprintf(left, "  %s\t%.2f ms\t%.2f ms\n", q.Name, q.Empty.P99, q.Full.P99)
		}
	}
	if r.Soak != nil {
		r.Soak.writeTable(left)
	}
	if len(r.Diagnostics) > 0 {
		fmt.Fprintf(left, "\nENGINE DIAGNOSTICS\n  step\tpool acquires\twaited for a connection\tmean wait\tdelivery jobs snoozed\t\n")
		for _, d := range r.Diagnostics {
			fmt.Fprintf(left, "  %s\t%s\t%s\t%.1f ms\t%s (%.2f per job)\t\n", d.Step, thousands(float64(d.PoolAcquires)),
				thousands(float64(d.PoolWaited)), d.PoolMeanWaitMS, thousands(float64(d.Snoozes)), d.SnoozesPerJob)
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintf(left, "\nTARGETS\n  target\tvalue\treference\tratio\tgoal\t\n")
		for _, t := range r.Targets {
			verdict := "met"
			if !t.Met {
				verdict = "NOT MET"
			}
			if t.Note != "" {
				verdict += " (" + t.Note + ")"
			}
			fmt.Fprintf(left, "  %s\t%s %s\t%s\t%.2f×\t%s\t%s\n", t.Name, number(t.Value), t.Unit, number(t.Reference), t.Ratio, t.Goal, verdict)
		}
	}
	if r.EngineLog.Warnings+r.EngineLog.Errors > 0 {
		fmt.Fprintf(left, "\nENGINE LOG: %d warnings, %d errors; the first:\n", r.EngineLog.Warnings, r.EngineLog.Errors)
		for _, line := range r.EngineLog.First {
			fmt.Fprintf(left, "  %s\n", line)
		}
	}
	return left.Flush()
}

// settingsLine lists the settings that size the run.
func (r *Results) settingsLine() string {
	names := []string{"duration", "deliveries", "jobs", "payload", "pool", "workers", "per-webhook", "latency-webhooks", "backlog", "instances", "history", "api-clients", "rounds"}
	if r.Soak != nil {
		names = []string{"soak", "rate", "soak-webhooks", "sample-every", "payload", "pool", "workers", "per-webhook"}
	}
	var parts []string
	for _, name := range names {
		if v, ok := r.Settings[name]; ok {
			parts = append(parts, "-"+name+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// roundsNote lists the values a median was taken of.
func roundsNote(rounds []float64) string {
	if len(rounds) == 0 {
		return ""
	}
	values := make([]string, len(rounds))
	for i, v := range rounds {
		values[i] = number(v)
	}
	return "  (median of " + strings.Join(values, ", ") + ")"
}

// number formats a figure: thousands separators for large values, a few
// significant digits for small ones.
func number(v float64) string {
	switch {
	case math.Abs(v) >= 100 || v == math.Trunc(v):
		return thousands(v)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// thousands formats v rounded, with thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mib(bytes uint64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

// rate formats a rate for a progress summary.
func rate(v float64, unit string) string { return thousands(v) + " " + unit }

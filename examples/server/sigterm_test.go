package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// sigtermDeadline is SPARROW_SHUTDOWN_TIMEOUT in TestSIGTERMUnderLoad, and
// sigtermSlack what the process may take beyond it to cancel what is left,
// settle its jobs and exit.
const (
	sigtermDeadline = 5 * time.Second
	sigtermSlack    = 2 * time.Second
)

// TestSIGTERMUnderLoad sends SIGTERM to a real server process while it
// delivers a load to a slow receiver and events keep being pushed, then
// starts a second process on the same database. It checks the guarantee of
// docs/reliability.md:
//
//   - the process exits with 0, no later than the shutdown deadline plus a
//     little (one receiver stalls, and one API client sends its request
//     slowly, past the deadline, so the deadline is what ends the shutdown,
//     not the work running out);
//   - attempts in flight at the signal finish and are recorded: none to a
//     receiver that answers within the deadline is cut;
//   - every attempt the receiver answered is recorded, and nothing else is:
//     an attempt cut at the deadline leaves no trace and no job stuck in
//     "running";
//   - the next start delivers the rest: every accepted event's deliveries end
//     succeeded, and no attempt answered before the shutdown is sent again.
func TestSIGTERMUnderLoad(t *testing.T) {
	t.Parallel()

	const (
		eventName    = "load.tick"
		slowWebhooks = 3
		webhooks     = slowWebhooks + 1 // and one that stalls
		firstLoad    = 200              // events pushed before the signal
		batch        = 50
	)
	began := time.Now()
	bin := buildServer(t)
	builtIn := time.Since(began)
	schema := pgtest.EmptySchema(t)
	rcv := newLoadReceiver()
	// Cleanups run last-in first-out: registered before the processes', so
	// the receiver and the schema outlive the servers; the stalled requests
	// are let go before the receiver closes.
	ts := httptest.NewServer(rcv)
	t.Cleanup(ts.Close)
	t.Cleanup(rcv.release)
	api := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}

	first := startProcess(t, bin, schema)
	if code, out := postJSON(t, api, first.url+"/webhook.EventService/RegisterEvent", `{"name": "`+eventName+`"}`, nil); code != 200 {
		t.Fatalf("RegisterEvent: %d %v", code, out)
	}
	for i := range webhooks {
		path := "/slow/" + strconv.Itoa(i)
		if i == slowWebhooks {
			path = "/stalled"
		}
		if code, out := postJSON(t, api, first.url+"/webhook.WebhookService/RegisterWebhook",
			`{"url": "`+ts.URL+path+`", "events": ["`+eventName+`"]}`, nil); code != 200 {
			t.Fatalf("RegisterWebhook: %d %v", code, out)
		}
	}
	var accepted []string // events whose push was answered OK
	for range firstLoad / batch {
		ids, err := pushEvents(api, first.url, eventName, batch)
		if err != nil {
			t.Fatal(err)
		}
		accepted = append(accepted, ids...)
	}

	// Pushes keep coming while the server shuts down, until it refuses them.
	var (
		pushMu     sync.Mutex
		pushErr    error
		pushErrAt  time.Time
		duringLoad []string
		pushedAt   []time.Time // when each of duringLoad was accepted
	)
	stopPushing, pushed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(pushed)
		for {
			select {
			case <-stopPushing:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ids, err := pushEvents(api, first.url, eventName, 5)
			pushMu.Lock()
			duringLoad = append(duringLoad, ids...)
			for range ids {
				pushedAt = append(pushedAt, time.Now())
			}
			if err != nil {
				pushErr, pushErrAt = err, time.Now()
			}
			pushMu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-stopPushing:
		default:
			close(stopPushing)
		}
		<-pushed
	})

	// An API client in the middle of a request (a batch uploaded slowly)
	// when the signal comes, still sending at the deadline: its request
	// must not take the deliveries' time.
	slowClient, err := net.Dial("tcp", strings.TrimPrefix(first.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slowClient.Close() })
	if _, err := io.WriteString(slowClient, "POST /webhook.EventService/PushEvents HTTP/1.1\r\nHost: sparrow\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"events\": ["); err != nil {
		t.Fatal(err)
	}

	// Signal once deliveries flow and the stalled receiver holds an attempt
	// that will outlast the deadline.
	if !waitFor(20*time.Second, func() bool { s := rcv.snapshot(); return s.answered >= 100 && s.stalledActive > 0 }) {
		t.Fatalf("the load did not get going: %+v\n%s", rcv.snapshot(), first.log())
	}
	atSignal := rcv.snapshot()
	signalAt := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var exitErr error
	select {
	case <-first.exited:
		exitErr = first.waitErr
	case <-time.After(sigtermDeadline + 15*time.Second):
		t.Fatalf("no exit %s after SIGTERM\n%s", sigtermDeadline+15*time.Second, first.log())
	}
	exitAfter := time.Since(signalAt)
	close(stopPushing)
	<-pushed
	if exitErr != nil || first.cmd.ProcessState.ExitCode() != 0 {
		t.Errorf("exit after SIGTERM: %v\n%s", exitErr, first.log())
	}
	// The stalled attempt holds the shutdown for the whole deadline: exiting
	// sooner would mean cutting in-flight work short.
	if exitAfter < sigtermDeadline || exitAfter > sigtermDeadline+sigtermSlack {
		t.Errorf("exit %s after SIGTERM, want between the %s deadline and %s more\n%s", exitAfter, sigtermDeadline, sigtermSlack, first.log())
	}
	pushMu.Lock()
	if pushErr != nil && pushErrAt.Before(signalAt) {
		t.Fatalf("a push failed before the signal: %v", pushErr)
	}
	accepted = append(accepted, duringLoad...)
	acceptedAfterSignal := 0
	for _, at := range pushedAt {
		if at.After(signalAt) {
			acceptedAfterSignal++
		}
	}
	pushMu.Unlock()

	// The process is gone, and with it its connections to the receiver: once
	// every handler has returned, the receiver's record is final for it.
	if !waitFor(10*time.Second, func() bool { return rcv.snapshot().active == 0 }) {
		t.Fatalf("the receiver still serves the stopped process: %+v", rcv.snapshot())
	}
	db := pgtest.Pool(t)
	ctx := context.Background()
	table := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	recorded := func() map[attemptKey]bool {
		t.Helper()
		rows, err := db.Query(ctx, "SELECT delivery_id, attempt FROM "+table("sparrow_delivery_attempt")+
			" WHERE status_code = 200 AND error_class = ''")
		if err != nil {
			t.Fatal(err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowToStructByPos[attemptKey])
		if err != nil {
			t.Fatal(err)
		}
		set := map[attemptKey]bool{}
		for _, k := range keys {
			set[k] = true
		}
		return set
	}
	// Only the receiver answers 200; any other record is an attempt the
	// shutdown cut and recorded as the receiver's failure.
	otherAttempts := func() int {
		var n int
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+table("sparrow_delivery_attempt")+
			" WHERE status_code IS DISTINCT FROM 200 OR error_class <> ''").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// No attempt in flight was lost: what the receiver answered is exactly
	// what was recorded, and an attempt cut at the deadline is not a failure.
	afterFirst := rcv.results()
	if got, want := recorded(), afterFirst.answeredKeys(1); !sameKeys(got, want) {
		t.Errorf("after the first process: %d attempts recorded as 200, the receiver answered %d; missing %v, unexplained %v",
			len(got), len(want), missingKeys(want, got), missingKeys(got, want))
	}
	if n := otherAttempts(); n > 0 {
		t.Errorf("after the first process: %d attempts recorded as failed: the shutdown was taken for the receiver's failure", n)
	}
	cut := afterFirst.cut(1)
	if len(cut) == 0 {
		t.Error("no attempt was cut at the deadline: the stalled receiver did not hold the shutdown")
	}
	if n := afterFirst.cutAnswering(1); n > 0 {
		t.Errorf("%d attempts to receivers answering within 400ms were cut: in-flight work did not get to finish", n)
	}
	var running int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM "+table("river_job")+" WHERE state = 'running'").Scan(&running); err != nil {
		t.Fatal(err)
	}
	if running != 0 {
		t.Errorf("%d jobs left running: the next start would only rescue them after River's RescueStuckJobsAfter", running)
	}

	// The next start picks up the rest.
	rcv.nextPhase()
	secondAt := time.Now()
	second := startProcess(t, bin, schema)
	deliveries, events := table("sparrow_delivery"), table("sparrow_event")
	drained := waitFor(25*time.Second, func() bool {
		var pending, total, evs int
		err := db.QueryRow(ctx, "SELECT count(*) FILTER (WHERE status <> 'succeeded'), count(*), (SELECT count(*) FROM "+events+
			" WHERE name = $1) FROM "+deliveries, eventName).Scan(&pending, &total, &evs)
		if err != nil {
			t.Fatal(err)
		}
		return pending == 0 && total == evs*webhooks
	})
	drainedIn := time.Since(secondAt)
	if !drained {
		var summary []byte
		_ = db.QueryRow(ctx, "SELECT json_object_agg(status, n) FROM (SELECT status, count(*) n FROM "+deliveries+" GROUP BY status) s").Scan(&summary)
		t.Fatalf("the second process did not deliver the rest in 25s: deliveries by status %s\n%s", summary, second.log())
	}

	// Every accepted event reached every webhook, and succeeded.
	var short []string
	rows, err := db.Query(ctx, "SELECT e.id FROM unnest($1::text[]) e(id) LEFT JOIN "+deliveries+
		" d ON d.event_id = e.id AND d.status = 'succeeded' GROUP BY e.id HAVING count(d.id) <> $2", accepted, webhooks)
	if err == nil {
		short, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(short) > 0 {
		t.Errorf("%d of %d accepted events lack succeeded deliveries, e.g. %v", len(short), len(accepted), short[:min(5, len(short))])
	}
	final := rcv.results()
	if got, want := recorded(), final.answeredKeys(0); !sameKeys(got, want) {
		t.Errorf("in the end: %d attempts recorded as 200, the receiver answered %d; missing %v, unexplained %v",
			len(got), len(want), missingKeys(want, got), missingKeys(got, want))
	}
	if n := otherAttempts(); n > 0 {
		t.Errorf("in the end: %d attempts recorded as failed", n)
	}
	// An attempt answered before the shutdown is never sent again; one cut
	// at the deadline is (at least once), by the second process.
	byFirst, bySecond := final.deliveredIDs(1), final.deliveredIDs(2)
	var resent []string
	for id := range byFirst {
		if final.answers[id] > 1 {
			resent = append(resent, id)
		}
	}
	if len(resent) > 0 {
		t.Errorf("%d deliveries answered before the shutdown were sent again, e.g. %v", len(resent), resent[:min(5, len(resent))])
	}
	for _, id := range cut {
		if !bySecond[id] {
			t.Errorf("delivery %s, cut at the deadline, was not delivered by the second process", id)
		}
	}
	duplicates := 0
	for _, n := range final.answers {
		duplicates += max(n-1, 0)
	}

	t.Logf("build: %s; start to signal: %s", builtIn.Round(time.Millisecond), signalAt.Sub(began.Add(builtIn)).Round(time.Millisecond))
	t.Logf("SIGTERM to exit: %s (deadline %s); in flight at the signal: %d (%d to the stalled receiver); attempts started after the signal: %d",
		exitAfter.Round(time.Millisecond), sigtermDeadline, atSignal.active, atSignal.stalledActive, afterFirst.startedAfter(signalAt))
	t.Logf("events accepted: %d (%d after the signal); deliveries by the first process: %d, by the second: %d (start and drain: %s); cut at the deadline and redelivered: %d; duplicates (a delivery answered twice): %d",
		len(accepted), acceptedAfterSignal, len(byFirst), len(bySecond), drainedIn.Round(time.Millisecond), len(cut), duplicates)
}

// buildServer builds this command into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProcess is the server running as a process of its own.
type serverProcess struct {
	cmd     *exec.Cmd
	url     string
	stderr  *lineBuffer
	exited  chan struct{} // closed once Wait returned, waitErr set
	waitErr error
}

var servingLine = regexp.MustCompile(`msg="sparrow serving" http=(\S+)`)

// startProcess starts the server binary on schema, on loopback ports of its
// choosing, with env (NAME=value) added to its environment, and returns once
// it serves. The test's end stops it.
func startProcess(t *testing.T, bin, schema string, env ...string) *serverProcess {
	t.Helper()
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	// Only what the server needs: no OTEL_* from the environment, so nothing
	// leaves the machine; PG* kept for a DATABASE_URL that relies on them.
	env = append([]string{
		"DATABASE_URL=" + url + sep + "search_path=" + schema,
		"SPARROW_BIND=127.0.0.1",
		"HTTP_PORT=0",
		"GRPC_PORT=0",
		"RIVER_UI_PORT=off",
		"SPARROW_ALLOW_PRIVATE_NETWORKS=true",
		"SPARROW_SHUTDOWN_TIMEOUT=" + sigtermDeadline.String(),
		"LOG_LEVEL=info",
	}, env...)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	p := &serverProcess{cmd: exec.Command(bin), stderr: &lineBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.waitErr != nil {
				t.Errorf("server process stopped with %v\n%s", p.waitErr, p.log())
			}
		case <-time.After(sigtermDeadline + 10*time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("server process did not stop on SIGTERM\n%s", p.log())
		}
	})
	started := waitFor(30*time.Second, func() bool {
		select {
		case <-p.exited:
			return true
		default:
		}
		if m := servingLine.FindStringSubmatch(p.stderr.String()); m != nil {
			p.url = "http://" + m[1]
			return true
		}
		return false
	})
	if !started || p.url == "" {
		t.Fatalf("server process did not start\n%s", p.log())
	}
	return p
}

// log is the process's output so far, for failure messages.
func (p *serverProcess) log() string {
	return "--- server output:\n" + p.stderr.String()
}

// lineBuffer collects a process's output, safe to read while it is written.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pushEvents pushes n events in one PushEvents call and returns their IDs
// if, and only if, the server answered OK.
func pushEvents(c *http.Client, base, name string, n int) ([]string, error) {
	events := make([]map[string]any, n)
	for i := range events {
		events[i] = map[string]any{"event": name, "payload": map[string]any{"n": i}}
	}
	body, _ := json.Marshal(map[string]any{"events": events})
	resp, err := c.Post(base+"/webhook.EventService/PushEvents", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		EventIDs []string `json:"eventIds"`
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("PushEvents: %d %s", resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.EventIDs) != n {
		return nil, fmt.Errorf("PushEvents: %s (%v)", raw, err)
	}
	return out.EventIDs, nil
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// attemptKey is an attempt: its delivery (the Webhook-Id header) and number
// (Sparrow-Attempt), as recorded in sparrow_delivery_attempt.
type attemptKey struct {
	DeliveryID string
	Attempt    int
}

// arrival is one request the receiver got.
type arrival struct {
	key      attemptKey
	phase    int // 1: sent by the first process, 2: by the second
	started  time.Time
	stalled  bool
	answered bool // 200 written and flushed to a sender still waiting
}

// loadReceiver answers deliveries in 200-400ms, except on /stalled, where
// it holds them until released (after the first process is gone), so that
// an attempt outlasts the shutdown deadline.
type loadReceiver struct {
	mu        sync.Mutex
	phase     int
	arrivals  []*arrival
	active    map[*arrival]bool
	hold      chan struct{}
	closeHold sync.Once
}

func newLoadReceiver() *loadReceiver {
	return &loadReceiver{phase: 1, active: map[*arrival]bool{}, hold: make(chan struct{})}
}

func (rc *loadReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	n, _ := strconv.Atoi(r.Header.Get("Sparrow-Attempt"))
	a := &arrival{key: attemptKey{r.Header.Get("Webhook-Id"), n}, started: time.Now(), stalled: r.URL.Path == "/stalled"}
	rc.mu.Lock()
	a.phase = rc.phase
	rc.arrivals = append(rc.arrivals, a)
	rc.active[a] = true
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		delete(rc.active, a)
		rc.mu.Unlock()
	}()
	if a.stalled {
		select {
		case <-rc.hold:
		case <-r.Context().Done():
			return // the sender gave up: no answer
		}
	}
	select {
	case <-time.After(200*time.Millisecond + rand.N(200*time.Millisecond)):
	case <-r.Context().Done():
		return
	}
	// A whole response (no body to follow) is on the wire once flushed. The
	// sender may close the connection as soon as it has read it (when it
	// keeps no more idle connections), so its context is checked before.
	if r.Context().Err() != nil {
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	if err := http.NewResponseController(w).Flush(); err != nil {
		return
	}
	rc.mu.Lock()
	a.answered = true
	rc.mu.Unlock()
}

// release lets the stalled requests through.
func (rc *loadReceiver) release() { rc.closeHold.Do(func() { close(rc.hold) }) }

// nextPhase marks the requests from now on as the second process's, and
// stops stalling.
func (rc *loadReceiver) nextPhase() {
	rc.mu.Lock()
	rc.phase = 2
	rc.mu.Unlock()
	rc.release()
}

type receiverSnapshot struct{ answered, active, stalledActive int }

func (rc *loadReceiver) snapshot() receiverSnapshot {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s := receiverSnapshot{active: len(rc.active)}
	for a := range rc.active {
		if a.stalled {
			s.stalledActive++
		}
	}
	for _, a := range rc.arrivals {
		if a.answered {
			s.answered++
		}
	}
	return s
}

// receiverResults is a copy of the receiver's record.
type receiverResults struct {
	arrivals []arrival
	answers  map[string]int // by delivery: how many requests were answered
}

func (rc *loadReceiver) results() receiverResults {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	res := receiverResults{answers: map[string]int{}}
	for _, a := range rc.arrivals {
		res.arrivals = append(res.arrivals, *a)
		if a.answered {
			res.answers[a.key.DeliveryID]++
		}
	}
	return res
}

// answeredKeys returns the attempts answered in phase, or in any for 0.
func (res receiverResults) answeredKeys(phase int) map[attemptKey]bool {
	set := map[attemptKey]bool{}
	for _, a := range res.arrivals {
		if a.answered && (phase == 0 || a.phase == phase) {
			set[a.key] = true
		}
	}
	return set
}

// deliveredIDs returns the deliveries answered in phase.
func (res receiverResults) deliveredIDs(phase int) map[string]bool {
	set := map[string]bool{}
	for k := range res.answeredKeys(phase) {
		set[k.DeliveryID] = true
	}
	return set
}

// cut returns the deliveries whose attempt in phase the sender gave up on.
func (res receiverResults) cut(phase int) []string {
	var ids []string
	for _, a := range res.arrivals {
		if !a.answered && a.phase == phase {
			ids = append(ids, a.key.DeliveryID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// cutAnswering counts the attempts in phase the sender gave up on although
// their receiver answers promptly.
func (res receiverResults) cutAnswering(phase int) int {
	n := 0
	for _, a := range res.arrivals {
		if !a.answered && !a.stalled && a.phase == phase {
			n++
		}
	}
	return n
}

func (res receiverResults) startedAfter(t time.Time) int {
	n := 0
	for _, a := range res.arrivals {
		if a.phase == 1 && a.started.After(t) {
			n++
		}
	}
	return n
}

func sameKeys(a, b map[attemptKey]bool) bool {
	return len(missingKeys(a, b)) == 0 && len(missingKeys(b, a)) == 0
}

// missingKeys returns up to 5 keys of a not in b.
func missingKeys(a, b map[attemptKey]bool) []attemptKey {
	var out []attemptKey
	for k := range a {
		if !b[k] && len(out) < 5 {
			out = append(out, k)
		}
	}
	return out
}

// TestSecondSignalEndsAtOnce sends SIGTERM to a server process whose
// graceful shutdown is held up (a delivery in flight to a receiver that
// doesn't answer, a minute's deadline), then SIGTERM again: the second ends
// the process at once, killed by the signal rather than exiting when the
// shutdown is done.
func TestSecondSignalEndsAtOnce(t *testing.T) {
	t.Parallel()

	arrived, release := make(chan struct{}, 10), make(chan struct{})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(rcv.Close)
	t.Cleanup(func() { close(release) })
	p := startProcess(t, buildServer(t), pgtest.EmptySchema(t), "SPARROW_SHUTDOWN_TIMEOUT=1m")
	api := &http.Client{Timeout: 10 * time.Second}
	postJSON(t, api, p.url+"/webhook.EventService/RegisterEvent", `{"name": "order.created"}`, nil)
	postJSON(t, api, p.url+"/webhook.WebhookService/RegisterWebhook", `{"url": "`+rcv.URL+`", "events": ["order.created"]}`, nil)
	if code, out := postJSON(t, api, p.url+"/webhook.EventService/PushEvent", `{"event": "order.created", "payload": {}}`, nil); code != 200 {
		t.Fatalf("PushEvent: %d %v", code, out)
	}
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatalf("the delivery did not start\n%s", p.log())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The line is logged once the default handling is back, so the second
	// signal can't be taken for the first.
	if !waitFor(20*time.Second, func() bool { return strings.Contains(p.stderr.String(), "a second signal ends the process at once") }) {
		t.Fatalf("no sign of the graceful shutdown\n%s", p.log())
	}
	select {
	case <-p.exited:
		t.Fatalf("the shutdown was not held up: the process exited before the second signal\n%s", p.log())
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the process outlived a second SIGTERM\n%s", p.log())
	}
	status, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !status.Signaled() || status.Signal() != syscall.SIGTERM {
		t.Fatalf("the process ended with %v, want killed by the second SIGTERM\n%s", p.cmd.ProcessState, p.log())
	}
}

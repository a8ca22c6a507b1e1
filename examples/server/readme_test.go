package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sparrowhq/sparrow/internal/pgtest"
)

// readmeSection is the part of README.md whose commands TestREADMEFlow runs.
const readmeSection = "## Run it as a service"

// The addresses the README's commands use, and what a newcomer puts in
// place of a webhook's id.
const (
	readmeServer   = "http://localhost:8080"
	readmeReceiver = "http://127.0.0.1:9000"
)

var readmeWebhookIDs = []string{"WEBHOOK_ID", "{webhook_id}"}

// TestREADMEFlow does what a newcomer following README.md's "Run it as a
// service" does, from an empty database: it runs the section's ```sh
// blocks in order (make migrate, make run with the environment the README
// gives it, the curl commands with their methods, headers and bodies, make
// example), with this test's server and receiver in place of localhost:8080
// and 127.0.0.1:9000 and each webhook's id where the README says to put it.
// Every command must succeed, every webhook registered must get its event,
// and the README's health commands must then report it healthy. A README
// edit that breaks a command fails here.
func TestREADMEFlow(t *testing.T) {
	t.Parallel()

	commands := readmeCommands(t, readmeSection)
	schema := pgtest.EmptySchema(t)
	rcv := newRecordingReceiver(t)
	var (
		srv        *running
		srvEnv     map[string]string
		runEnv     map[string]string // of the last `make run`
		webhookID  string
		webhookIDs []string
		health     [][]string // the health commands, to repeat
	)
	server := func() *running {
		t.Helper()
		if runEnv == nil {
			t.Fatal("README.md calls the server before any `make run`")
		}
		if srv != nil && maps.Equal(srvEnv, runEnv) {
			return srv
		}
		if srv != nil {
			if err := srv.stop(); err != nil {
				t.Fatal(err)
			}
		}
		// Only the README's environment decides what the server may reach.
		env := map[string]string{"SPARROW_ALLOW_PRIVATE_NETWORKS": ""}
		maps.Copy(env, runEnv)
		srv, srvEnv = startServerIn(t, schema, env), runEnv
		return srv
	}
	for _, cmd := range commands {
		env, args := splitAssignments(cmd)
		switch strings.Join(args, " ") {
		case "make migrate":
			cfg, err := configFromEnv(func(k string) string { return databaseURL(t, schema, k) })
			if err != nil {
				t.Fatal(err)
			}
			if err := migrate(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				t.Fatalf("make migrate: %v", err)
			}
			continue
		case "make run":
			runEnv = env
			continue
		case "make example":
			s := server()
			run := exec.Command("make", "--no-print-directory", "example")
			run.Dir = repoRoot(t)
			run.Env = append(os.Environ(), "SPARROW_URL="+s.httpURL, "SPARROW_GRPC_URL=http://"+s.grpcAddr)
			out, err := run.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "health: healthy") {
				t.Fatalf("make example: %v\n%s", err, out)
			}
			continue
		}
		if len(env) > 0 || len(args) == 0 || args[0] != "curl" {
			t.Fatalf("README.md runs %q, which this test does not know how to run: teach it, or keep the section to make migrate, make run, make example and curl", cmd)
		}
		s := server()
		args = substitute(args, map[string]string{readmeServer: s.httpURL, readmeReceiver: rcv.URL})
		if mentionsWebhookID(args) {
			if webhookID == "" {
				t.Fatalf("%q uses a webhook id before any command returned one", cmd)
			}
			for _, placeholder := range readmeWebhookIDs {
				args = substitute(args, map[string]string{placeholder: webhookID})
			}
		}
		out := curl(t, args)
		if id, ok := out["webhookId"].(string); ok {
			webhookID, webhookIDs = id, append(webhookIDs, id)
		}
		if strings.Contains(strings.ToLower(strings.Join(args, " ")), "health") {
			health = append(health, args)
		}
	}
	if len(webhookIDs) == 0 || len(health) == 0 {
		t.Fatalf("README.md's flow registers %d webhooks and reads health %d times: it lost its examples", len(webhookIDs), len(health))
	}
	for _, id := range webhookIDs {
		if !rcv.await(id, 15*time.Second) {
			t.Errorf("webhook %s got nothing (delivered: %v)", id, rcv.webhooks())
		}
	}
	for _, args := range health {
		var out map[string]any
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if out = curl(t, args); out["healthStatus"] == "healthy" {
				break
			}
		}
		if out["healthStatus"] != "healthy" || out["successRate"] != 100.0 {
			t.Errorf("%q: %v, want healthy at 100%%", args, out)
		}
	}
}

// readmeCommands returns the commands of the ```sh blocks in README.md's
// section (a "## " heading, up to the next one), split into words as sh
// does: comments dropped, continued lines joined, quotes removed.
func readmeCommands(t *testing.T, section string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	start := strings.Index(text, "\n"+section+"\n")
	if start < 0 {
		t.Fatalf("README.md has no %q section", section)
	}
	text = text[start+len(section)+2:]
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	var commands [][]string
	for rest := text; ; {
		_, block, ok := strings.Cut(rest, "```sh\n")
		if !ok {
			break
		}
		block, rest, ok = strings.Cut(block, "```")
		if !ok {
			t.Fatal("README.md: an unterminated ```sh block")
		}
		cmds, err := shellWords(strings.ReplaceAll(block, "\\\n", ""))
		if err != nil {
			t.Fatalf("README.md: %v in\n%s", err, block)
		}
		commands = append(commands, cmds...)
	}
	if len(commands) == 0 {
		t.Fatalf("README.md's %q has no ```sh commands", section)
	}
	return commands
}

// shellWords splits script into commands (one a line) of words, as sh
// does for the simple commands a README shows: single and double quotes,
// backslash escapes, comments. Anything that would need a shell (pipes,
// substitutions, variables, background jobs) is an error rather than a
// guess.
func shellWords(script string) ([][]string, error) {
	var commands [][]string
	for _, line := range strings.Split(script, "\n") {
		var words []string
		var word strings.Builder
		inWord := false
		flush := func() {
			if inWord {
				words = append(words, word.String())
			}
			word.Reset()
			inWord = false
		}
	scan:
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case c == ' ' || c == '\t':
				flush()
			case c == '#' && !inWord:
				break scan
			case c == '\'':
				end := strings.IndexByte(line[i+1:], '\'')
				if end < 0 {
					return nil, fmt.Errorf("unterminated ' in %q", line)
				}
				word.WriteString(line[i+1 : i+1+end])
				i, inWord = i+1+end, true
			case c == '"':
				i++
				for ; i < len(line) && line[i] != '"'; i++ {
					if strings.IndexByte("$`", line[i]) >= 0 {
						return nil, fmt.Errorf("%q needs a shell (%c)", line, line[i])
					}
					if line[i] == '\\' && i+1 < len(line) && strings.IndexByte(`"\`, line[i+1]) >= 0 {
						i++
					}
					word.WriteByte(line[i])
				}
				if i == len(line) {
					return nil, fmt.Errorf("unterminated \" in %q", line)
				}
				inWord = true
			case c == '\\' && i+1 < len(line):
				i++
				word.WriteByte(line[i])
				inWord = true
			case strings.IndexByte("|&;<>()$`*?", c) >= 0:
				return nil, fmt.Errorf("%q needs a shell (%c)", line, c)
			default:
				word.WriteByte(c)
				inWord = true
			}
		}
		flush()
		if len(words) > 0 {
			commands = append(commands, words)
		}
	}
	return commands, nil
}

// splitAssignments separates a command's leading NAME=value words, the
// environment sh gives it.
func splitAssignments(words []string) (map[string]string, []string) {
	env := map[string]string{}
	for len(words) > 0 {
		name, value, ok := strings.Cut(words[0], "=")
		if !ok || name == "" || strings.ContainsAny(name, "-/.:") {
			break
		}
		env[name] = value
		words = words[1:]
	}
	return env, words
}

func substitute(words []string, replace map[string]string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		for old, repl := range replace {
			w = strings.ReplaceAll(w, old, repl)
		}
		out[i] = w
	}
	return out
}

func mentionsWebhookID(words []string) bool {
	for _, w := range words {
		for _, placeholder := range readmeWebhookIDs {
			if strings.Contains(w, placeholder) {
				return true
			}
		}
	}
	return false
}

// curl makes the request curl would make of args (-X, -H, -d, -s, a URL),
// requires a 200 and returns the JSON answer. An option it doesn't know
// fails the test rather than being ignored.
func curl(t *testing.T, args []string) map[string]any {
	t.Helper()
	var (
		method, url, body string
		hasBody           bool
		header            = http.Header{}
	)
	for i := 1; i < len(args); i++ {
		next := func() string {
			t.Helper()
			if i+1 >= len(args) {
				t.Fatalf("curl %s needs a value: %q", args[i], args)
			}
			i++
			return args[i]
		}
		switch a := args[i]; a {
		case "-X", "--request":
			method = next()
		case "-H", "--header":
			name, value, ok := strings.Cut(next(), ":")
			if !ok {
				t.Fatalf("curl -H %q: not a header", args[i])
			}
			header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		case "-d", "--data", "--data-raw":
			body, hasBody = next(), true
		case "-s", "--silent", "-S", "--show-error", "-sS":
		default:
			if strings.HasPrefix(a, "-") || url != "" {
				t.Fatalf("curl %q: this test does not know %q", args, a)
			}
			url = a
		}
	}
	if method == "" {
		method = http.MethodGet
		if hasBody {
			method = http.MethodPost
		}
	}
	if hasBody && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded") // curl's default for -d
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("curl %q: %v", args, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("curl %q: %d %s", args, resp.StatusCode, raw)
	}
	return out
}

// recordingReceiver answers every delivery 200 and records which webhooks
// it came for.
type recordingReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got map[string]bool // by Sparrow-Webhook-Id
}

func newRecordingReceiver(t *testing.T) *recordingReceiver {
	rcv := &recordingReceiver{got: map[string]bool{}}
	rcv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rcv.mu.Lock()
		rcv.got[r.Header.Get("Sparrow-Webhook-Id")] = true
		rcv.mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	return rcv
}

func (rcv *recordingReceiver) await(webhookID string, timeout time.Duration) bool {
	return waitFor(timeout, func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.got[webhookID]
	})
}

func (rcv *recordingReceiver) webhooks() []string {
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	return slices.Sorted(maps.Keys(rcv.got))
}

// databaseURL is the environment `make migrate` sees: DATABASE_URL on the
// test's schema.
func databaseURL(t *testing.T, schema, name string) string {
	if name != "DATABASE_URL" {
		return ""
	}
	url := pgtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

// repoRoot is the module's root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

package proto

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGenerateChecksProtoc runs generate.sh with another protoc first on
// PATH: it stops before generating anything (npm, the first step, is never
// called), naming the version it found and the one it wants.
func TestGenerateChecksProtoc(t *testing.T) {
	t.Parallel()

	bin := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	fake := map[string]string{
		"protoc": "echo 'libprotoc 99.1.0'",
		// The others only need to exist; a call of one is a step run, and
		// fails, so that a script going on stops there, before it writes.
		"grpc_python_plugin": "echo $0 >> " + ran + "; exit 1",
		"npm":                "echo $0 >> " + ran + "; exit 1",
		"perl":               "echo $0 >> " + ran + "; exit 1",
	}
	for name, script := range fake {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "generate.sh")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("generate.sh ran with protoc 99.1.0:\n%s", out)
	}
	if !strings.Contains(string(out), "99.1.0") || !strings.Contains(string(out), pinnedVersion(t)) {
		t.Fatalf("the message names neither the protoc found nor the one wanted:\n%s", out)
	}
	if steps, err := os.ReadFile(ran); err == nil {
		t.Fatalf("generate.sh went on to run %s", steps)
	}
}

// TestPinnedProtocIsCommitted checks generate.sh pins the protoc the
// committed Go was generated with.
func TestPinnedProtocIsCommitted(t *testing.T) {
	t.Parallel()

	src, err := os.ReadFile(filepath.Join("webhookpb", "webhook.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//\s+protoc\s+v(\S+)$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("webhookpb/webhook.pb.go does not name its protoc")
	}
	if pinned := pinnedVersion(t); string(m[1]) != pinned {
		t.Fatalf("generate.sh pins protoc %s, the committed code was made by %s", pinned, m[1])
	}
}

func pinnedVersion(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile("generate.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^PROTOC_VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("generate.sh has no PROTOC_VERSION=")
	}
	return string(m[1])
}

package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The inputs of a dashboard build, as web/scripts/sources.js lists them.
var (
	inputDirs  = []string{"web/src", "web/static"}
	inputFiles = []string{
		"web/package-lock.json",
		"web/scripts/postbuild.js",
		"web/scripts/sources.js",
		"web/svelte.config.js",
		"web/tsconfig.json",
		"web/vite.config.ts",
	}
)

// sourcesDigest computes what web/scripts/sources.js computes: sha256 over
// each input's path, length and bytes (CRLF read as LF), in path order.
func sourcesDigest(root string) (string, error) {
	files := slices.Clone(inputFiles)
	for _, dir := range inputDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if p != filepath.Join(root, dir) && (strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".test.ts")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				rel, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		fmt.Fprintf(h, "%s\n%d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// TestDistIsFresh fails when web/ changed since dashboard/dist was built,
// so that the committed, embedded build can't fall behind its sources (the
// build records their digest in dashboard/dist-sources.sha256). It needs no
// Node.js; outside the repository (no web/) it has nothing to check.
func TestDistIsFresh(t *testing.T) {
	root := ".."
	if _, err := os.Stat(filepath.Join(root, "web", "package.json")); err != nil {
		t.Skip("no web/ sources here")
	}
	recorded, err := os.ReadFile("dist-sources.sha256")
	if err != nil {
		t.Fatalf("dashboard/dist-sources.sha256: %v (build the dashboard: make build-web)", err)
	}
	want, _, _ := strings.Cut(string(recorded), " ")
	got, err := sourcesDigest(root)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("dashboard/dist is stale: web/ changed since it was built.\n"+
			"Run make build-web and commit dashboard/dist and dashboard/dist-sources.sha256.\n(sources %s, built from %s)", got, want)
	}
}

// TestSourcesDigestMatchesTheBuild keeps this file and web/scripts/sources.js
// listing the same inputs.
func TestSourcesDigestMatchesTheBuild(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "web", "scripts", "sources.js"))
	if err != nil {
		t.Skip("no web/ sources here")
	}
	for _, p := range append(slices.Clone(inputDirs), inputFiles...) {
		if !bytes.Contains(script, []byte("'"+p+"'")) {
			t.Errorf("web/scripts/sources.js does not list %s", p)
		}
		if _, err := os.Stat(filepath.Join("..", filepath.FromSlash(p))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if n := bytes.Count(script, []byte("'web/")); n != len(inputDirs)+len(inputFiles) {
		t.Errorf("web/scripts/sources.js lists %d inputs, this test %d", n, len(inputDirs)+len(inputFiles))
	}
}

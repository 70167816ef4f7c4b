// Package layering holds the architecture of docs and design.md in a
// test: which firn packages may import which, and that every package has
// a doc comment. It reads `go list` output, so it checks the real build
// graph (test files excluded).
package layering

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/firnhq/firn/"

type pkg struct {
	path    string
	imports []string
	doc     string
}

func list(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}\t{{.Doc}}", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			continue
		}
		pkgs = append(pkgs, pkg{path: strings.TrimPrefix(f[0], mod), imports: strings.Fields(f[1]), doc: f[2]})
	}
	return pkgs
}

func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

// rule forbids packages under from importing anything matching deny,
// unless it matches allow.
type rule struct {
	from  string
	deny  func(imp string) bool
	allow func(imp string) bool
	why   string
}

func firn(imp string) (string, bool) {
	if strings.HasPrefix(imp, mod) {
		return strings.TrimPrefix(imp, mod), true
	}
	return "", false
}

var concrete = []string{"internal/meta/sqlite", "internal/blob/fs"}

func isConcrete(imp string) bool {
	p, ok := firn(imp)
	if !ok {
		return false
	}
	for _, c := range concrete {
		if under(p, c) {
			return true
		}
	}
	return false
}

var rules = []rule{
	{from: "internal/meta", why: "storage imports nothing above it",
		deny:  func(imp string) bool { _, ok := firn(imp); return ok },
		allow: func(imp string) bool { p, _ := firn(imp); return under(p, "internal/meta") || p == "internal/clock" }},
	{from: "internal/blob", why: "storage imports nothing above it",
		deny:  func(imp string) bool { _, ok := firn(imp); return ok },
		allow: func(imp string) bool { p, _ := firn(imp); return under(p, "internal/blob") || p == "internal/clock" }},
	{from: "internal/clock", why: "leaf package", deny: func(imp string) bool { _, ok := firn(imp); return ok }},
	{from: "internal/checksum", why: "leaf package", deny: func(imp string) bool { _, ok := firn(imp); return ok }},
	{from: "internal/object", why: "the service speaks no HTTP", deny: func(imp string) bool { return imp == "net/http" }},
	{from: "internal/object", why: "services get stores injected", deny: isConcrete},
	{from: "internal/s3api", why: "the protocol layer gets stores injected", deny: isConcrete},
	{from: "internal/s3api", why: "the protocol layer talks to the service, not the stores",
		deny: func(imp string) bool { p, _ := firn(imp); return under(p, "internal/blob") }},
}

func TestLayering(t *testing.T) {
	for _, p := range list(t) {
		for _, imp := range p.imports {
			for _, r := range rules {
				if !under(p.path, r.from) || !r.deny(imp) || (r.allow != nil && r.allow(imp)) {
					continue
				}
				t.Errorf("%s imports %s: %s", p.path, imp, r.why)
			}
			if isConcrete(imp) && !under(p.path, "internal/app") {
				if p2, _ := firn(imp); !under(p.path, p2) {
					t.Errorf("%s imports concrete store %s: only internal/app wires implementations", p.path, imp)
				}
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	for _, p := range list(t) {
		if strings.TrimSpace(p.doc) == "" {
			t.Errorf("package %s has no doc comment", p.path)
		}
	}
}

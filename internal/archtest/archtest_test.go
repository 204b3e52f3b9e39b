// Package archtest holds tests of the code's shape that no single package can check itself.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// root is the module's root folder.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", dir)
	}
	return dir
}

// sources calls fn for every non-test Go file of the module, parsed.
func sources(t *testing.T, fn func(path string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	goFiles(t, false, fn)
}

// goFiles calls fn for every Go file of the module, parsed with its comments: the test files
// if tests is set, the others if not.
func goFiles(t *testing.T, tests bool, fn func(path string, fset *token.FileSet, f *ast.File)) {
	t.Helper()
	base := root(t)
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != base && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") != tests {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, path)
		fn(rel, fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoExportedMutableGlobals: a package-level slice, map or struct literal that other
// packages can reach is a constant anyone may change by accident (append, assignment); such
// lists are functions that return a fresh copy.
func TestNoExportedMutableGlobals(t *testing.T) {
	sources(t, func(path string, fset *token.FileSet, f *ast.File) {
		if f.Name.Name == "main" {
			return
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !name.IsExported() || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.CompositeLit)
					if !ok {
						continue
					}
					switch lit.Type.(type) {
					case *ast.ArrayType, *ast.MapType:
						t.Errorf("%s:%d: exported %s is a slice or map anyone may change; make it a function",
							path, fset.Position(name.Pos()).Line, name.Name)
					}
				}
			}
		}
	})
}

// TestLibrariesStandAlone: media/, search/ and storage/ are libraries: their code imports nothing of
// internal/, and their tests link only the leaves that start the real services and wait for
// them, not the product.
func TestLibrariesStandAlone(t *testing.T) {
	allowedInTests := map[string]bool{
		"github.com/shizuishan/culturecloud/internal/testservices": true,
		"github.com/shizuishan/culturecloud/internal/devservices":  true,
		"github.com/shizuishan/culturecloud/internal/testwait":     true,
	}
	for _, tc := range []struct {
		name  string
		args  []string
		allow map[string]bool
	}{
		{"code", []string{"list", "-deps", "./media/...", "./search/...", "./storage/..."}, nil},
		{"tests", []string{"list", "-deps", "-test", "./media/...", "./search/...", "./storage/..."}, allowedInTests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), "go", tc.args...)
			cmd.Dir = root(t)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go %s: %v", strings.Join(tc.args, " "), err)
			}
			for pkg := range strings.Lines(string(out)) {
				// "pkg [x.test]" is pkg compiled again for x's tests: the same package.
				pkg, _, _ = strings.Cut(strings.TrimSpace(pkg), " ")
				if strings.HasPrefix(pkg, "github.com/shizuishan/culturecloud/internal/") && !tc.allow[pkg] {
					t.Errorf("media/, search/ or storage/ %s link %s", tc.name, pkg)
				}
			}
		})
	}
}

// TestOneOwnerOfMinIO: only the storage adapter imports the MinIO driver, in code and in
// tests, so that errors are mapped in one place and a second backend replaces one package.
func TestOneOwnerOfMinIO(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "go", "list", "-test", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	owners := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, "github.com/minio/minio-go/") {
				continue
			}
			if pkg := fields[0]; pkg != "github.com/shizuishan/culturecloud/storage" {
				t.Errorf("%s imports %s; use the storage package", pkg, imp)
			} else {
				owners++
			}
		}
	}
	if owners == 0 {
		t.Fatal("the storage package imports no MinIO driver: is this check still right?")
	}
}

// TestSourceSize keeps the code readable in one sitting: no source file over 800 lines and
// no function over 120 lines (tests excepted; the route table is one list and may be long).
func TestSourceSize(t *testing.T) {
	const maxFileLines, maxFuncLines = 800, 120
	sources(t, func(path string, fset *token.FileSet, f *ast.File) {
		if lines := fset.File(f.Pos()).LineCount(); lines > maxFileLines {
			t.Errorf("%s has %d lines, more than %d", path, lines, maxFileLines)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			name := "a function literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, name = fn.Body, fn.Name.Name
				if name == "routes" && strings.HasSuffix(path, "internal/server/routes.go") {
					return false
				}
			case *ast.FuncLit:
				body = fn.Body
			}
			if body != nil {
				start, end := fset.Position(body.Lbrace), fset.Position(body.Rbrace)
				if lines := end.Line - start.Line + 1; lines > maxFuncLines {
					t.Errorf("%s:%d: %s has %d lines, more than %d", path, start.Line, name, lines, maxFuncLines)
				}
			}
			return true
		})
	})
}

// TestLayers: imports point down the layers of docs/architecture.md.
func TestLayers(t *testing.T) {
	const mod = "github.com/shizuishan/culturecloud/"
	layer := map[string]int{}
	for i, names := range [][]string{
		// apiclient speaks only HTTP: generated from the API document, it imports nothing of ours.
		{"dep", "validate", "ids", "i18n", "problem", "config", "scratch", "lockedio", "apiclient"},
		{"docstore", "ocfl", "outbox", "jobs", "views", "sessions", "liveroom", "mail"},
		{"library", "courses", "lectures", "collections", "exhibitions", "learning", "accounts", "units", "review",
			"replays", "derivatives", "transcoding", "imageservice"},
		{"attach", "pipeline", "indexer", "importer", "live", "fixity", "demo", "web", "manifests"},
		{"server"},
		{"app"},
	} {
		for _, n := range names {
			layer["internal/"+n] = i
		}
	}
	// Outside the layers: what tests and benchmarks stand on.
	outside := map[string]bool{"internal/archtest": true, "internal/bench": true, "internal/devservices": true, "internal/e2e": true,
		"internal/mail/mailtest": true, "internal/testenv": true, "internal/testservices": true, "internal/testwait": true}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./internal/...")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		from, ok := layer[strings.TrimPrefix(fields[0], mod)]
		if !ok {
			if !outside[strings.TrimPrefix(fields[0], mod)] {
				t.Errorf("%s is in no layer: add it to this test and to docs/architecture.md", strings.TrimPrefix(fields[0], mod))
			}
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			if to, ok := layer[strings.TrimPrefix(imp, mod)]; ok && to > from {
				t.Errorf("%s imports %s, a layer above it", strings.TrimPrefix(fields[0], mod), strings.TrimPrefix(imp, mod))
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d packages checked; is the layer list still right?", checked)
	}
}

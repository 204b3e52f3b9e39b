package sfu

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceSize keeps the SFU readable in one sitting (issue 12, point 6): no source file
// of the package or its subpackages over maxFileLines (tests excepted), and no function,
// tests included, over maxFuncLines. A part that outgrows them splits, as sfu.go did into
// config, listen, stats and tap, and the hot path into internal/packetcache, sendqueue and
// gso.
func TestSourceSize(t *testing.T) {
	const maxFileLines, maxFuncLines = 800, 120
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if lines := fset.File(f.Pos()).LineCount(); lines > maxFileLines && !strings.HasSuffix(path, "_test.go") {
			t.Errorf("%s has %d lines, more than %d", path, lines, maxFileLines)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			name := "a function literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, name = fn.Body, fn.Name.Name
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
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

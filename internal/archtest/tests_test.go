package archtest

import (
	"go/ast"
	"go/token"
	"strings"
	"testing"
)

// sleepReason is the comment that marks a sleep in a test as real time the test needs (media
// that must be recorded, a paced stream to join mid-GOP), not a wait for something to happen.
const sleepReason = "real time on purpose"

// TestSleepsInTestsAreExplained: a test that sleeps to let something happen is slow when the
// machine is fast and red when it is slow; it polls (internal/testwait), moves an injected
// clock (testwait.Clock) or waits for a signal instead. A sleep that stays says why on its own
// line or the line above.
func TestSleepsInTestsAreExplained(t *testing.T) {
	goFiles(t, true, func(path string, fset *token.FileSet, f *ast.File) {
		explained := map[int]bool{}
		for _, group := range f.Comments {
			for _, c := range group.List {
				if strings.Contains(c.Text, sleepReason) {
					explained[fset.Position(c.Slash).Line] = true
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isTimeSleep(f, call.Fun) {
				return true
			}
			line := fset.Position(call.Pos()).Line
			if !explained[line] && !explained[line-1] {
				t.Errorf("%s:%d: time.Sleep in a test without a %q comment; poll with internal/testwait or move a testwait.Clock",
					path, line, "// "+sleepReason+": <why>")
			}
			return true
		})
	})
}

// isTimeSleep reports whether fun is time.Sleep of the standard library, under whatever name
// the file imports package time.
func isTimeSleep(f *ast.File, fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Sleep" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	for _, imp := range f.Imports {
		if imp.Path.Value != `"time"` {
			continue
		}
		name := "time"
		if imp.Name != nil {
			name = imp.Name.Name
		}
		return pkg.Name == name
	}
	return false
}

// TestTestFunctionsAreShort: a test longer than a screenful or three hides which step failed
// and why; long scenarios become tables of named steps run with t.Run.
func TestTestFunctionsAreShort(t *testing.T) {
	const maxTestFuncLines = 150
	goFiles(t, true, func(path string, fset *token.FileSet, f *ast.File) {
		if ast.IsGenerated(f) {
			return // the generated API client: nobody writes its functions as steps
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := fset.Position(fn.Body.Lbrace), fset.Position(fn.Body.Rbrace)
			if lines := end.Line - start.Line + 1; lines > maxTestFuncLines {
				t.Errorf("%s:%d: %s has %d lines, more than %d; make its steps a table", path, start.Line, fn.Name.Name, lines, maxTestFuncLines)
			}
		}
	})
}

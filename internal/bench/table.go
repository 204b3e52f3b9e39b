package bench

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// Row is one line of the table: a product figure next to its baseline from the same run.
type Row struct {
	Measure  string
	Product  string
	Baseline string
	Ratio    string // product ÷ baseline
	Goal     string
	Result   string // the figure the goal speaks of, and whether it is met
	Note     string
}

type table struct {
	rows    []Row
	caption string
}

func (t table) write(w io.Writer) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Measure | Product | Baseline | Ratio | Goal | Result | How |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", esc(r.Measure), esc(r.Product), esc(r.Baseline),
			esc(r.Ratio), esc(r.Goal), esc(r.Result), esc(r.Note))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.caption)
}

func ratio(product, baseline float64) string {
	if baseline == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", product/baseline)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return "this machine"
	}
	return h
}

func numCPU() int { return runtime.NumCPU() }

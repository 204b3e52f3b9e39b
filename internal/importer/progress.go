package importer

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far a phase has come: a bar on a terminal, a line per 10 rows elsewhere
// (logs, pipes, tests). Only the goroutine that collects results calls it.
type progress struct {
	w     io.Writer
	tty   bool
	bar   *progressbar.ProgressBar
	phase string
	done  int
	total int
}

// lineEvery is how many rows pass between two lines when the output is not a terminal.
const lineEvery = 10

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w, tty: isTerminal(w)}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// start begins a phase of total rows.
func (p *progress) start(phase string, total int) {
	p.phase, p.done, p.total = phase, 0, total
	if p.tty {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(phase),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
		)
	}
}

// step counts one row; counts, when given, end the line ("imported 8, skipped 0, failed 2").
func (p *progress) step(counts string) {
	p.done++
	if p.bar != nil {
		_ = p.bar.Add(1)
		return
	}
	if p.done%lineEvery == 0 || p.done == p.total {
		if counts != "" {
			counts = ": " + counts
		}
		fmt.Fprintf(p.w, "%s %d/%d%s\n", p.phase, p.done, p.total, counts)
	}
}

// finish ends the phase (the bar is left complete on its own line).
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// Package scratch makes the temporary folders of media jobs and removes those that a dead
// worker left behind: a folder's name carries the process id of its maker, so a worker
// starting up can tell an orphan (its maker is gone) from a folder another live worker on
// the same machine is using.
package scratch

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Dir makes a new folder "<prefix>-<pid>-<random>" in parent ("" for the system's).
func Dir(parent, prefix string) (string, error) {
	return os.MkdirTemp(parent, prefix+"-"+strconv.Itoa(os.Getpid())+"-*")
}

// Sweep removes the folders of Dir(parent, prefix) whose maker no longer runs, and says
// how many it removed.
func Sweep(parent, prefix string) (int, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return 0, err
	}
	removed := 0
	var errs []error
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix+"-")
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, e.Name())); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	return removed, errors.Join(errs...)
}

// alive: signal 0 checks that the process exists without touching it; EPERM means it
// exists under another user.
func alive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

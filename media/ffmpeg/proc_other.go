//go:build !linux

package ffmpeg

import "os/exec"

// dieWithParent: only Linux offers a parent-death signal.
func dieWithParent(*exec.Cmd) {}

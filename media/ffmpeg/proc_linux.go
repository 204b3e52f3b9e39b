package ffmpeg

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the tool when the process that started it dies (a
// worker killed by the OOM killer or a deploy), so no transcode runs on for nobody.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

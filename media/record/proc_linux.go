package record

import (
	"os/exec"
	"syscall"
)

// setProcAttr has the kernel kill ffmpeg when the server dies, so that a crash does not
// leave it holding its ports.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package record

import "os/exec"

func setProcAttr(*exec.Cmd) {}

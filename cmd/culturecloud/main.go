// Command culturecloud is the one binary of the Shizuishan Culture Cloud.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"
	"golang.org/x/sys/unix"

	"github.com/shizuishan/culturecloud/internal/app"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	if os.Getenv("CC_EXIT_WITH_PARENT") != "" {
		// Under `make run`, a SIGTERM to make reaches us as if sent to us directly.
		_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	code := app.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

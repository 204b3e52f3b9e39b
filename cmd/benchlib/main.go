// Command benchlib measures the Shizuishan Memory library against its baselines (minio-go
// PutObject, Meilisearch, redis-benchmark) in one run and prints a Markdown table.
//
//	go run ./cmd/benchlib            # 1 GiB upload, 100,000 records: about ten minutes
//	go run ./cmd/benchlib -quick     # 256 MiB upload, 20,000 records
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/gin-gonic/gin"

	"github.com/shizuishan/culturecloud/internal/bench"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlib:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchlib", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "a short run: 256 MiB upload, 20,000 records, fewer queries and views")
	d := bench.Defaults()
	uploadMiB := fs.Int("upload-mib", 0, fmt.Sprintf("size of the uploaded file in MiB (default %d, %d with -quick)", d.UploadMiB, bench.Quick().UploadMiB))
	records := fs.Int("records", 0, fmt.Sprintf("generated search records (default %d)", d.Records))
	queries := fs.Int("queries", 0, fmt.Sprintf("timed queries on each side (default %d)", d.Queries))
	views := fs.Int("views", 0, fmt.Sprintf("view requests through the API (default %d)", d.ViewRequests))
	video := fs.Int("video-seconds", 0, fmt.Sprintf("length of the 1080p clip to transcode (default %d)", d.VideoSeconds))
	tools := fs.String("tools", "", "folder of redis-server, minio and meilisearch (default: .tools/bin, then PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := d
	if *quick {
		o = bench.Quick()
	}
	for _, f := range []struct{ dst, v *int }{{&o.UploadMiB, uploadMiB}, {&o.Records, records}, {&o.Queries, queries}, {&o.ViewRequests, views}, {&o.VideoSeconds, video}} {
		if *f.v > 0 {
			*f.dst = *f.v
		}
	}
	o.ToolsDir = *tools
	return bench.Run(ctx, o, stdout, stderr)
}

// Command benchexhib measures the deep zoom of cloud exhibitions: random IIIF tiles of a
// generated 12,000 × 9,000 scan through the product against the same stored tiles straight
// from MinIO, and the tile pyramid the worker makes against vips dzsave run by hand, in one
// run, and prints a Markdown table.
//
//	go run ./cmd/benchexhib            # 20,000 tiles each way: a few minutes
//	go run ./cmd/benchexhib -quick     # 4,000 tiles each way
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
		fmt.Fprintln(os.Stderr, "benchexhib:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchexhib", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := bench.ExhibitionDefaults()
	quick := fs.Bool("quick", false, fmt.Sprintf("a short run: %d tiles each way", bench.ExhibitionQuick().TileGets))
	tiles := fs.Int("tiles", 0, fmt.Sprintf("random tile GETs on each side (default %d)", d.TileGets))
	clients := fs.Int("clients", 0, fmt.Sprintf("concurrent clients (default %d)", d.Clients))
	width := fs.Int("width", 0, fmt.Sprintf("width of the generated scan (default %d)", d.Width))
	height := fs.Int("height", 0, fmt.Sprintf("height of the generated scan (default %d)", d.Height))
	tools := fs.String("tools", "", "folder of redis-server, minio and meilisearch (default: .tools/bin, then PATH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := d
	if *quick {
		o = bench.ExhibitionQuick()
	}
	for _, f := range []struct{ dst, v *int }{{&o.TileGets, tiles}, {&o.Clients, clients}, {&o.Width, width}, {&o.Height, height}} {
		if *f.v > 0 {
			*f.dst = *f.v
		}
	}
	o.ToolsDir = *tools
	return bench.RunExhibitions(ctx, o, stdout, stderr)
}

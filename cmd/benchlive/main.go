// Command benchlive measures live fan-out: one WHIP publisher sending 720p30 H.264 at about
// 2.5 Mbit/s with Opus, and WHEP viewers added in steps until loss passes 1 %, the p99
// delivery delay passes 200 ms, or the last step is done. Each step prints packets
// delivered per second, loss, delay p50/p99, the server's CPU time per forwarded packet and
// its resident memory per viewer, as a Markdown table followed by the reference points of
// other servers and whether the run met our goals.
//
//	go run ./cmd/benchlive           # builds and starts culturecloud dev, 10 … 400 viewers
//	go run ./cmd/benchlive -quick    # two steps of 5 s
//	go run ./cmd/benchlive -whip URL -whep URL -key KEY [-whep-key KEY] [-server-pid PID]
//
// Without URLs it builds cmd/culturecloud, runs `culturecloud dev` with a temporary data
// folder on free ports (pinned to CPU 0 with taskset), signs in as the administrator,
// creates a lecture starting now and publishes to it with its stream key; the harness itself
// runs on CPU 1 with GOMAXPROCS 1. With URLs it drives any WHIP/WHEP server; give the
// server's pid for the CPU and memory columns. See docs/decisions/0014-live-benchmark.md
// for how each figure is measured.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlive:", err)
		os.Exit(1)
	}
}

// options are the flags.
type options struct {
	quick      bool
	steps      []int
	window     time.Duration
	settle     time.Duration
	maxLoss    float64 // percent
	maxP99     time.Duration
	whip, whep string
	key        string
	whepKey    string
	serverPID  int
	metricsURL string
	serverBin  string
	pin        bool
	media      int // seconds of generated media (looped)
	connect    int // WHEP setups at a time
	cpuProfile string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("benchlive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	steps := fs.String("steps", "", "viewer counts of the steps, comma-separated (default 10,25,50,100,150,200,250,300,400; 10,25 with -quick)")
	fs.BoolVar(&o.quick, "quick", false, "a short smoke run: two steps of 5 s")
	fs.DurationVar(&o.window, "window", 0, "measurement window of each step (default 20s, 5s with -quick)")
	fs.DurationVar(&o.settle, "settle", 0, "wait after the step's viewers receive video, before measuring (default 3s, 1s with -quick)")
	fs.Float64Var(&o.maxLoss, "max-loss", 1, "stop after a step that loses more than this many percent of packets")
	fs.DurationVar(&o.maxP99, "max-p99", 200*time.Millisecond, "stop after a step whose p99 delivery delay is above this")
	fs.StringVar(&o.whip, "whip", "", "WHIP endpoint of another server (default: start our own)")
	fs.StringVar(&o.whep, "whep", "", "WHEP endpoint of another server")
	fs.StringVar(&o.key, "key", "", "bearer token for WHIP (the stream key)")
	fs.StringVar(&o.whepKey, "whep-key", "", "bearer token for WHEP, if the server wants one (Broadcast Box: the stream key)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the other server, for the CPU and memory columns")
	fs.StringVar(&o.metricsURL, "metrics-url", "", "Prometheus endpoint with "+metricForwarded+" (default: our own server's /metrics)")
	fs.StringVar(&o.serverBin, "server-bin", "", "culturecloud binary to run (default: go build ./cmd/culturecloud)")
	fs.BoolVar(&o.pin, "pin", true, "pin the server to CPU 0 (taskset) and the load generator to CPU 1 with GOMAXPROCS 1")
	fs.IntVar(&o.media, "media-seconds", 10, "length of the generated media loop, in seconds")
	fs.IntVar(&o.connect, "connect", 4, "WHEP sessions set up at a time")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator (publisher and viewers) to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	def, win, settle := "10,25,50,100,150,200,250,300,400", 20*time.Second, 3*time.Second
	if o.quick {
		def, win, settle = "10,25", 5*time.Second, time.Second
	}
	if *steps == "" {
		*steps = def
	}
	for s := range strings.SplitSeq(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-steps: %q is not a viewer count", s)
		}
		if len(o.steps) > 0 && n <= o.steps[len(o.steps)-1] {
			return o, errors.New("-steps must increase")
		}
		o.steps = append(o.steps, n)
	}
	if o.window <= 0 {
		o.window = win
	}
	if o.settle <= 0 {
		o.settle = settle
	}
	if (o.whip == "") != (o.whep == "") {
		return o, errors.New("give both -whip and -whep, or neither (then our own server is started)")
	}
	if o.media < 4 {
		return o, errors.New("-media-seconds must be at least 4")
	}
	o.connect = max(o.connect, 1)
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	external := o.whip != ""

	// Two cores: the server gets CPU 0 (taskset), the load generator CPU 1 (pinned once
	// the build, the media and the server are done, so that they may use both).
	pin := o.pin
	if pin {
		_, tasksetErr := exec.LookPath("taskset")
		switch {
		case runtime.NumCPU() < 2:
			logf("one CPU: not pinning")
			pin = false
		case tasksetErr != nil && !external:
			logf("taskset not found: not pinning")
			pin = false
		}
	}

	dir, err := os.MkdirTemp("", "cc-benchlive-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()

	type mediaResult struct {
		m   *sfutest.Media
		err error
	}
	mediaDone := make(chan mediaResult, 1)
	go func() {
		m, err := makeMedia(ctx, dir, o.media)
		mediaDone <- mediaResult{m, err}
	}()
	defer func() {
		if mediaDone != nil {
			<-mediaDone
		}
	}()

	t := target{whip: o.whip, whep: o.whep, key: o.key, whepKey: o.whepKey, pid: o.serverPID, metricsURL: o.metricsURL}
	if !external {
		srv, err := ownTarget(ctx, o, dir, pin, logf)
		if err != nil {
			return err
		}
		defer func() {
			logf("stopping culturecloud dev (pid %d)", srv.pid)
			srv.stop(logf)
		}()
		lec, err := createLecture(ctx, srv.url)
		if err != nil {
			return err
		}
		t.whip, t.whep, t.key, t.pid, t.own = lec.whip, lec.whep, lec.key, srv.pid, true
		if t.metricsURL == "" {
			t.metricsURL = srv.url + "/metrics"
		}
		logf("lecture created: WHIP %s, WHEP %s", t.whip, t.whep)
	}
	mr := <-mediaDone
	mediaDone = nil
	if mr.err != nil {
		return mr.err
	}
	if pin {
		if err := pinSelf(1); err != nil {
			logf("load generator not pinned: %v", err)
		} else {
			t.pinned = true
			prev := runtime.GOMAXPROCS(1)
			defer func() {
				runtime.GOMAXPROCS(prev)
				unpinSelf(runtime.NumCPU())
			}()
		}
	}
	h, err := newHarness(o, t, mr.m, logf)
	if err != nil {
		return err
	}
	defer h.close(context.WithoutCancel(ctx))
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := h.run(ctx)
	if err != nil {
		return err
	}
	rep.took = time.Since(start)
	rep.write(stdout)
	return nil
}

// ownTarget builds (unless -server-bin) and starts culturecloud dev.
func ownTarget(ctx context.Context, o options, dir string, pin bool, logf func(string, ...any)) (*ownServer, error) {
	root, rootErr := moduleRoot()
	bin := o.serverBin
	if bin == "" {
		if rootErr != nil {
			return nil, rootErr
		}
		logf("building cmd/culturecloud")
		var err error
		if bin, err = buildServer(ctx, root, dir); err != nil {
			return nil, err
		}
	}
	if rootErr != nil {
		root = "" // the working directory; the services are then looked up from there and in PATH
	}
	logf("starting culturecloud dev (Redis, MinIO, Meilisearch and the server) in %s", dir)
	return startOwnServer(ctx, bin, root, dir, pin, logf)
}

// target is the server under test.
type target struct {
	whip, whep   string
	key, whepKey string
	pid          int    // 0: unknown (no CPU and memory columns)
	metricsURL   string // "" or one with metricForwarded
	own, pinned  bool
}

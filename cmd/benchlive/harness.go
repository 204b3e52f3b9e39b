package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/shizuishan/culturecloud/media/sfu/sfutest"
)

// harness is one run: the publisher, the viewers and what they measure.
type harness struct {
	o      options
	t      target
	m      *sfutest.Media
	logf   func(string, ...any)
	base   time.Time
	times  *sendTimes
	delays *histogram
	pubAPI *webrtc.API
	pub    *publisher
	vs     *viewers
}

func newHarness(o options, t target, m *sfutest.Media, logf func(string, ...any)) (*harness, error) {
	loopback := isLoopback(t.whip) && isLoopback(t.whep)
	pubAPI, err := newAPI(true, loopback)
	if err != nil {
		return nil, err
	}
	viewAPI, err := newAPI(false, loopback)
	if err != nil {
		return nil, err
	}
	// A payload sent twice within this long gives no delay sample (see sendTimes); it must
	// be shorter than the loop, and longer than any delay worth measuring.
	ambiguous := min(3*time.Second, time.Duration(o.media)*time.Second/2)
	h := &harness{o: o, t: t, m: m, logf: logf, base: time.Now(), times: newSendTimes(16, ambiguous), delays: &histogram{}}
	h.vs = &viewers{api: viewAPI, whepURL: t.whep, bearer: t.whepKey, times: h.times, delays: h.delays, now: h.now, bySlot: &slotCounts{}}
	h.pubAPI = pubAPI
	return h, nil
}

// now is the harness clock (monotonic ns), shared by the publisher and the viewers.
func (h *harness) now() int64 { return int64(time.Since(h.base)) }

func isLoopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// probe is a reading of every counter, at the start or the end of a window.
type probe struct {
	wall       time.Time
	serverCPU  time.Duration
	genCPU     time.Duration
	received   uint64
	sent       uint64
	kfRequests uint64
	hist       *histSnapshot
	forwarded  float64
	dropped    float64
	metricsOK  bool
	cpuOK      bool
	children   time.Duration // the server's descendants
	machine    time.Duration // busy CPU of the whole machine
	steal      time.Duration
	udpDrops   uint64 // kernel counters, whole machine
	backlog    uint64
	perViewer  []uint64
	sfuViewers float64 // our SFU's viewer sessions, when metrics are scraped
	slowEnded  float64
}

// read takes a probe. The metrics scrape (an HTTP request the server answers) is taken
// before the CPU reading at the start and after it at the end, so its cost stays outside.
func (h *harness) read(ctx context.Context, end bool) probe {
	var p probe
	scrape := func() {
		if h.t.metricsURL == "" {
			return
		}
		m, err := scrapeMetrics(ctx, h.t.metricsURL, metricForwarded, metricDropped, metricViewers, metricSlowEnded)
		if err != nil {
			h.logf("metrics: %v", err)
			return
		}
		p.forwarded, p.dropped, p.metricsOK = m[metricForwarded], m[metricDropped], true
		p.sfuViewers, p.slowEnded = m[metricViewers], m[metricSlowEnded]
	}
	if !end {
		scrape()
	}
	p.wall = time.Now()
	p.received = h.vs.received()
	p.perViewer = h.vs.perViewer()
	p.sent = h.pub.sentVideo.Load() + h.pub.sentAudio.Load()
	p.kfRequests = h.pub.keyframeRequests.Load()
	p.hist = h.delays.snapshot()
	p.genCPU, _ = procCPU(0)
	if h.t.pid > 0 {
		var err error
		p.serverCPU, err = procCPU(h.t.pid)
		p.cpuOK = err == nil
		p.children = descendantsCPU(h.t.pid)
	}
	p.machine, p.steal, _ = machineCPU()
	p.udpDrops, p.backlog = kernelDrops()
	if end {
		scrape()
	}
	return p
}

// row is one step's figures.
type row struct {
	viewers, failed, silent int
	window                  time.Duration
	delivered               float64 // packets/s, all viewers
	loss                    float64 // fraction
	p50, p99                time.Duration
	samples                 uint64
	receivedPkts            uint64
	forwardedPkts           float64
	cpuPerPacket            time.Duration
	marginal                time.Duration // cpuPerPacket less the publisher-only CPU rate
	cpuOK                   bool          // cpuPerPacket is known
	serverCPUOK             bool          // serverCPU is known
	serverCPU, genCPU       float64       // share of one core
	children                float64       // share of one core: the server's services and helpers
	others                  float64       // share of one core: everything else on the machine
	steal                   float64       // share of one core taken by the hypervisor
	rss, rssPerViewer       float64       // bytes
	rssOK                   bool
	dropped                 float64
	droppedOK               bool
	kfRequests              uint64
	late                    time.Duration
	kernelDrops             uint64 // UDP receive errors and backlog drops in the window, whole machine
	starved                 int    // viewers that received less than 90 % of what the median one did
	stalled                 int    // viewers whose video stopped for a second or more
	longestStall            time.Duration
	unconnected             int // viewers whose connection was not connected at the end
	sfuViewers              float64
	slowEnded               float64
	metricsOK               bool
	limit                   string // why the run stopped after this step
}

// starved counts the viewers (present at both readings) that received less than 90 % of
// what the median viewer received in between.
func starved(a, b []uint64) int {
	n := min(len(a), len(b))
	if n == 0 {
		return 0
	}
	d := make([]uint64, n)
	for i := range n {
		d[i] = b[i] - a[i]
	}
	sorted := slices.Clone(d)
	slices.Sort(sorted)
	median := sorted[n/2]
	k := 0
	for _, x := range d {
		if 10*x < 9*median {
			k++
		}
	}
	return k
}

// drain is how long after a window its packets may still arrive to count as received;
// later ones count as lost, as they would be for a player.
const drain = 500 * time.Millisecond

// measure waits out one window and computes its row.
// base is the publisher-only row (nil while measuring it).
func (h *harness) measure(ctx context.Context, viewers, failed, silent int, window time.Duration, base *row) (row, error) {
	h.pub.late.Store(0)
	// Loss is counted over the whole send-time slots inside the window.
	from := slotOf(h.now()) + 1
	to := slotOf(h.now() + int64(window))
	h.pub.sentBySlot.reset(from, to+1)
	h.vs.bySlot.reset(from, to+1)
	h.vs.resetStalls()
	a := h.read(ctx, false)
	if err := sleep(ctx, window); err != nil {
		return row{}, err
	}
	b := h.read(ctx, true)
	stalled, longest := h.vs.stalls(h.now(), time.Second)
	if err := sleep(ctx, drain); err != nil {
		return row{}, err
	}
	r := row{viewers: viewers, failed: failed, silent: silent, kfRequests: b.kfRequests - a.kfRequests,
		late: time.Duration(h.pub.late.Load())}
	r.window = b.wall.Sub(a.wall)
	secs := r.window.Seconds()
	r.receivedPkts = b.received - a.received
	r.delivered = float64(r.receivedPkts) / secs
	if expected := float64(h.pub.sentBySlot.sum(from, to)) * float64(viewers+failed); expected > 0 {
		r.loss = max(1-float64(h.vs.bySlot.sum(from, to))/expected, 0)
	}
	d := b.hist.since(a.hist)
	r.samples = d.total()
	r.p50, r.p99 = d.quantile(0.50), d.quantile(0.99)
	r.forwardedPkts = float64(r.receivedPkts)
	if a.metricsOK && b.metricsOK {
		r.forwardedPkts = b.forwarded - a.forwarded
		r.dropped, r.droppedOK = b.dropped-a.dropped, true
	}
	r.kernelDrops = b.udpDrops - a.udpDrops + b.backlog - a.backlog
	r.starved = starved(a.perViewer, b.perViewer)
	r.unconnected = h.vs.unconnected()
	r.stalled, r.longestStall = stalled, longest
	if a.metricsOK && b.metricsOK {
		r.metricsOK, r.sfuViewers, r.slowEnded = true, b.sfuViewers, b.slowEnded-a.slowEnded
	}
	r.genCPU = (b.genCPU - a.genCPU).Seconds() / secs
	r.children = (b.children - a.children).Seconds() / secs
	r.steal = (b.steal - a.steal).Seconds() / secs
	// Clamped: processes that ended in the window take their CPU time with them.
	r.others = max((b.machine-a.machine).Seconds()/secs-r.genCPU-r.children-(b.serverCPU-a.serverCPU).Seconds()/secs, 0)
	if a.cpuOK && b.cpuOK {
		cpu := b.serverCPU - a.serverCPU
		r.serverCPU, r.serverCPUOK = cpu.Seconds()/secs, true
		if r.forwardedPkts > 0 {
			r.cpuPerPacket = time.Duration(float64(cpu) / r.forwardedPkts)
			r.cpuOK = true
			if base != nil && base.serverCPUOK {
				r.marginal = time.Duration((cpu.Seconds() - base.serverCPU*secs) / r.forwardedPkts * 1e9)
			}
		}
	}
	if h.t.pid > 0 {
		if rss, err := procRSS(h.t.pid); err == nil {
			r.rss, r.rssOK = float64(rss), true
			if viewers > 0 && base != nil && base.rssOK {
				r.rssPerViewer = (r.rss - base.rss) / float64(viewers)
			}
		}
	}
	return r, nil
}

// run publishes, measures the publisher alone, then each step, and returns the report.
func (h *harness) run(ctx context.Context) (*report, error) {
	o := h.o
	v := videoBitrate(h.m)
	h.logf("media: %d pictures (%.2f Mbit/s H.264), %d Opus packets; publishing", len(h.m.AUs), v/1e6, len(h.m.Opus))
	pub, err := startPublisher(ctx, h.pubAPI, h.t.whip, h.t.key, h.m, h.times, h.now)
	if err != nil {
		return nil, err
	}
	h.pub = pub
	rep := &report{o: o, t: h.t, videoBitrate: v, pinned: h.t.pinned, generatorProcs: runtime.GOMAXPROCS(0)}
	// Let the publisher's connection, the server's recording and the first keyframes settle.
	if err := sleep(ctx, 2*o.settle); err != nil {
		return nil, err
	}
	base, err := h.measure(ctx, 0, 0, 0, min(max(o.window/2, 2*time.Second), 10*time.Second), nil)
	if err != nil {
		return nil, err
	}
	rep.baseline = base
	since := time.Since(pub.started).Seconds()
	rep.publisherRate = float64(pub.sentVideo.Load()+pub.sentAudio.Load()) / since
	rep.publisherBitrate = float64(pub.sentBytes.Load()) * 8 / since
	h.logf("publisher alone: server CPU %.0f %%, RSS %.0f MB; other processes %.0f %% of a core", 100*base.serverCPU, base.rss/1e6, 100*base.others)

	for _, n := range o.steps {
		h.logf("adding viewers: %d → %d", h.vs.count(), n)
		silent, err := h.vs.grow(ctx, n, o.connect, 20*time.Second+time.Duration(n-h.vs.count())*100*time.Millisecond)
		if err != nil {
			return nil, err
		}
		if err := sleep(ctx, o.settle); err != nil {
			return nil, err
		}
		// Viewers that could not join (in this step or an earlier one) count in the loss:
		// they were asked for.
		joined := h.vs.count()
		r, err := h.measure(ctx, joined, n-joined, silent, o.window, &base)
		if err != nil {
			return nil, err
		}
		h.logf("%d viewers: %s/s delivered, loss %.2f %%, delay p50 %s p99 %s, server %s per packet, CPU: server %.0f %%, generator %.0f %%, other processes %.0f %%",
			n, thousands(r.delivered), 100*r.loss, ms(r.p50), ms(r.p99), us(r.cpuPerPacket, r.cpuOK), 100*r.serverCPU, 100*r.genCPU, 100*r.others)
		switch {
		case 100*r.loss > o.maxLoss:
			r.limit = fmt.Sprintf("loss %.2f %% > %g %%", 100*r.loss, o.maxLoss)
		case r.p99 > o.maxP99:
			r.limit = fmt.Sprintf("p99 %s > %s", ms(r.p99), ms(o.maxP99))
		}
		rep.rows = append(rep.rows, r)
		if r.limit != "" {
			h.logf("stopping: %s", r.limit)
			break
		}
	}
	for _, r := range rep.rows {
		if r.droppedOK {
			rep.forwardedFrom = "the server's counter " + metricForwarded
		}
	}
	h.vs.mu.Lock()
	rep.joinErrors = h.vs.failures
	h.vs.mu.Unlock()
	return rep, nil
}

// close ends the viewers and the publisher (DELETE on their locations).
func (h *harness) close(ctx context.Context) {
	if h.vs != nil {
		h.vs.closeAll(ctx, 8)
	}
	if h.pub != nil {
		h.pub.close(ctx)
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

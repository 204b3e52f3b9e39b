package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Goals and reference points: the project's performance targets for live fan-out, measured
// on this project's machine kind (2 vCPUs; LiveKit's from its published benchmark).
const (
	goalCPUPerPacket = 5 * time.Microsecond
	goalP99          = 50 * time.Millisecond
	goalRSSPerViewer = 1e6 // bytes
	goalViewers      = 150
)

var references = [][5]string{
	{"Broadcast Box (pion, serial fan-out)", "150–200", "11–13 µs", "122 ms", "≈ 3 MB"},
	{"MediaMTX (pion, batched writes)", "150–250", "9–11 µs", "79 ms", "≈ 4.5 MB"},
	{"LiveKit (published benchmark, 16 vCPU)", "3000 per server", "≈ 26 µs", "—", "—"},
	{"floor on this machine: UDP send ≈ 2 µs + AES-GCM SRTP ≈ 0.5 µs", "", "≈ 2.5–3 µs", "", ""},
}

// report is a run's result.
type report struct {
	o                options
	t                target
	videoBitrate     float64 // bit/s of the H.264 loop
	publisherRate    float64 // packets/s sent
	publisherBitrate float64 // payload bit/s sent
	pinned           bool
	generatorProcs   int
	forwardedFrom    string
	baseline         row
	rows             []row
	joinErrors       []error
	took             time.Duration
}

func (rep *report) write(w io.Writer) {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Viewers | Delivered | Loss | Delay p50 | Delay p99 | Server CPU per forwarded packet | above publisher-only | Server CPU | Server RSS per viewer | Load generator CPU | Other processes' CPU | Notes |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	b := rep.baseline
	fmt.Fprintf(w, "| 0 (publisher only) | — | — | — | — | — | — | %s | %s | %s | %s | %s |\n", pct(b.serverCPU, b.serverCPUOK),
		ifOK(b.rssOK, "RSS "+mb(b.rss)), pct(b.genCPU, true), pct(b.others, true),
		esc(strings.Join(append([]string{fmt.Sprintf("publisher sends %.0f packets/s, %.2f Mbit/s of payload", rep.publisherRate, rep.publisherBitrate/1e6)}, rep.notes(b)...), "; ")))
	for _, r := range rep.rows {
		viewers := strconv.Itoa(r.viewers + r.failed)
		if r.failed > 0 {
			viewers = fmt.Sprintf("%d (%d joined)", r.viewers+r.failed, r.viewers)
		}
		fmt.Fprintf(w, "| %s | %s/s | %.2f %% | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", viewers, thousands(r.delivered), 100*r.loss,
			ms(r.p50), ms(r.p99), us(r.cpuPerPacket, r.cpuOK), us(r.marginal, r.cpuOK && b.serverCPUOK), pct(r.serverCPU, r.serverCPUOK),
			ifOK(r.rssOK, mb(r.rssPerViewer)), pct(r.genCPU, true), pct(r.others, true), esc(strings.Join(rep.notes(r), "; ")))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.caption())
	rep.writeReference(w)
	if len(rep.joinErrors) > 0 {
		fmt.Fprintf(w, "\n%d viewers could not join; the first error: %v\n", len(rep.joinErrors), rep.joinErrors[0])
	}
}

func (rep *report) notes(r row) []string {
	var n []string
	if r.limit != "" {
		n = append(n, "**limit: "+r.limit+"**")
	}
	if r.silent > 0 {
		n = append(n, fmt.Sprintf("%d got no video within the join timeout", r.silent))
	}
	if r.droppedOK && r.dropped > 0 {
		n = append(n, fmt.Sprintf("server dropped %s packets (full viewer queues)", thousands(r.dropped)))
	}
	if r.starved > 0 {
		n = append(n, fmt.Sprintf("%d viewers received less than 90 %% of the median", r.starved))
	}
	if r.stalled > 0 {
		n = append(n, fmt.Sprintf("video stopped for ≥ 1 s at %d viewers (longest %.1f s)", r.stalled, r.longestStall.Seconds()))
	}
	if r.unconnected > 0 {
		n = append(n, fmt.Sprintf("%d viewer connections not connected at the end", r.unconnected))
	}
	if r.metricsOK && r.viewers > 0 && int(r.sfuViewers) != r.viewers {
		n = append(n, fmt.Sprintf("the server has %.0f viewer sessions", r.sfuViewers))
	}
	if r.slowEnded > 0 {
		n = append(n, fmt.Sprintf("the server ended %.0f slow viewers", r.slowEnded))
	}
	if r.kernelDrops > 0 {
		n = append(n, fmt.Sprintf("kernel dropped %s datagrams (socket buffers or backlog full)", thousands(float64(r.kernelDrops))))
	}
	if r.kfRequests > 0 {
		n = append(n, fmt.Sprintf("%d keyframe requests", r.kfRequests))
	}
	if r.genCPU >= 0.9 {
		n = append(n, "load generator saturated: delay and loss include its queueing")
	}
	if r.late > 50*time.Millisecond {
		n = append(n, "publisher up to "+ms(r.late)+" behind schedule")
	}
	if r.children >= 0.05 {
		n = append(n, fmt.Sprintf("server's services and helpers %.0f %%", 100*r.children))
	}
	if r.steal >= 0.05 {
		n = append(n, fmt.Sprintf("hypervisor steal %.0f %%", 100*r.steal))
	}
	if r.receivedPkts > 0 && float64(r.samples) < 0.9*float64(r.receivedPkts) {
		n = append(n, fmt.Sprintf("delay from %.0f %% of packets", 100*float64(r.samples)/float64(r.receivedPkts)))
	}
	return n
}

func (rep *report) caption() string {
	var b strings.Builder
	host, _ := os.Hostname()
	model := cpuModel()
	if model != "" {
		model += ", "
	}
	fmt.Fprintf(&b, "Measured %s on %s (%s%d CPUs)", time.Now().Format("2006-01-02 15:04"), host, model, runtime.NumCPU())
	switch {
	case rep.pinned && rep.t.own:
		fmt.Fprintf(&b, "; culturecloud dev pinned to CPU 0, the load generator to CPU 1 (GOMAXPROCS %d)", rep.generatorProcs)
	case rep.pinned:
		fmt.Fprintf(&b, "; the load generator pinned to CPU 1 (GOMAXPROCS %d)", rep.generatorProcs)
	default:
		b.WriteString("; nothing pinned")
	}
	fmt.Fprintf(&b, ". Publisher: %.2f Mbit/s H.264 720p30 constrained baseline (no B-frames, keyframe every 2 s) + 64 kbit/s Opus, %.0f RTP packets/s, looped. ",
		rep.videoBitrate/1e6, rep.publisherRate)
	fmt.Fprintf(&b, "Each step: viewers join %d at a time, %s settling after all receive video, then a %s window. ",
		rep.o.connect, rep.o.settle, rep.o.window)
	b.WriteString("Loss: 1 − packets the viewers received ÷ (packets the publisher sent × viewers asked for), counted by send time; a packet more than 0.5 s late counts as lost. ")
	b.WriteString("Delay: publisher send to viewer read (after SRTP), matched by a hash of the RTP payload; ")
	var samples, received uint64
	for _, r := range rep.rows {
		samples += r.samples
		received += r.receivedPkts
	}
	if received > 0 {
		fmt.Fprintf(&b, "%.1f %% of delivered packets gave a sample. ", 100*float64(samples)/float64(received))
	}
	switch {
	case rep.t.pid == 0:
		b.WriteString("No server pid (-server-pid): no CPU and memory figures. ")
	case rep.forwardedFrom != "":
		fmt.Fprintf(&b, "Server CPU: utime+stime of the server process alone (not its children) ÷ packets forwarded in the window, from %s. ", rep.forwardedFrom)
	default:
		b.WriteString("Server CPU: utime+stime of the server process ÷ packets the viewers received in the window (= forwarded − lost: the server exposes no counter). ")
	}
	if rep.t.pid != 0 {
		b.WriteString("RSS per viewer: (server RSS at the end of the window − RSS with the publisher alone) ÷ viewers. ")
	}
	b.WriteString("CPU shares are of one core; other processes' CPU is the machine's busy time less the server, its services and the load generator: what else ran during the window. ")
	fmt.Fprintf(&b, "Run took %s.", rep.took.Round(time.Second))
	return b.String()
}

// goalRow is the row the goals are judged at: 150 viewers, else the largest measured.
func (rep *report) goalRow() (row, bool) {
	for _, r := range rep.rows {
		if r.viewers+r.failed == goalViewers {
			return r, true
		}
	}
	if len(rep.rows) == 0 {
		return row{}, false
	}
	return rep.rows[len(rep.rows)-1], false
}

// held is the largest step within the limits, as text.
func (rep *report) held() string {
	best := 0
	for _, r := range rep.rows {
		if r.limit == "" {
			best = r.viewers + r.failed
		}
	}
	if len(rep.rows) == 0 {
		return "—"
	}
	last := rep.rows[len(rep.rows)-1]
	switch {
	case last.limit == "":
		return fmt.Sprintf("≥ %d (no limit reached)", best)
	case best == 0:
		return fmt.Sprintf("< %d", last.viewers+last.failed)
	}
	return strconv.Itoa(best)
}

func (rep *report) writeReference(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Reference points (the project's targets for this machine kind):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| server | viewers held (p99 ≤ 200 ms, loss ≤ 1 %) | server CPU per forwarded RTP packet | p99 delay at 150 viewers | resident memory per viewer |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range references {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3], r[4])
	}
	g, at150 := rep.goalRow()
	at := ""
	if !at150 && len(rep.rows) > 0 {
		at = fmt.Sprintf(" (at %d viewers)", g.viewers+g.failed)
	}
	p99at150 := "not measured"
	if at150 {
		p99at150 = ms(g.p99)
	}
	name := "**this run: the server under test**"
	if rep.t.own {
		name = "**this run: culturecloud**"
	}
	fmt.Fprintf(w, "| %s | %s | %s%s | %s | %s%s |\n", name, rep.held(), us(g.cpuPerPacket, g.cpuOK), at, p99at150,
		ifOK(g.rssOK && len(rep.rows) > 0, mb(g.rssPerViewer)), at)

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Our goals:")
	fmt.Fprintln(w)
	switch {
	case len(rep.rows) == 0 || !g.cpuOK:
		fmt.Fprintln(w, "- ≤ 5 µs server CPU per forwarded packet: not measured")
	default:
		fmt.Fprintf(w, "- ≤ 5 µs server CPU per forwarded packet: %s%s — %s\n", us(g.cpuPerPacket, true), at, verdict(g.cpuPerPacket <= goalCPUPerPacket))
	}
	switch {
	case at150:
		also := ""
		if 100*g.loss > rep.o.maxLoss {
			also = fmt.Sprintf(" (but the step lost %.2f %%)", 100*g.loss)
		}
		fmt.Fprintf(w, "- p99 delay ≤ 50 ms at 150 viewers: %s — %s%s\n", ms(g.p99), verdict(g.p99 <= goalP99), also)
	case len(rep.rows) > 0 && rep.rows[len(rep.rows)-1].limit != "" && rep.rows[len(rep.rows)-1].viewers < goalViewers:
		last := rep.rows[len(rep.rows)-1]
		fmt.Fprintf(w, "- p99 delay ≤ 50 ms at 150 viewers: stopped at %d viewers (%s) — NOT met\n", last.viewers+last.failed, last.limit)
	default:
		fmt.Fprintln(w, "- p99 delay ≤ 50 ms at 150 viewers: not measured (no 150-viewer step)")
	}
	switch {
	case len(rep.rows) == 0 || !g.rssOK:
		fmt.Fprintln(w, "- ≤ 1 MB resident memory per viewer: not measured")
	default:
		fmt.Fprintf(w, "- ≤ 1 MB resident memory per viewer: %s%s — %s\n", mb(g.rssPerViewer), at, verdict(g.rssPerViewer <= goalRSSPerViewer))
	}
}

// ---- formatting ---------------------------------------------------------------------------

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**NOT met**"
}

func ifOK(ok bool, s string) string {
	if !ok {
		return "—"
	}
	return s
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func us(d time.Duration, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f µs", float64(d)/float64(time.Microsecond))
}

func pct(share float64, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}

func mb(bytes float64) string {
	return fmt.Sprintf("%.2f MB", bytes/1e6)
}

// thousands formats n rounded, with commas: 46,512.
func thousands(n float64) string {
	s := strconv.FormatInt(int64(n+0.5), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/shizuishan/culturecloud/internal/devservices"
	"github.com/shizuishan/culturecloud/internal/lockedio"
	"github.com/shizuishan/culturecloud/internal/testenv"
)

// TestQuickRunPrintsTable runs the harness against our own server (built and started as
// `culturecloud dev`) with two small steps, and checks that the table has figures, not
// that they are fast: speed is measured, not asserted.
func TestQuickRunPrintsTable(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Unavailable(t, err)
	}
	if _, err := devservices.FindTools(""); err != nil {
		testenv.Unavailable(t, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	progress := &lockedio.Buffer{}
	// Not pinned: the machine may be running other tests. No limits: both steps are
	// measured however slow the machine (or the race detector) makes them.
	args := []string{"-quick", "-pin=false", "-steps", "4,8", "-max-loss", "100", "-max-p99", "1h"}
	if err := run(ctx, args, &out, progress); err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress)
	}
	t.Logf("progress:\n%s\noutput:\n%s", progress, &out)

	rows := map[string][]string{}
	for line := range strings.Lines(out.String()) {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 12 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[cells[0]] = cells
	}
	if b := rows["0 (publisher only)"]; b == nil || !strings.HasSuffix(b[7], "%") || !strings.HasPrefix(b[8], "RSS ") {
		t.Errorf("publisher-only row: %q", b)
	}
	for _, viewers := range []string{"4", "8"} {
		r := rows[viewers]
		if r == nil {
			t.Errorf("no row for %s viewers in:\n%s", viewers, &out)
			continue
		}
		n, _ := strconv.Atoi(viewers)
		delivered := figure(t, r[1], "/s")
		// The publisher sends about 340 packets/s; every viewer gets all of them.
		if delivered <= 0 || delivered > float64(n)*1000 {
			t.Errorf("%s viewers: delivered %q", viewers, r[1])
		}
		if loss := figure(t, r[2], " %"); loss < 0 || loss > 100 {
			t.Errorf("%s viewers: loss %q", viewers, r[2])
		}
		p50, p99 := figure(t, r[3], " ms"), figure(t, r[4], " ms")
		if p50 <= 0 || p99 < p50 || p99 > 10_000 {
			t.Errorf("%s viewers: delay p50 %q p99 %q", viewers, r[3], r[4])
		}
		if cpu := figure(t, r[5], " µs"); cpu <= 0 || cpu > 10_000 {
			t.Errorf("%s viewers: server CPU per packet %q", viewers, r[5])
		}
		figure(t, r[6], " µs") // may be negative on a noisy machine
		if share := figure(t, r[7], " %"); share <= 0 {
			t.Errorf("%s viewers: server CPU %q", viewers, r[7])
		}
		if rss := figure(t, r[8], " MB"); math.Abs(rss) > 1000 {
			t.Errorf("%s viewers: RSS per viewer %q", viewers, r[8])
		}
	}
	for _, want := range []string{"Broadcast Box", "MediaMTX", "LiveKit", "**this run: culturecloud**",
		"≤ 5 µs server CPU per forwarded packet:", "p99 delay ≤ 50 ms at 150 viewers: not measured", "culturecloud_sfu_packets_forwarded_total"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(progress.String(), "culturecloud dev (pid") && !strings.Contains(progress.String(), "stopping culturecloud dev") {
		t.Error("the server was not stopped")
	}
}

// figure parses "1,234.5 unit".
func figure(t *testing.T, cell, unit string) float64 {
	t.Helper()
	s, ok := strings.CutSuffix(cell, unit)
	if !ok {
		t.Errorf("%q does not end in %q", cell, unit)
		return math.NaN()
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	if err != nil {
		t.Errorf("%q is not a figure: %v", cell, err)
		return math.NaN()
	}
	return v
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	s := h.snapshot()
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := s.quantile(c.q)
		if math.Abs(float64(got-c.want)) > 0.02*float64(c.want) {
			t.Errorf("q%.2f = %s, want %s ± 2 %%", c.q, got, c.want)
		}
	}
	for us := uint64(0); us < 1<<24; us = us*3/2 + 1 {
		i := histIndex(us)
		if v := histValue(i); math.Abs(v-float64(us)) > 0.016*float64(us)+0.5 {
			t.Errorf("%d µs: bucket %d holds %.1f", us, i, v)
		}
	}
	if d := h.snapshot().since(s); d.total() != 0 || d.quantile(0.5) != 0 {
		t.Error("an empty difference has samples")
	}
}

func TestSendTimes(t *testing.T) {
	st := newSendTimes(8, time.Second)
	a, b := payloadKey([]byte("first payload"), false), payloadKey([]byte("first payload"), true)
	if a == b {
		t.Fatal("audio and video keys of one payload are equal")
	}
	ms := int64(time.Millisecond)
	if !st.put(a, 10*ms) {
		t.Fatal("a new payload is ambiguous")
	}
	if at, ok := st.get(a); !ok || at != 10*ms {
		t.Fatalf("get = %d, %v", at, ok)
	}
	if _, ok := st.get(b); ok {
		t.Fatal("an unknown key was found")
	}
	// Sent again soon: ambiguous, and it stays so while it keeps coming.
	if st.put(a, 500*ms) {
		t.Fatal("a repeat within the window is not ambiguous")
	}
	if _, ok := st.get(a); ok {
		t.Fatal("an ambiguous key gave a time")
	}
	if st.put(a, 1200*ms) {
		t.Fatal("a repeat 700 ms after the last sending is not ambiguous")
	}
	// Sent again much later (the next loop): a time again.
	if !st.put(a, 5000*ms) {
		t.Fatal("a repeat after the window is ambiguous")
	}
	if at, ok := st.get(a); !ok || at != 5000*ms {
		t.Fatalf("get = %d, %v", at, ok)
	}
}

func TestRTPPayload(t *testing.T) {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, SSRC: 1, CSRC: []uint32{5, 6}},
		Payload: []byte{1, 2, 3, 4, 5}}
	if err := p.SetExtension(1, []byte{0xaa, 0xbb}); err != nil {
		t.Fatal(err)
	}
	p.Padding, p.PaddingSize = true, 3
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got := rtpPayload(b); !bytes.Equal(got, p.Payload) {
		t.Fatalf("payload %v, want %v", got, p.Payload)
	}
	if rtpPayload(b[:10]) != nil {
		t.Fatal("a short packet has a payload")
	}
	bad := binary.BigEndian.AppendUint16(nil, 0) // version 0
	if rtpPayload(append(bad, make([]byte, 20)...)) != nil {
		t.Fatal("a version 0 packet has a payload")
	}
}

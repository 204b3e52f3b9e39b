package main

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ---- delivery delay: send times keyed by what survives forwarding -----------------------
//
// An SFU rewrites what identifies a packet: the SSRC always, the payload type usually, and
// sequence numbers and timestamps when it restarts a viewer's video at a keyframe (ours
// does, see media/sfu viewer.go rewrite) or switches simulcast layers. It also drops RTP
// header extensions (ours clears them; others keep only those negotiated with the viewer),
// so an abs-send-time extension is not a dependable carrier either. What every SFU keeps is
// the payload: it forwards RTP without transcoding. So the publisher records the send time
// of each packet under a 64-bit hash of its payload (the first 96 and last 32 bytes plus
// the length, which covers the entropy-coded slice data of every H.264 fragment and the
// whole of a 20 ms Opus frame) and a viewer looks the hash up when the packet arrives.
//
// Payloads repeat: the media loops, and an H.264 stream repeats its SPS/PPS STAP-A at every
// keyframe. A hash sent again within ambiguousWithin of its last sending is marked
// ambiguous and gives no sample; one sent again later (the next loop) replaces the old time.
// A hash collision between two different payloads in the table is caught by storing the full
// hash in the slot: a lookup that finds another hash gives no sample. The share of delivered
// packets that gave a sample is printed with the table.

var hashSeed = maphash.MakeSeed()

const audioSalt = 0x9e3779b97f4a7c15

// payloadKey is the key of a payload; never 0 (an empty slot).
func payloadKey(payload []byte, audio bool) uint64 {
	head, tail := payload, []byte(nil)
	if len(payload) > 128 {
		head, tail = payload[:96], payload[len(payload)-32:]
	}
	k := maphash.Bytes(hashSeed, head) ^ bits.RotateLeft64(maphash.Bytes(hashSeed, tail), 29) ^ uint64(len(payload))*0xff51afd7ed558ccd
	if audio {
		k ^= audioSalt
	}
	if k == 0 {
		k = 1
	}
	return k
}

// sendTimes is an open table of send times indexed by the low bits of the key. Writers
// (the publisher's two tracks) take a lock; readers (every viewer's read loop) take none:
// a slot is read as key, time, key, and the time counts only if both keys are the one
// looked for (a writer first clears the key, then stores the time, then the new key).
type sendTimes struct {
	mu    sync.Mutex
	slots []sendSlot
	mask  uint64
	// ambiguousWithin: a payload sent again this soon after its last sending is ambiguous.
	ambiguousWithin int64
}

type sendSlot struct {
	key atomic.Uint64
	at  atomic.Int64 // ns on the harness clock; ambiguous < 0
}

func newSendTimes(sizeLog2 uint, ambiguousWithin time.Duration) *sendTimes {
	n := uint64(1) << sizeLog2
	return &sendTimes{slots: make([]sendSlot, n), mask: n - 1, ambiguousWithin: int64(ambiguousWithin)}
}

// put records a sending; it reports false if the payload is ambiguous (sent recently).
func (t *sendTimes) put(key uint64, at int64) bool {
	s := &t.slots[key&t.mask]
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.key.Load() == key {
		prev := s.at.Load()
		if at-max(prev, -prev) < t.ambiguousWithin {
			s.at.Store(-at) // ambiguous until it is next sent long after this
			return false
		}
	}
	s.key.Store(0)
	s.at.Store(at)
	s.key.Store(key)
	return true
}

// get returns the send time of key, or false when it is unknown or ambiguous.
func (t *sendTimes) get(key uint64) (int64, bool) {
	s := &t.slots[key&t.mask]
	k1 := s.key.Load()
	at := s.at.Load()
	k2 := s.key.Load()
	if k1 != key || k2 != key || at <= 0 {
		return 0, false
	}
	return at, true
}

// ---- packets by send time: loss over a window --------------------------------------------
//
// Loss is counted by send time, not by arrival: the publisher counts each packet it sends
// (with a payload that is not ambiguous) in the 100 ms slot of its send time, and a viewer
// counts each packet it receives in the slot of the send time it looked up. The loss of a
// window is 1 − received ÷ (sent × viewers) over the slots inside it, read once the
// window's packets have had time to arrive. Counting at the two ends of the window instead
// would be off by the packets in flight at each end: a keyframe (40 packets to every
// viewer) in flight at one end and not the other is a percent of a 5 s window.

const slotWidth = int64(100 * time.Millisecond)

// slotCounts is a ring of counters, one per slotWidth of send time (about 27 minutes).
type slotCounts struct {
	c [1 << 14]atomic.Uint64
}

func slotOf(at int64) int64 { return at / slotWidth }

func (s *slotCounts) add(at int64) { s.c[slotOf(at)&(int64(len(s.c))-1)].Add(1) }

// reset zeroes the slots from..to-1 (before they are used again).
func (s *slotCounts) reset(from, to int64) {
	for i := from; i < to; i++ {
		s.c[i&(int64(len(s.c))-1)].Store(0)
	}
}

// sum is the count over the slots from..to-1.
func (s *slotCounts) sum(from, to int64) uint64 {
	var n uint64
	for i := from; i < to; i++ {
		n += s.c[i&(int64(len(s.c))-1)].Load()
	}
	return n
}

// ---- a log-linear histogram of delays ---------------------------------------------------

// 64 sub-buckets per power of two: a bucket is at most 1.6 % wide, exact below 128 µs.
const (
	histSubBits = 6
	histBuckets = 40 << histSubBits
)

// histogram counts delays in microseconds. record is lock-free and allocation-free; it is
// read by copying (snapshot) at the start and end of a measurement window.
type histogram struct {
	counts [histBuckets]atomic.Uint64
}

func histIndex(us uint64) int {
	e := max(bits.Len64(us)-(histSubBits+1), 0)
	i := e<<histSubBits + int(us>>uint(e))
	return min(i, histBuckets-1)
}

// histValue is the middle of bucket i, in microseconds.
func histValue(i int) float64 {
	if i < 2<<histSubBits {
		return float64(i)
	}
	e := i>>histSubBits - 1
	m := i - e<<histSubBits
	lo := float64(uint64(m) << uint(e))
	return lo + float64(uint64(1)<<uint(e))/2
}

func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[histIndex(uint64(us))].Add(1)
}

type histSnapshot [histBuckets]uint64

func (h *histogram) snapshot() *histSnapshot {
	var s histSnapshot
	for i := range h.counts {
		s[i] = h.counts[i].Load()
	}
	return &s
}

// since is the counts recorded between earlier and s.
func (s *histSnapshot) since(earlier *histSnapshot) *histSnapshot {
	var d histSnapshot
	for i := range s {
		d[i] = s[i] - earlier[i]
	}
	return &d
}

func (s *histSnapshot) total() uint64 {
	var n uint64
	for _, c := range s {
		n += c
	}
	return n
}

// quantile q (0..1) as a duration; 0 without samples.
func (s *histSnapshot) quantile(q float64) time.Duration {
	n := s.total()
	if n == 0 {
		return 0
	}
	rank := max(uint64(math.Ceil(q*float64(n))), 1) // nearest rank
	var seen uint64
	for i, c := range s {
		seen += c
		if seen >= rank {
			return time.Duration(histValue(i) * float64(time.Microsecond))
		}
	}
	return time.Duration(histValue(histBuckets-1) * float64(time.Microsecond))
}

// ---- /proc readings -------------------------------------------------------------------

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every
// Linux architecture Go supports (it is fixed in the kernel ABI, whatever HZ is).
const clockTicks = 100

// procCPU is the CPU time (user + system) a process has used: all its threads, not its
// children (the services culturecloud dev starts are children and are not counted).
func procCPU(pid int) (time.Duration, error) {
	_, cpu, err := procStat(pid)
	return cpu, err
}

// procStat is the parent pid and CPU time (user + system) of a process.
func procStat(pid int) (ppid int, cpu time.Duration, err error) {
	data, err := os.ReadFile(filepath.Join("/proc", procName(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces: count fields after ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, errors.New("unexpected /proc stat format")
	}
	ppid, err0 := strconv.Atoi(f[1])
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err0, err1, err2); err != nil {
		return 0, 0, err
	}
	return ppid, time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// descendantsCPU is the CPU time of the running descendants of pid (for culturecloud dev:
// Redis, MinIO, Meilisearch and the recorder's ffmpeg), pid itself not included.
func descendantsCPU(pid int) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	type proc struct {
		ppid int
		cpu  time.Duration
	}
	procs := map[int]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, cpu, err := procStat(p); err == nil {
			procs[p] = proc{ppid, cpu}
		}
	}
	var total time.Duration
	for _, st := range procs {
		for a := st.ppid; a > 1; a = procs[a].ppid {
			if a == pid {
				total += st.cpu
				break
			}
			if _, ok := procs[a]; !ok {
				break
			}
		}
	}
	return total
}

// machineCPU is the busy and stolen CPU time of the whole machine since boot (/proc/stat).
func machineCPU() (busy, steal time.Duration, err error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errors.New("unexpected /proc/stat format")
	}
	var v [8]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return 0, 0, err
		}
	}
	// user nice system idle iowait irq softirq steal (guest time is inside user)
	ticks := v[0] + v[1] + v[2] + v[5] + v[6]
	return time.Duration(ticks) * time.Second / clockTicks, time.Duration(v[7]) * time.Second / clockTicks, nil
}

// kernelDrops is the number of datagrams the kernel dropped since boot: UDP datagrams with
// a full socket receive buffer (or other receive errors), and packets that did not fit a
// CPU's backlog queue (loopback traffic passes through it).
func kernelDrops() (udp, backlog uint64) {
	if data, err := os.ReadFile("/proc/net/snmp"); err == nil {
		var names []string
		for line := range strings.Lines(string(data)) {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "Udp:" {
				continue
			}
			if names == nil {
				names = f[1:]
				continue
			}
			for i, n := range names {
				if n == "InErrors" && i+1 < len(f) {
					udp, _ = strconv.ParseUint(f[i+1], 10, 64)
				}
			}
			break
		}
	}
	if data, err := os.ReadFile("/proc/net/softnet_stat"); err == nil {
		for line := range strings.Lines(string(data)) {
			if f := strings.Fields(line); len(f) > 1 {
				n, _ := strconv.ParseUint(f[1], 16, 64)
				backlog += n
			}
		}
	}
	return udp, backlog
}

// procRSS is the resident set size of a process in bytes.
func procRSS(pid int) (int64, error) {
	data, err := os.ReadFile(filepath.Join("/proc", procName(pid), "statm"))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, errors.New("unexpected /proc statm format")
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, err
	}
	return pages * int64(os.Getpagesize()), nil
}

func procName(pid int) string {
	if pid == 0 {
		return "self"
	}
	return strconv.Itoa(pid)
}

// pinSelf restricts every thread of this process to cpu, as taskset -a -p would. New
// threads inherit the mask of the thread that makes them, so once all are pinned, all
// later ones are too; the loop repeats until a pass finds none left to pin.
func pinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	for range 10 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		changed := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var cur unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &cur); err == nil && cur == set {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPU %d: %w", tid, cpu, err)
			}
			changed = true
		}
		if !changed {
			return nil
		}
	}
	return nil
}

// unpinSelf gives every thread all CPUs again (the test runs the harness in-process).
func unpinSelf(cpus int) {
	var set unix.CPUSet
	for i := range cpus {
		set.Set(i)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	for _, t := range tasks {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			_ = unix.SchedSetaffinity(tid, &set)
		}
	}
}

// cpuModel is the CPU's name from /proc/cpuinfo, for the caption.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

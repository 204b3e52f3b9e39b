package gso

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// TestConn: writes held while corked reach real loopback sockets, each datagram
// whole and in order per address, with GSO and without; writes while nobody is corked
// go out at once.
func TestConn(t *testing.T) {
	for _, tc := range []struct {
		network string
		ip      net.IP
		gso     bool
	}{
		{"udp4", net.IPv4(127, 0, 0, 1), true},
		{"udp4", net.IPv4(127, 0, 0, 1), false},
		{"udp6", net.IPv6loopback, true},
	} {
		gso := tc.gso
		t.Run(fmt.Sprintf("%s gso=%v", tc.network, gso), func(t *testing.T) {
			udp, err := net.ListenUDP(tc.network, &net.UDPAddr{IP: tc.ip})
			if err != nil {
				t.Skipf("no %s loopback here: %v", tc.network, err)
			}
			c, err := New(udp, gso, testLogger())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			a, b := listenLoopback(t, tc.network, tc.ip), listenLoopback(t, tc.network, tc.ip)
			addrA, addrB := a.LocalAddr().(*net.UDPAddr).AddrPort(), b.LocalAddr().(*net.UDPAddr).AddrPort()

			datagram := func(tag byte, i, size int) []byte {
				p := bytes.Repeat([]byte{tag}, size)
				p[0] = byte(i)
				return p
			}
			// A frame of equal packets and a shorter last to A, audio to B, another frame to
			// A with a packet size change in the middle, then one more to B.
			type write struct {
				to   netip.AddrPort
				data []byte
			}
			var writes []write
			for i := range 6 {
				writes = append(writes, write{addrA, datagram('a', i, 1200)})
			}
			writes = append(writes, write{addrA, datagram('a', 6, 300)}, write{addrB, datagram('b', 0, 90)})
			for i := range 4 {
				writes = append(writes, write{addrA, datagram('a', 7+i, 1100+i%2*100)})
			}
			writes = append(writes, write{addrB, datagram('b', 1, 90)})

			c.Cork()
			for _, w := range writes {
				if n, err := c.WriteToAddrPort(w.data, w.to); err != nil || n != len(w.data) {
					t.Fatalf("WriteToAddrPort = %d, %v", n, err)
				}
			}
			c.Uncork()
			// Not corked: straight out.
			direct := datagram('b', 2, 50)
			if _, err := c.WriteTo(direct, net.UDPAddrFromAddrPort(addrB)); err != nil {
				t.Fatal(err)
			}

			var wantA, wantB [][]byte
			for _, w := range writes {
				if w.to == addrA {
					wantA = append(wantA, w.data)
				} else {
					wantB = append(wantB, w.data)
				}
			}
			wantB = append(wantB, direct)
			expectDatagrams(t, a, wantA)
			expectDatagrams(t, b, wantB)
			if f := c.Failures(); f != 0 {
				t.Errorf("%d failed sends", f)
			}
			// With GSO, two sends carry more than one datagram: the first frame (six of
			// 1200 and the shorter last), and in the second frame (1100, 1200, 1100, 1200)
			// the 1200 followed by the shorter 1100.
			want := uint64(0)
			if gso {
				want = 2
			}
			if got := c.GSOSends(); got != want {
				t.Errorf("%d GSO sends, want %d", got, want)
			}
		})
	}
}

func listenLoopback(t testing.TB, network string, ip net.IP) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func expectDatagrams(t *testing.T, c *net.UDPConn, want [][]byte) {
	t.Helper()
	buf := make([]byte, 65536)
	for i, w := range want {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d of %d: %v", i+1, len(want), err)
		}
		if !bytes.Equal(buf[:n], w) {
			t.Fatalf("datagram %d: got %d bytes starting %q, want %d bytes starting %q", i+1, n, buf[:min(n, 2)], len(w), w[:2])
		}
	}
}

// TestHoldIsBounded: a write held while a writer stays corked (blocked on an
// ICE-TCP viewer, say) still leaves after maxHold.
func TestHoldIsBounded(t *testing.T) {
	udp := listenLoopback(t, "udp4", net.IPv4(127, 0, 0, 1))
	c, err := New(udp, true, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	dst := listenLoopback(t, "udp4", net.IPv4(127, 0, 0, 1))
	c.Cork()
	defer c.Uncork()
	stun := []byte("binding success")
	if _, err := c.WriteToAddrPort(stun, dst.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	expectDatagrams(t, dst, [][]byte{stun})
}

// BenchmarkBatch is one writer's batch to one viewer: cork, the packets, uncork, through a
// real loopback socket. SetBytes is the batch's datagram bytes. Nobody reads the
// receiving socket: once its buffer is full the kernel drops at delivery, after the
// sender's whole path (system call, IP stack, segmentation) has been paid.
func BenchmarkBatch(b *testing.B) {
	for _, bc := range []struct {
		name          string
		packets, size int
		gso           bool
	}{
		{"video frame 8x1200 gso", 8, 1200, true},
		{"video frame 8x1200 no gso", 8, 1200, false},
		{"audio 1x160", 1, 160, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			c, err := New(udp, bc.gso, testLogger())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = c.Close() })
			dst := listenLoopback(b, "udp4", net.IPv4(127, 0, 0, 1)).LocalAddr().(*net.UDPAddr).AddrPort()
			datagram := bytes.Repeat([]byte{0x80}, bc.size)
			batch := func() {
				c.Cork()
				for range bc.packets {
					if _, err := c.WriteToAddrPort(datagram, dst); err != nil {
						b.Fatal(err)
					}
				}
				c.Uncork()
			}
			// The held-write buffers (two, swapped at each flush) grow once, then are reused.
			batch()
			batch()
			b.SetBytes(int64(bc.packets * bc.size))
			b.ReportAllocs()
			for b.Loop() {
				batch()
			}
			if f := c.Failures(); f > 0 {
				b.Fatalf("%d datagrams not sent", f)
			}
			b.ReportMetric(float64(c.GSOSends())/float64(b.N+2), "gso-sends/op")
		})
	}
}

package sfu

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestBatchConn: writes held while corked reach real loopback sockets, each datagram
// whole and in order per address, with GSO and without; writes while nobody is corked
// go out at once.
func TestBatchConn(t *testing.T) {
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
			c, err := newBatchConn(udp, gso, testLogger())
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

			c.cork()
			for _, w := range writes {
				if n, err := c.WriteToAddrPort(w.data, w.to); err != nil || n != len(w.data) {
					t.Fatalf("WriteToAddrPort = %d, %v", n, err)
				}
			}
			c.uncork()
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
			if f := c.failures.Load(); f != 0 {
				t.Errorf("%d failed sends", f)
			}
			// With GSO, two sends carry more than one datagram: the first frame (six of
			// 1200 and the shorter last), and in the second frame (1100, 1200, 1100, 1200)
			// the 1200 followed by the shorter 1100.
			want := uint64(0)
			if gso {
				want = 2
			}
			if got := c.gsoSends.Load(); got != want {
				t.Errorf("%d GSO sends, want %d", got, want)
			}
		})
	}
}

func listenLoopback(t *testing.T, network string, ip net.IP) *net.UDPConn {
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

// TestBatchConnHoldIsBounded: a write held while a writer stays corked (blocked on an
// ICE-TCP viewer, say) still leaves after maxHold.
func TestBatchConnHoldIsBounded(t *testing.T) {
	udp := listenLoopback(t, "udp4", net.IPv4(127, 0, 0, 1))
	c, err := newBatchConn(udp, true, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	dst := listenLoopback(t, "udp4", net.IPv4(127, 0, 0, 1))
	c.cork()
	defer c.uncork()
	stun := []byte("binding success")
	if _, err := c.WriteToAddrPort(stun, dst.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatal(err)
	}
	expectDatagrams(t, dst, [][]byte{stun})
}

// Package gso holds back a UDP socket's writes while a writer writes one viewer's batch,
// then sends them together: packets of one size in a row to one address (the packets of
// a video frame) leave in one UDP GSO send (generic segmentation offload, Linux 4.18+)
// that the kernel cuts back into datagrams. The system call and the trip through the IP
// stack, about half of the SFU's CPU per forwarded packet, are then paid about once per
// frame instead of once per packet.
package gso

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Conn is the SFU's media UDP socket. While a fan-out writer writes one viewer's batch
// (between Cork and Uncork), writes to the socket are held; Uncork sends them, in GSO
// runs where it can. Writes from anyone else (ICE, DTLS, RTCP) while nobody is corked go
// out at once; while a writer is corked they leave with the next Uncork of any writer,
// and at the latest after maxHold (a writer can block for long on an ICE-TCP viewer, and
// control traffic must not wait for it).
type Conn struct {
	*net.UDPConn
	log      *slog.Logger
	gso      atomic.Bool // false without GSO, or once the kernel refused GSO sends refusalsToStop times in a row
	refusals atomic.Int32
	failures atomic.Uint64 // datagrams that could not be sent
	gsoSends atomic.Uint64 // sends of more than one datagram

	mu      sync.Mutex
	corked  int
	pending []heldWrite
	data    []byte
	timer   *time.Timer // flushes after maxHold

	sendMu   sync.Mutex // one flush at a time, so that held writes leave in order
	sending  []heldWrite
	sendData []byte
	oob      []byte
	raw      rawSender // under sendMu
}

// heldWrite is one datagram held for the next flush: data[off:off+n] to addr.
type heldWrite struct {
	addr   netip.AddrPort
	off, n int
}

const (
	// maxHeldBytes bounds what one flush holds (a keyframe burst to one viewer is a few
	// dozen packets); a write beyond it flushes first.
	maxHeldBytes = 256 << 10
	// maxGSOBytes and maxGSOSegments are the kernel's limits for one GSO send: a UDP
	// datagram's payload, and UDP_MAX_SEGMENTS.
	maxGSOBytes    = 65507
	maxGSOSegments = 64
	// udpSegment is the UDP_SEGMENT socket option (linux/udp.h), absent from syscall.
	udpSegment = 103
	// maxHold is the longest a write waits for an uncork.
	maxHold = 2 * time.Millisecond
	// refusalsToStop is how many GSO sends in a row the kernel may refuse before GSO is
	// turned off. One refusal can be about one route (EINVAL: a segment larger than the
	// path MTU; EIO: IPsec), and that run is sent one datagram at a time instead.
	refusalsToStop = 16
)

// New wraps c. GSO is used when wanted and the kernel knows UDP_SEGMENT (Linux 4.18+); an
// older kernel would ignore the option and send one oversized datagram.
func New(c *net.UDPConn, gso bool, log *slog.Logger) (*Conn, error) {
	b := &Conn{UDPConn: c, log: log, oob: make([]byte, syscall.CmsgSpace(2))}
	if err := b.raw.init(c); err != nil {
		return nil, err
	}
	b.timer = time.AfterFunc(time.Hour, b.flushHeld)
	b.timer.Stop()
	if gso {
		if err := b.raw.supportsGSO(); err != nil {
			log.Info("sfu: UDP GSO not available; sending one datagram per call", "err", err)
			gso = false
		}
	}
	b.gso.Store(gso)
	return b, nil
}

// Cork starts holding writes (a writer begins a viewer's batch).
func (c *Conn) Cork() {
	c.mu.Lock()
	c.corked++
	c.mu.Unlock()
}

// Uncork ends a writer's batch and sends what is held.
func (c *Conn) Uncork() {
	c.mu.Lock()
	c.corked--
	held := len(c.pending) > 0
	c.mu.Unlock()
	if held {
		c.flush()
	}
}

// WriteToAddrPort is the ICE UDP mux's write path (see ice.AddrPortReaderWriter).
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	c.mu.Lock()
	if c.corked > 0 && len(b) > 0 && len(c.data)+len(b) <= maxHeldBytes && addr.Addr().Zone() == "" {
		if len(c.pending) == 0 {
			c.timer.Reset(maxHold)
		}
		c.pending = append(c.pending, heldWrite{addr: addr, off: len(c.data), n: len(b)})
		c.data = append(c.data, b...)
		c.mu.Unlock()
		return len(b), nil
	}
	c.mu.Unlock()
	// Behind whatever is held or being sent, so that writes to one address stay in order.
	c.flush()
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.WriteToUDPAddrPort(b, addr)
}

// Failures is the number of datagrams that could not be sent.
func (c *Conn) Failures() uint64 { return c.failures.Load() }

// GSOSends is the number of sends that carried more than one datagram.
func (c *Conn) GSOSends() uint64 { return c.gsoSends.Load() }

// flushHeld is the timer's flush, for writes held longer than maxHold.
func (c *Conn) flushHeld() {
	c.mu.Lock()
	held := len(c.pending) > 0
	c.mu.Unlock()
	if held {
		c.flush()
	}
}

// ReadFromAddrPort completes ice.AddrPortReaderWriter.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.ReadFromUDPAddrPort(b)
}

// WriteTo is the mux's fallback write path; it goes through the same hold.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return c.UDPConn.WriteTo(b, addr)
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// flush sends everything held.
func (c *Conn) flush() {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.mu.Lock()
	c.pending, c.sending = c.sending[:0], c.pending
	c.data, c.sendData = c.sendData[:0], c.data
	c.mu.Unlock()
	w, data := c.sending, c.sendData
	for i := 0; i < len(w); {
		j := c.run(w, i)
		start, end := w[i].off, w[j-1].off+w[j-1].n
		if j-i > 1 {
			err := c.sendGSO(data[start:end], w[i].n, w[i].addr)
			switch {
			case err == nil:
				c.gsoSends.Add(1)
				c.refusals.Store(0)
				i = j
				continue
			case !errors.Is(err, syscall.EIO) && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOPROTOOPT):
				c.failures.Add(uint64(j - i))
				i = j
				continue
			}
			// Refused: this run goes one datagram at a time; many refusals in a row mean
			// the kernel or the interface cannot do GSO at all.
			if c.refusals.Add(1) == refusalsToStop {
				c.gso.Store(false)
				c.log.Warn("sfu: the kernel refuses UDP GSO sends; sending one datagram per call from now on", "err", err)
			}
		}
		for ; i < j; i++ {
			if err := c.raw.send(data[w[i].off:w[i].off+w[i].n], nil, w[i].addr); err != nil {
				c.failures.Add(1)
			}
		}
	}
	clear(c.sending) // no addresses kept alive between flushes
}

// run returns the end of the GSO run that starts at w[i]: the following writes to the
// same address of the same size, and at most one shorter one to end it, within the
// kernel's limits. Without GSO a run is one write.
func (c *Conn) run(w []heldWrite, i int) int {
	j := i + 1
	if !c.gso.Load() {
		return j
	}
	size, total := w[i].n, w[i].n
	for j < len(w) && j-i < maxGSOSegments && w[j].addr == w[i].addr && w[j].n <= size && total+w[j].n <= maxGSOBytes {
		total += w[j].n
		j++
		if w[j-1].n < size {
			break // a shorter datagram can only be the last of a run
		}
	}
	return j
}

// sendGSO sends b to addr as datagrams of size bytes each (the last may be shorter).
func (c *Conn) sendGSO(b []byte, size int, addr netip.AddrPort) error {
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&c.oob[0])) //nolint:gosec // the control message header, laid out as the kernel reads it
	h.Level = syscall.IPPROTO_UDP
	h.Type = udpSegment
	h.SetLen(syscall.CmsgLen(2))
	binary.NativeEndian.PutUint16(c.oob[syscall.CmsgLen(0):], uint16(size)) //nolint:gosec // size ≤ an RTP packet's
	return c.raw.send(b, c.oob, addr)
}

// rawSender sends with sendmsg(2) as a raw system call: a send does not block (the
// socket is non-blocking; when its buffer is full, the runtime's poller waits), and the
// Go scheduler does not treat it as a possibly blocking call. With the ordinary path a
// GSO send on a busy single-core server (which runs the receivers' side of loopback
// delivery too) often outlasted the scheduler's 20 µs check, which then handed the
// goroutine's processor to another thread: a context switch per flush and a scheduler
// that never backed off. Its buffers are reused, so a send allocates nothing.
type rawSender struct {
	rc    syscall.RawConn
	v6    bool
	msg   syscall.Msghdr
	iov   syscall.Iovec
	sa4   syscall.RawSockaddrInet4
	sa6   syscall.RawSockaddrInet6
	errno syscall.Errno
	write func(fd uintptr) bool
}

func (r *rawSender) init(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	r.rc = rc
	la, ok := c.LocalAddr().(*net.UDPAddr)
	r.v6 = ok && la.IP.To4() == nil
	r.msg.Iov = &r.iov
	r.msg.Iovlen = 1
	if r.v6 {
		r.sa6.Family = syscall.AF_INET6
		r.msg.Name = (*byte)(unsafe.Pointer(&r.sa6)) //nolint:gosec // sockaddr for the kernel
		r.msg.Namelen = syscall.SizeofSockaddrInet6
	} else {
		r.sa4.Family = syscall.AF_INET
		r.msg.Name = (*byte)(unsafe.Pointer(&r.sa4)) //nolint:gosec // sockaddr for the kernel
		r.msg.Namelen = syscall.SizeofSockaddrInet4
	}
	r.write = func(fd uintptr) bool {
		for {
			_, _, r.errno = syscall.RawSyscall(syscall.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0) //nolint:gosec // msghdr for the kernel
			if r.errno != syscall.EINTR {
				return r.errno != syscall.EAGAIN
			}
		}
	}
	return nil
}

// supportsGSO asks the kernel whether the socket knows UDP_SEGMENT.
func (r *rawSender) supportsGSO() error {
	var serr error
	if err := r.rc.Control(func(fd uintptr) {
		_, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpSegment) //nolint:gosec // a file descriptor fits an int
	}); err != nil {
		return err
	}
	return serr
}

// send sends b (with the control message oob, if any) to addr.
func (r *rawSender) send(b, oob []byte, addr netip.AddrPort) error {
	port := (*[2]byte)(unsafe.Pointer(&r.sa4.Port)) //nolint:gosec // network byte order
	if r.v6 {
		r.sa6.Addr = addr.Addr().As16()
		port = (*[2]byte)(unsafe.Pointer(&r.sa6.Port)) //nolint:gosec // network byte order
	} else {
		if !addr.Addr().Unmap().Is4() {
			return syscall.EAFNOSUPPORT
		}
		r.sa4.Addr = addr.Addr().Unmap().As4()
	}
	binary.BigEndian.PutUint16(port[:], addr.Port())
	r.iov.Base = &b[0]
	r.iov.SetLen(len(b))
	if len(oob) > 0 {
		r.msg.Control = &oob[0]
		r.msg.SetControllen(len(oob))
	} else {
		r.msg.Control = nil
		r.msg.SetControllen(0)
	}
	r.errno = 0
	if err := r.rc.Write(r.write); err != nil {
		return err
	}
	if r.errno != 0 {
		return r.errno
	}
	return nil
}

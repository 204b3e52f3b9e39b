package upload

import (
	"errors"
	"hash"
	"io"
	"sync"
)

// hashChunk is the size of the buffers that ParallelHashes hands to its hashes.
const hashChunk = 4 * mib

// hashBuffers is how many chunks may be in flight: while the hashes work on some, the reader
// fills the others, so reading from MinIO overlaps hashing instead of alternating with it.
const hashBuffers = 4

// ParallelHashes feeds every chunk to several hashes at once, one goroutine each, so that
// SHA-256 and SHA-512 of a 20 GB file cost the time of the slowest one, not of all; and
// Write copies into its own buffers and returns before the hashes finish, so that the next
// read proceeds meanwhile. Sum only after Close.
type ParallelHashes struct {
	work   []chan *chunk
	free   chan *chunk
	fill   *chunk // the chunk being filled by Write, not yet handed out
	wg     sync.WaitGroup
	closed bool
}

type chunk struct {
	buf     []byte
	pending sync.WaitGroup // one per hash still reading buf
}

// NewParallelHashes feeds what is written or read to every hash in hs; Close before Sum.
func NewParallelHashes(hs ...hash.Hash) *ParallelHashes {
	p := &ParallelHashes{free: make(chan *chunk, hashBuffers)}
	for range hashBuffers {
		p.free <- &chunk{buf: make([]byte, 0, hashChunk)}
	}
	for _, h := range hs {
		ch := make(chan *chunk, hashBuffers)
		p.work = append(p.work, ch)
		p.wg.Go(func() {
			for c := range ch {
				h.Write(c.buf)
				c.pending.Done()
			}
		})
	}
	return p
}

// Write copies b into the chunk being filled and hands full chunks to the hashes. It never
// keeps b, so the caller may reuse it at once.
func (p *ParallelHashes) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		if p.fill == nil {
			p.fill = <-p.free
			p.fill.buf = p.fill.buf[:0]
		}
		room := cap(p.fill.buf) - len(p.fill.buf)
		k := min(room, len(b))
		p.fill.buf = append(p.fill.buf, b[:k]...)
		b = b[k:]
		if len(p.fill.buf) == cap(p.fill.buf) {
			p.send()
		}
	}
	return n, nil
}

// ReadFrom reads r to its end straight into the hashes' buffers (no copy, unlike Write).
// Only io.EOF ends it well: a body cut short (io.ErrUnexpectedEOF from net/http) is an error.
func (p *ParallelHashes) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if p.fill == nil {
			p.fill = <-p.free
			p.fill.buf = p.fill.buf[:0]
		}
		n, err := r.Read(p.fill.buf[len(p.fill.buf):cap(p.fill.buf)])
		p.fill.buf = p.fill.buf[:len(p.fill.buf)+n]
		total += int64(n)
		if len(p.fill.buf) == cap(p.fill.buf) {
			p.send()
		}
		switch {
		case errors.Is(err, io.EOF):
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

func (p *ParallelHashes) send() {
	c := p.fill
	p.fill = nil
	c.pending.Add(len(p.work))
	go func() { // back to the free list once every hash is done with it
		c.pending.Wait()
		p.free <- c
	}()
	for _, ch := range p.work {
		ch <- c
	}
}

// Close hands over the last partial chunk and waits until every hash has seen every byte.
// Closing again does nothing.
func (p *ParallelHashes) Close() {
	if p.closed {
		return
	}
	p.closed = true
	if p.fill != nil && len(p.fill.buf) > 0 {
		p.send()
	}
	for _, ch := range p.work {
		close(ch)
	}
	p.wg.Wait()
}

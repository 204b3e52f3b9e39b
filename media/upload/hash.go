package upload

import (
	"hash"
	"sync"
)

// parallelHashes feeds every chunk to several hashes at once, one goroutine each, so that
// SHA-256 and SHA-512 of a 20 GB file cost the time of the slower one, not of both.
type parallelHashes struct {
	hashes []hash.Hash
	work   []chan []byte
	wg     sync.WaitGroup
}

func newParallelHashes(hs ...hash.Hash) *parallelHashes {
	p := &parallelHashes{hashes: hs}
	for _, h := range hs {
		ch := make(chan []byte)
		p.work = append(p.work, ch)
		go func() {
			for b := range ch {
				h.Write(b)
				p.wg.Done()
			}
		}()
	}
	return p
}

// Write hashes b in every hash and returns when all are done with it, so that the caller
// may reuse b.
func (p *parallelHashes) Write(b []byte) (int, error) {
	p.wg.Add(len(p.work))
	for _, ch := range p.work {
		ch <- b
	}
	p.wg.Wait()
	return len(b), nil
}

// Close ends the goroutines.
func (p *parallelHashes) Close() {
	for _, ch := range p.work {
		close(ch)
	}
}

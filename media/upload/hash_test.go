package upload

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestParallelHashesMatchSerial(t *testing.T) {
	sizes := []int{0, 1, mib - 1, hashChunk, hashChunk + 1, 3*hashChunk + 17, (hashBuffers + 3) * hashChunk}
	feeds := []struct {
		name string
		feed func(p *ParallelHashes, data []byte) (int64, error)
	}{
		{"Write, small buffers", func(p *ParallelHashes, data []byte) (int64, error) {
			return io.CopyBuffer(struct{ io.Writer }{p}, bytes.NewReader(data), make([]byte, 64<<10))
		}},
		{"ReadFrom, one byte per read", func(p *ParallelHashes, data []byte) (int64, error) {
			if len(data) > 2*mib {
				data = data[:2*mib] // a byte at a time is slow; this still crosses no chunk
			}
			return p.ReadFrom(iotest.OneByteReader(bytes.NewReader(data)))
		}},
		{"ReadFrom, half reads", func(p *ParallelHashes, data []byte) (int64, error) {
			return p.ReadFrom(iotest.HalfReader(bytes.NewReader(data)))
		}},
	}
	for _, f := range feeds {
		for _, size := range sizes {
			data := make([]byte, size)
			_, _ = rand.Read(data)
			h256, h512 := sha256.New(), sha512.New()
			p := NewParallelHashes(h256, h512)
			n, err := f.feed(p, data)
			p.Close()
			p.Close() // a second Close does nothing
			if err != nil {
				t.Fatalf("%s, size %d: %v", f.name, size, err)
			}
			data = data[:n]
			want256, want512 := sha256.Sum256(data), sha512.Sum512(data)
			if !bytes.Equal(h256.Sum(nil), want256[:]) || !bytes.Equal(h512.Sum(nil), want512[:]) {
				t.Fatalf("%s, size %d: digests differ", f.name, size)
			}
		}
	}
}

func TestParallelHashesReadFromReportsReadError(t *testing.T) {
	for _, boom := range []error{errors.New("connection reset"), io.ErrUnexpectedEOF} {
		p := NewParallelHashes(sha256.New())
		n, err := p.ReadFrom(io.MultiReader(bytes.NewReader(make([]byte, hashChunk+5)), iotest.ErrReader(boom)))
		p.Close()
		if !errors.Is(err, boom) || n != hashChunk+5 {
			t.Errorf("got %d, %v; want %d, %v", n, err, hashChunk+5, boom)
		}
	}
}

func BenchmarkHashes(b *testing.B) {
	data := make([]byte, 64*mib)
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			_, _ = io.CopyBuffer(io.MultiWriter(sha256.New(), sha512.New()), bytes.NewReader(data), make([]byte, 4*mib))
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for range b.N {
			p := NewParallelHashes(sha256.New(), sha512.New())
			_, _ = p.ReadFrom(bytes.NewReader(data))
			p.Close()
		}
	})
}

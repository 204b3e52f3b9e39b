package upload

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"io"
	"testing"
)

func TestParallelHashesMatchSerial(t *testing.T) {
	for _, size := range []int{0, 1, mib - 1, 3*mib + 17} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		h256, h512 := sha256.New(), sha512.New()
		p := newParallelHashes(h256, h512)
		if _, err := io.CopyBuffer(p, bytes.NewReader(data), make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		p.Close()
		want256, want512 := sha256.Sum256(data), sha512.Sum512(data)
		if !bytes.Equal(h256.Sum(nil), want256[:]) || !bytes.Equal(h512.Sum(nil), want512[:]) {
			t.Fatalf("size %d: digests differ", size)
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
			p := newParallelHashes(sha256.New(), sha512.New())
			_, _ = io.CopyBuffer(p, bytes.NewReader(data), make([]byte, 4*mib))
			p.Close()
		}
	})
}

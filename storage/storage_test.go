package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/storage"
	"github.com/shizuishan/culturecloud/storage/storagetest"
)

func TestMain(m *testing.M) { testservices.Main(m) }

// TestContract runs the whole storage contract against a real single-drive MinIO.
func TestContract(t *testing.T) {
	svc := testservices.For(t, testservices.Shared(t))
	s, err := storage.Connect(storage.Options{Endpoint: svc.MinIOEndpoint, AccessKey: testservices.MinIOUser,
		SecretKey: testservices.MinIOPassword, Bucket: svc.Bucket, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Versioned(ctx); err != nil || !ok {
		t.Fatalf("Setup left the bucket unversioned (%v)", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	storagetest.Run(t, s)
	storagetest.Run(t, s.Long())
}

// TestStoreDownIsUnavailable: a store nobody answers for gives ErrUnavailable, named as
// MinIO, from every kind of call, and never a not-found that would hide the outage.
func TestStoreDownIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nobody listens there now
	s, err := storage.Connect(storage.Options{Endpoint: addr, AccessKey: "k", SecretKey: "secret-key", Bucket: "bucket", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, getErr := s.Get(ctx, "k", storage.GetOptions{})
	_, statErr := s.Stat(ctx, "k", "")
	_, putErr := s.PutBytes(ctx, "k", []byte("x"), storage.PutOptions{})
	_, listErr := s.Keys(ctx, "")
	for name, err := range map[string]error{"get": getErr, "stat": statErr, "put": putErr, "list": listErr, "check": s.Check(ctx)} {
		if !errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: %v, want only ErrUnavailable", name, err)
		}
		var named interface{ DependencyUnavailable() string }
		if !errors.As(err, &named) || named.DependencyUnavailable() != "minio" {
			t.Errorf("%s: %v does not name minio", name, err)
		}
	}
}

// TestDamagedBytesAreCorrupt rots one byte of stored objects on MinIO's drive, as a failing
// disk would: reading them back is ErrCorrupt, in MinIO's words, never an outage or a
// success with other bytes.
func TestDamagedBytesAreCorrupt(t *testing.T) {
	stack := testservices.Shared(t)
	svc := testservices.For(t, stack)
	s := testservices.Objects(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, size := range []int{4 << 10, 1 << 20} { // inline in MinIO's metadata, and a part file of its own
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			marker := []byte(fmt.Sprintf("贺兰山岩画-%d-", size))
			body := bytes.Repeat(marker, size/len(marker)+1)[:size]
			key := fmt.Sprintf("rot/%d.bin", size)
			if _, err := s.PutBytes(ctx, key, body, storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			flipByte(t, filepath.Join(stack.Dir("minio"), "data", svc.Bucket, key), marker)
			r, _, err := s.Get(ctx, key, storage.GetOptions{})
			if err == nil {
				var got []byte
				got, err = io.ReadAll(r)
				_ = r.Close()
				if err == nil && !bytes.Equal(got, body) {
					t.Fatal("damaged bytes were handed back as the object")
				}
			}
			if !errors.Is(err, storage.ErrCorrupt) || errors.Is(err, storage.ErrUnavailable) {
				t.Fatalf("reading a damaged object: %v, want only ErrCorrupt", err)
			}
			t.Logf("MinIO says: %s", storage.Reason(err))
		})
	}
}

// flipByte changes one byte of the first file under dir that holds within.
func flipByte(t *testing.T, dir string, within []byte) {
	t.Helper()
	flipped := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || flipped {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if at := bytes.Index(data, within); at >= 0 {
			data[at] ^= 0x01
			flipped = true
			return os.WriteFile(path, data, 0o600)
		}
		return nil
	})
	if err != nil || !flipped {
		t.Fatalf("no file under %s holds %q (%v)", dir, within, err)
	}
}

package storage_test

import (
	"context"
	"errors"
	"net"
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

package captions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/media/captions"
)

func TestMain(m *testing.M) { testservices.Main(m) }

func TestStoreOnRealMinIO(t *testing.T) {
	svc := testservices.For(t, testservices.Shared(t))
	c, err := minio.New(svc.MinIOEndpoint, &minio.Options{
		Creds: credentials.NewStaticV4(testservices.MinIOUser, testservices.MinIOPassword, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, svc.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	s := captions.NewStore(c, svc.Bucket)
	key := "media/item-1/" + "ab" + "/captions-zh.vtt"
	if _, err := s.Get(ctx, key); !errors.Is(err, captions.ErrNotFound) {
		t.Fatalf("Get before Put: %v, want ErrNotFound", err)
	}
	for _, body := range []string{"WEBVTT\n", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n你好\n"} {
		if err := s.Put(ctx, key, []byte(body)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, key)
		if err != nil || string(got) != body {
			t.Fatalf("Get = %q, %v; want %q", got, err, body)
		}
	}
	info, err := c.StatObject(ctx, svc.Bucket, key, minio.StatObjectOptions{})
	if err != nil || info.ContentType != captions.ContentType {
		t.Fatalf("stored as %q (%v)", info.ContentType, err)
	}
	broken := captions.NewStore(c, "no-such-bucket-"+svc.Bucket)
	if err := broken.Put(ctx, key, []byte("WEBVTT\n")); !errors.Is(err, captions.ErrUnavailable) {
		t.Fatalf("Put to a missing bucket: %v", err)
	}
	if _, err := broken.Get(ctx, key); !errors.Is(err, captions.ErrUnavailable) {
		t.Fatalf("Get from a missing bucket: %v", err)
	}
}

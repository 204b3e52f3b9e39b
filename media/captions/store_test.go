package captions_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/testservices"
	"github.com/shizuishan/culturecloud/media/captions"
	"github.com/shizuishan/culturecloud/storage"
)

func TestMain(m *testing.M) { testservices.Main(m) }

func TestStoreOnRealMinIO(t *testing.T) {
	svc := testservices.For(t, testservices.Shared(t))
	objects := testservices.Objects(t, svc)
	ctx := context.Background()
	s := captions.NewStore(objects)
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
	info, err := objects.Stat(ctx, key, "")
	if err != nil || info.ContentType != captions.ContentType {
		t.Fatalf("stored as %q (%v)", info.ContentType, err)
	}
	elsewhere, err := storage.Connect(storage.Options{Endpoint: svc.MinIOEndpoint, AccessKey: testservices.MinIOUser,
		SecretKey: testservices.MinIOPassword, Bucket: "no-such-bucket-" + svc.Bucket, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	broken := captions.NewStore(elsewhere)
	if err := broken.Put(ctx, key, []byte("WEBVTT\n")); !errors.Is(err, captions.ErrUnavailable) {
		t.Fatalf("Put to a missing bucket: %v", err)
	}
	if _, err := broken.Get(ctx, key); !errors.Is(err, captions.ErrUnavailable) {
		t.Fatalf("Get from a missing bucket: %v", err)
	}
}

package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
)

// Info describes one stored object (or one version of it).
type Info struct {
	Key         string
	VersionID   string
	ETag        string
	Size        int64
	ContentType string
	Modified    time.Time
	// Metadata is the user metadata stored with the object (names without X-Amz-Meta-).
	Metadata map[string]string
	// IsLatest and DeleteMarker describe versions in a listing WithVersions.
	IsLatest     bool
	DeleteMarker bool
}

func infoOf(o minio.ObjectInfo) Info {
	return Info{Key: o.Key, VersionID: o.VersionID, ETag: strings.Trim(o.ETag, `"`), Size: o.Size,
		ContentType: o.ContentType, Modified: o.LastModified, Metadata: o.UserMetadata,
		IsLatest: o.IsLatest, DeleteMarker: o.IsDeleteMarker}
}

// Range selects the bytes to read; the zero Range is the whole object.
type Range struct {
	Offset int64
	Length int64 // 0: to the end
}

// GetOptions select what Get and Open read.
type GetOptions struct {
	VersionID string // "" for the current version
	Range     Range
}

func (o GetOptions) minio() (minio.GetObjectOptions, error) {
	opts := minio.GetObjectOptions{VersionID: o.VersionID}
	switch {
	case o.Range.Offset < 0 || o.Range.Length < 0:
		return opts, errorf(ErrRefused, "get", "", "range %d+%d is negative", o.Range.Offset, o.Range.Length)
	case o.Range.Length > 0:
		return opts, opts.SetRange(o.Range.Offset, o.Range.Offset+o.Range.Length-1)
	case o.Range.Offset > 0:
		return opts, opts.SetRange(o.Range.Offset, 0)
	}
	return opts, nil
}

// Get reads an object (or a range of it) in one request, made now: a missing object is
// ErrNotFound here, not at the first Read. Errors of the body's reads are mapped too.
func (s *Store) Get(ctx context.Context, key string, o GetOptions) (io.ReadCloser, Info, error) {
	opts, err := o.minio()
	if err != nil {
		return nil, Info{}, translate("get", key, err)
	}
	core := minio.Core{Client: s.client}
	body, info, _, err := core.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, Info{}, s.settle(ctx, translate("get", key, err))
	}
	info.Key = key
	return &reader{rc: body, key: key, ctx: ctx, s: s}, infoOf(info), nil
}

// ReadAll reads a whole object of at most limit bytes, with its Info; a larger object is
// ErrRefused rather than a large allocation.
func (s *Store) ReadAll(ctx context.Context, key string, limit int64) ([]byte, Info, error) {
	body, info, err := s.Get(ctx, key, GetOptions{})
	if err != nil {
		return nil, Info{}, err
	}
	defer body.Close()
	if info.Size > limit {
		return nil, Info{}, errorf(ErrRefused, "get", key, "%d bytes is more than the %d allowed here", info.Size, limit)
	}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, Info{}, err
	}
	return data, info, nil
}

type reader struct {
	rc  io.ReadCloser
	key string
	ctx context.Context
	s   *Store
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = r.s.settle(r.ctx, translate("read", r.key, err))
	}
	return n, err
}

func (r *reader) Close() error { return r.rc.Close() }

// Object is an opened object for answers with ranges (http.ServeContent): it seeks, and
// reads only what is asked. The first Read or Stat sends the request; later ones ask for
// the same version, so a write in between cannot mix two objects.
type Object struct {
	obj *minio.Object
	key string
	ctx context.Context
	s   *Store
}

// Open opens an object lazily (see Object).
func (s *Store) Open(ctx context.Context, key string, o GetOptions) (*Object, error) {
	opts, err := o.minio()
	if err != nil {
		return nil, translate("open", key, err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, translate("open", key, err)
	}
	return &Object{obj: obj, key: key, ctx: ctx, s: s}, nil
}

// Stat describes the object; before any Read it sends the request whose body the reads then
// take, and gives the whole size.
func (o *Object) Stat() (Info, error) {
	info, err := o.obj.Stat()
	if err != nil {
		return Info{}, o.s.settle(o.ctx, translate("stat", o.key, err))
	}
	info.Key = o.key
	return infoOf(info), nil
}

func (o *Object) Read(p []byte) (int, error) {
	n, err := o.obj.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = o.s.settle(o.ctx, translate("read", o.key, err))
	}
	return n, err
}

// ReadAt reads len(p) bytes at off.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.obj.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		err = o.s.settle(o.ctx, translate("read", o.key, err))
	}
	return n, err
}

// Seek moves where the next Read starts.
func (o *Object) Seek(offset int64, whence int) (int64, error) {
	n, err := o.obj.Seek(offset, whence)
	return n, translate("seek", o.key, err)
}

// Close ends the request.
func (o *Object) Close() error { return o.obj.Close() }

// Stat describes an object (a version of it when versionID is not "").
func (s *Store) Stat(ctx context.Context, key, versionID string) (Info, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{VersionID: versionID})
	if err != nil {
		return Info{}, translate("stat", key, err)
	}
	return infoOf(info), nil
}

// Exists reports whether an object is stored under key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Stat(ctx, key, "")
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PutOptions say how an object is written.
type PutOptions struct {
	ContentType string
	// IfMatch writes only over the version with this ETag; IfAbsent only where nothing is
	// stored. Either failing is ErrPrecondition.
	IfMatch  string
	IfAbsent bool
	Metadata map[string]string
	// PartSize and Threads tune large uploads (0: the driver's defaults).
	PartSize uint64
	Threads  uint
}

func (o PutOptions) minio() minio.PutObjectOptions {
	opts := minio.PutObjectOptions{ContentType: o.ContentType, UserMetadata: o.Metadata, PartSize: o.PartSize, NumThreads: o.Threads}
	switch {
	case o.IfAbsent:
		opts.SetMatchETagExcept("*")
	case o.IfMatch != "":
		opts.SetMatchETag(strings.Trim(o.IfMatch, `"`))
	}
	return opts
}

// Put stores size bytes of r under key (size -1: unknown, read to the end).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, o PutOptions) (Info, error) {
	info, err := s.client.PutObject(ctx, s.bucket, key, r, size, o.minio())
	if err != nil {
		return Info{}, translate("put", key, err)
	}
	return Info{Key: key, VersionID: info.VersionID, ETag: strings.Trim(info.ETag, `"`), Size: info.Size,
		ContentType: o.ContentType, Modified: info.LastModified}, nil
}

// PutBytes stores data under key.
func (s *Store) PutBytes(ctx context.Context, key string, data []byte, o PutOptions) (Info, error) {
	return s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), o)
}

// PutFile stores the local file at path under key.
func (s *Store) PutFile(ctx context.Context, key, path string, o PutOptions) (Info, error) {
	info, err := s.client.FPutObject(ctx, s.bucket, key, path, o.minio())
	if err != nil {
		return Info{}, translate("put", key, err)
	}
	return Info{Key: key, VersionID: info.VersionID, ETag: strings.Trim(info.ETag, `"`), Size: info.Size,
		ContentType: o.ContentType}, nil
}

// Remove removes an object (or one version of it). In a versioned bucket removing the
// current version leaves a delete marker, and earlier versions stay. A missing object is not
// an error.
func (s *Store) Remove(ctx context.Context, key, versionID string) error {
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: versionID})
	if err = translate("remove", key, err); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Purge removes every version of the object at key (and its delete markers), for data the
// versioned bucket should not keep: short-lived documents, staging files, refused uploads.
func (s *Store) Purge(ctx context.Context, key string) error {
	var versions []Info
	for v, err := range s.List(ctx, key, ListOptions{Versions: true, Recursive: true}) {
		if err != nil {
			return err
		}
		if v.Key == key {
			versions = append(versions, v)
		}
	}
	return s.RemoveMany(ctx, versions)
}

// RemoveMany removes the listed objects (by Key and VersionID) in batches.
func (s *Store) RemoveMany(ctx context.Context, objects []Info) error {
	if len(objects) == 0 {
		return nil
	}
	ch := make(chan minio.ObjectInfo)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(ch)
		for _, o := range objects {
			select {
			case ch <- minio.ObjectInfo{Key: o.Key, VersionID: o.VersionID}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var errs []error
	for e := range s.client.RemoveObjects(ctx, s.bucket, ch, minio.RemoveObjectsOptions{}) {
		if err := translate("remove", e.ObjectName, e.Err); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ListOptions select a listing.
type ListOptions struct {
	// Recursive lists every key under the prefix; otherwise keys up to the next "/" are
	// listed once, as "folders" ending in "/".
	Recursive bool
	// Versions lists every version and delete marker, newest first per key.
	Versions bool
}

// List yields the objects under prefix in key order; it stops at the first error, which it
// yields.
func (s *Store) List(ctx context.Context, prefix string, o ListOptions) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		ctx, cancel := context.WithCancel(ctx) // ends the listing when the caller stops early
		defer cancel()
		for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: o.Recursive, WithVersions: o.Versions}) {
			if obj.Err != nil {
				yield(Info{}, translate("list", prefix, obj.Err))
				return
			}
			if !yield(infoOf(obj), nil) {
				return
			}
		}
	}
}

// Keys lists the keys under prefix (recursively), in key order.
func (s *Store) Keys(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	for obj, err := range s.List(ctx, prefix, ListOptions{Recursive: true}) {
		if err != nil {
			return nil, err
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}

// PresignGet is a URL by which anyone who has it reads the object until expiry; params set
// answer headers (such as response-content-disposition).
func (s *Store) PresignGet(ctx context.Context, key string, expiry time.Duration, params url.Values) (*url.URL, error) {
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, params)
	return u, translate("presign", key, err)
}

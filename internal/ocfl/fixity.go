package ocfl

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Mismatch is one stored file whose bytes no longer match its digest.
type Mismatch struct {
	Object string
	Path   string // content path within the object, or "inventory.json"
	Want   string
	Got    string // "" when the file is missing
}

func (m Mismatch) String() string {
	if m.Got == "" {
		return fmt.Sprintf("%s/%s: missing (want sha512 %s…)", m.Object, m.Path, short(m.Want))
	}
	return fmt.Sprintf("%s/%s: sha512 %s… does not match the inventory's %s…", m.Object, m.Path, short(m.Got), short(m.Want))
}

func short(d string) string { return d[:min(16, len(d))] }

// CheckObject re-reads every file of an object, and the inventory against its sidecar, and
// reports each mismatch. progress, when not nil, is called with the bytes read so far.
func (s *Store) CheckObject(ctx context.Context, id string, progress func(n int64)) ([]Mismatch, error) {
	invData, _, err := s.get(ctx, s.ObjectRoot(id)+"inventory.json")
	if err != nil {
		return nil, err
	}
	inv, _, err := s.Read(ctx, id)
	if err != nil {
		return nil, err
	}
	var bad []Mismatch
	sidecar, _, err := s.get(ctx, s.ObjectRoot(id)+"inventory.json.sha512")
	want := strings.Fields(string(sidecar))
	sum := sha512.Sum512(invData)
	got := hex.EncodeToString(sum[:])
	switch {
	case errors.Is(err, ErrNotFound):
		bad = append(bad, Mismatch{Object: id, Path: "inventory.json.sha512", Want: got})
	case err != nil:
		return nil, err
	case len(want) == 0 || want[0] != got:
		w := ""
		if len(want) > 0 {
			w = want[0]
		}
		bad = append(bad, Mismatch{Object: id, Path: "inventory.json", Want: w, Got: got})
	}
	digests := make([]string, 0, len(inv.Manifest))
	for d := range inv.Manifest {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	var total int64
	for _, digest := range digests {
		for _, path := range inv.Manifest[digest] {
			obj, err := s.client.GetObject(ctx, s.bucket, s.ObjectRoot(id)+path, minio.GetObjectOptions{})
			if err != nil {
				return nil, translate(err)
			}
			h := sha512.New()
			n, err := io.Copy(h, obj)
			obj.Close()
			total += n
			if progress != nil {
				progress(total)
			}
			if err != nil {
				if errors.Is(translate(err), ErrNotFound) {
					bad = append(bad, Mismatch{Object: id, Path: path, Want: digest})
					continue
				}
				return nil, translate(err)
			}
			if g := hex.EncodeToString(h.Sum(nil)); g != strings.ToLower(digest) {
				bad = append(bad, Mismatch{Object: id, Path: path, Want: digest, Got: g})
			}
		}
	}
	return bad, nil
}

// Export streams every file of the object to put, under "<id>/<path>", so that a
// folder can be opened as an OCFL storage root by another implementation.
func (s *Store) Export(ctx context.Context, id string, put func(rel string, r io.Reader) error) error {
	prefix := s.ObjectRoot(id)
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return translate(obj.Err)
		}
		r, err := s.client.GetObject(ctx, s.bucket, obj.Key, minio.GetObjectOptions{})
		if err != nil {
			return translate(err)
		}
		err = put(id+"/"+strings.TrimPrefix(obj.Key, prefix), r)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

package ocfl

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/shizuishan/culturecloud/storage"
)

// Mismatch is one stored file whose bytes no longer match its digest, or that MinIO can no
// longer read back.
type Mismatch struct {
	Object  string `json:"object"`
	Version string `json:"version,omitempty"` // the OCFL version that added the content, e.g. "v2"
	Path    string `json:"path"`              // content path within the object, or "inventory.json"
	// Algorithm is the object's digest algorithm, of Want and Got ("sha256", "sha512"); ""
	// when the inventory itself could not be read.
	Algorithm string `json:"algorithm,omitempty"`
	Want      string `json:"want"`
	Got       string `json:"got,omitempty"`   // "" when the file is missing or unreadable
	Error     string `json:"error,omitempty"` // why the file could not be read to its end
}

func (m Mismatch) String() string {
	alg := m.DigestName()
	switch {
	case m.Error != "":
		return fmt.Sprintf("%s/%s: unreadable (want %s %s…): %s", m.Object, m.Path, alg, short(m.Want), m.Error)
	case m.Got == "":
		return fmt.Sprintf("%s/%s: missing (want %s %s…)", m.Object, m.Path, alg, short(m.Want))
	}
	return fmt.Sprintf("%s/%s: %s %s… does not match the inventory's %s…", m.Object, m.Path, alg, short(m.Got), short(m.Want))
}

// DigestName names the algorithm of Want and Got, "digest" when the inventory was unreadable.
func (m Mismatch) DigestName() string {
	if m.Algorithm == "" {
		return "digest"
	}
	return m.Algorithm
}

// contentVersion is the version directory a content path lives in ("v2/content/a" → "v2").
func contentVersion(path string) string {
	v, _, _ := strings.Cut(path, "/")
	if strings.HasPrefix(v, "v") {
		return v
	}
	return ""
}

// answers tells a file MinIO refuses to read (bit rot caught by its own checksums, a lost
// part) from MinIO being down: when MinIO still answers about the bucket, the file is to
// blame, and the check goes on with the next one.
func (s *Store) answers(ctx context.Context) bool {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	return s.objects.Check(ctx) == nil
}

func short(d string) string { return d[:min(16, len(d))] }

// CheckObject re-reads every file of an object, and the inventory against its sidecar, and
// reports each mismatch. progress, when not nil, is called with the bytes read so far.
func (s *Store) CheckObject(ctx context.Context, id string, progress func(n int64)) ([]Mismatch, error) {
	invData, _, err := s.get(ctx, s.ObjectRoot(id)+"inventory.json")
	if err != nil && !errors.Is(err, ErrNotFound) && s.answers(ctx) {
		return []Mismatch{{Object: id, Path: "inventory.json", Error: refusal(err)}}, nil
	}
	if err != nil {
		return nil, err
	}
	inv, _, err := s.Read(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) && s.answers(ctx) {
		return []Mismatch{{Object: id, Path: "inventory.json", Error: refusal(err)}}, nil
	}
	if err != nil {
		return nil, err
	}
	alg := inv.DigestAlgorithm
	if _, err := newHash(alg); err != nil {
		return nil, fmt.Errorf("ocfl: %s: %w", id, err)
	}
	var bad []Mismatch
	sidecarName := "inventory.json." + alg
	sidecar, _, err := s.get(ctx, s.ObjectRoot(id)+sidecarName)
	want := strings.Fields(string(sidecar))
	got, _ := hexDigest(alg, invData)
	switch {
	case errors.Is(err, ErrNotFound):
		bad = append(bad, Mismatch{Object: id, Path: sidecarName, Algorithm: alg, Want: got})
	case err != nil:
		return nil, err
	case len(want) == 0 || want[0] != got:
		w := ""
		if len(want) > 0 {
			w = want[0]
		}
		bad = append(bad, Mismatch{Object: id, Path: "inventory.json", Algorithm: alg, Want: w, Got: got})
	}
	digests := make([]string, 0, len(inv.Manifest))
	for d := range inv.Manifest {
		digests = append(digests, d)
	}
	sort.Strings(digests)
	var total int64
	for _, digest := range digests {
		for _, path := range inv.Manifest[digest] {
			h, _ := newHash(alg)
			n, err := s.readInto(ctx, s.ObjectRoot(id)+path, h)
			total += n
			if progress != nil {
				progress(total)
			}
			found := Mismatch{Object: id, Version: contentVersion(path), Path: path, Algorithm: alg, Want: digest}
			switch {
			case errors.Is(err, ErrNotFound):
				bad = append(bad, found)
			case err != nil && s.answers(ctx):
				found.Error = refusal(err)
				bad = append(bad, found)
			case err != nil:
				return bad, err
			default:
				if g := hex.EncodeToString(h.Sum(nil)); g != strings.ToLower(digest) {
					found.Got = g
					bad = append(bad, found)
				}
			}
		}
	}
	return bad, nil
}

// refusal says in MinIO's own words why it would not hand a file back.
func refusal(err error) string {
	return "MinIO refuses to read it back (" + storage.Reason(err) + ")"
}

func (s *Store) readInto(ctx context.Context, key string, w io.Writer) (int64, error) {
	body, _, err := s.objects.Get(ctx, key, storage.GetOptions{})
	if err != nil {
		return 0, translate(err)
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	return n, translate(err)
}

// Export streams every file of the object to put, under "<id>/<path>", so that a
// folder can be opened as an OCFL storage root by another implementation.
func (s *Store) Export(ctx context.Context, id string, put func(rel string, r io.Reader) error) error {
	prefix := s.ObjectRoot(id)
	for obj, err := range s.objects.List(ctx, prefix, storage.ListOptions{Recursive: true}) {
		if err != nil {
			return err
		}
		r, _, err := s.objects.Get(ctx, obj.Key, storage.GetOptions{})
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

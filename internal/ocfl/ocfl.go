// Package ocfl keeps preservation objects in MinIO laid out as an OCFL 1.1 storage root
// (https://ocfl.io/1.1/spec/): each object has immutable version directories and an inventory
// of digests. New objects use sha256; objects written before with sha512 keep it for every
// later version (OCFL wants one algorithm per object). A new version is committed by writing the root inventory last, with an
// If-Match on the inventory that the version was built from, so two writers never interleave.
//
// Object roots use the flat-direct layout (extension 0002): the object id is the directory
// name, so ids are restricted to [a-z0-9-].
package ocfl

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

const (
	// InventoryType is the inventory's "type" for OCFL 1.1.
	InventoryType = "https://ocfl.io/1.1/spec/#inventory"
	objectNamaste = "0=ocfl_object_1.1"
	rootNamaste   = "0=ocfl_1.1"
)

var (
	// ErrNotFound means no object with that id.
	ErrNotFound = errors.New("ocfl object not found")
	// ErrConflict means the object changed since the caller read it (or exists already on create).
	ErrConflict = errors.New("ocfl object changed concurrently")
	// ErrBadID means the id cannot name an object root.
	ErrBadID = errors.New("invalid ocfl object id")
)

// The digest algorithms an object may use (OCFL 1.1 allows these two for the manifest).
const (
	SHA256 = "sha256" // of every object created now: the fastest read to hash an upload
	SHA512 = "sha512" // of objects created before; they keep it
)

// newHash is the hash of an inventory's digest algorithm.
func newHash(algorithm string) (hash.Hash, error) {
	switch algorithm {
	case SHA256:
		return sha256.New(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("ocfl: digest algorithm %q not supported", algorithm)
}

func hexDigest(algorithm string, data []byte) (string, error) {
	h, err := newHash(algorithm)
	if err != nil {
		return "", err
	}
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,63}$`)

// User is who made a version.
type User struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
}

// Version is one entry of an inventory's versions block.
type Version struct {
	Created time.Time           `json:"created"`
	Message string              `json:"message,omitempty"`
	User    *User               `json:"user,omitempty"`
	State   map[string][]string `json:"state"`
}

// Inventory is an OCFL inventory.
type Inventory struct {
	ID               string                         `json:"id"`
	Type             string                         `json:"type"`
	DigestAlgorithm  string                         `json:"digestAlgorithm"`
	Head             string                         `json:"head"`
	ContentDirectory string                         `json:"contentDirectory,omitempty"`
	Manifest         map[string][]string            `json:"manifest"`
	Versions         map[string]Version             `json:"versions"`
	Fixity           map[string]map[string][]string `json:"fixity,omitempty"`
}

// HeadNumber is the number of the head version (v3 → 3).
func (inv *Inventory) HeadNumber() int {
	n, _ := strconv.Atoi(strings.TrimPrefix(inv.Head, "v"))
	return n
}

// VersionNames lists v1..vN in order.
func (inv *Inventory) VersionNames() []string {
	names := make([]string, 0, len(inv.Versions))
	for v := range inv.Versions {
		names = append(names, v)
	}
	sort.Slice(names, func(i, j int) bool { return versionNum(names[i]) < versionNum(names[j]) })
	return names
}

func versionNum(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(v, "v"))
	return n
}

// Lookup returns the digest of a logical path in version v.
func (inv *Inventory) Lookup(v, logical string) (string, bool) {
	for digest, paths := range inv.Versions[v].State {
		if slices.Contains(paths, logical) {
			return digest, true
		}
	}
	return "", false
}

// Store is an OCFL storage root under a prefix of a bucket.
type Store struct {
	objects *storage.Store
	root    string // e.g. "ocfl/"
	// small bounds each small request (inventories, metadata), so that a hung MinIO gives a
	// quick error; copies and streams of files are bounded only by the caller's context.
	small time.Duration
	// copyPart is the part size of multipart copies; smaller objects are copied whole.
	copyPart int64
	// algorithm is the digest algorithm of the objects this store creates.
	algorithm string
}

// New uses the storage root at prefix root (ending in "/") of objects, whose long
// transfers are bounded only by the caller's context; small bounds the small requests.
func New(objects *storage.Store, root string, small time.Duration) *Store {
	return &Store{objects: objects.Long(), root: root, small: small, copyPart: 64 << 20, algorithm: SHA256}
}

// CreatingWith is a copy of the store that creates objects with algorithm (SHA256 or
// SHA512), for tests and tools that must write an object as it was written before; objects
// that exist keep their own algorithm whichever store writes their next version.
func (s *Store) CreatingWith(algorithm string) (*Store, error) {
	if _, err := newHash(algorithm); err != nil {
		return nil, err
	}
	c := *s
	c.algorithm = algorithm
	return &c, nil
}

// Algorithm is the digest algorithm of the objects the store creates.
func (s *Store) Algorithm() string { return s.algorithm }

func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.small <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.small)
}

// Root is the storage root prefix.
func (s *Store) Root() string { return s.root }

// ObjectRoot is the key prefix of an object.
func (s *Store) ObjectRoot(id string) string { return s.root + id + "/" }

// Init writes the storage root's declaration and layout description (idempotent).
func (s *Store) Init(ctx context.Context) error {
	layout := []byte(`{"extension":"0002-flat-direct-storage-layout","description":"Object roots are directories named by the object id."}` + "\n")
	for key, body := range map[string][]byte{
		s.root + rootNamaste:        []byte("ocfl_1.1\n"),
		s.root + "ocfl_layout.json": layout,
		s.root + "extensions/0002-flat-direct-storage-layout/config.json": []byte(`{"extensionName":"0002-flat-direct-storage-layout"}` + "\n"),
	} {
		if err := s.put(ctx, key, body, storage.PutOptions{ContentType: "text/plain"}); err != nil {
			return err
		}
	}
	return nil
}

// Content is one file of a new version: either bytes in memory (small, like metadata) or an
// object already in the bucket (an upload) to be copied server-side.
type Content struct {
	Logical string // the path in the version's state
	Data    []byte // small content; or
	FromKey string // an object in the bucket to copy
	Size    int64  // size of FromKey
	// The hex digests of FromKey's content: the one of the object's algorithm is required
	// (see Inventory.DigestAlgorithm), the other, when known, goes in the fixity block.
	// Data is hashed here.
	SHA256 string
	SHA512 string
	Type   string // content type for MinIO
}

// digests are the content's known digests by algorithm.
func (c Content) digests() map[string]string {
	return map[string]string{SHA256: c.SHA256, SHA512: c.SHA512}
}

// Change builds the next version: what it adds or replaces, what it removes, and why.
type Change struct {
	Put     []Content
	Remove  []string // logical paths to drop
	Message string
	User    User
	// RestoreFrom, when set, starts the new state from that version instead of the head.
	RestoreFrom string
}

// Read returns the object's inventory and its ETag (the commit token for the next version).
func (s *Store) Read(ctx context.Context, id string) (*Inventory, string, error) {
	if !idPattern.MatchString(id) {
		return nil, "", ErrBadID
	}
	data, etag, err := s.get(ctx, s.ObjectRoot(id)+"inventory.json")
	if err != nil {
		return nil, "", err
	}
	var inv Inventory
	if err := json.Unmarshal(data, &inv); err != nil {
		return nil, "", fmt.Errorf("ocfl: %s inventory: %w", id, err)
	}
	return &inv, etag, nil
}

// Commit writes a new version of the object id on top of the inventory the caller read
// (prev nil and prevETag "" to create the object).
//
// Writers first claim the version directory by creating its inventory with If-None-Match, so
// two writers never put content into the same vN; the loser gets ErrConflict having written
// nothing. Content goes in next, the root inventory last, with If-Match on the one the
// version was built from. A claim abandoned by a crashed writer is cleared after claimTTL.
func (s *Store) Commit(ctx context.Context, id string, prev *Inventory, prevETag string, ch Change, now time.Time) (*Inventory, string, error) {
	if !idPattern.MatchString(id) {
		return nil, "", ErrBadID
	}
	inv, uploads, err := s.plan(id, prev, ch, now)
	if err != nil {
		return nil, "", err
	}
	vn := inv.Head
	vdir := s.ObjectRoot(id) + vn + "/"
	data, err := json.MarshalIndent(inv, "", "  ")
	if err != nil {
		return nil, "", err
	}
	if err := s.claim(ctx, id, vdir, data, prevETag); err != nil {
		return nil, "", err
	}
	written := []string{vdir + "inventory.json"}
	cleanup := func() {
		for _, key := range written {
			_ = s.objects.Remove(context.WithoutCancel(ctx), key, "")
		}
	}
	for _, u := range uploads {
		key := s.ObjectRoot(id) + u.contentPath
		if u.c.Data != nil {
			err = s.put(ctx, key, u.c.Data, storage.PutOptions{ContentType: u.c.Type})
		} else {
			err = s.copy(ctx, u.c.FromKey, key, u.c.Size)
		}
		if err != nil {
			cleanup()
			return nil, "", err
		}
		written = append(written, key)
	}
	sidecar, err := sidecarOf(inv.DigestAlgorithm, data)
	if err != nil {
		cleanup()
		return nil, "", err
	}
	sidecarName := "inventory.json." + inv.DigestAlgorithm
	if err := s.put(ctx, vdir+sidecarName, sidecar, storage.PutOptions{ContentType: "text/plain"}); err != nil {
		cleanup()
		return nil, "", err
	}
	written = append(written, vdir+sidecarName)
	if prev == nil {
		if err := s.put(ctx, s.ObjectRoot(id)+objectNamaste, []byte("ocfl_object_1.1\n"), storage.PutOptions{ContentType: "text/plain"}); err != nil {
			cleanup()
			return nil, "", err
		}
	}
	// The commit point: the root inventory, written only over the one the caller read.
	opts := storage.PutOptions{ContentType: "application/json", IfAbsent: prevETag == "", IfMatch: prevETag}
	rootCtx, cancel := s.bounded(ctx)
	info, err := s.objects.PutBytes(rootCtx, s.ObjectRoot(id)+"inventory.json", data, opts)
	cancel()
	if err != nil {
		cleanup()
		if errors.Is(err, storage.ErrPrecondition) {
			return nil, "", ErrConflict
		}
		return nil, "", err
	}
	// The sidecar follows the inventory; a crash between the two is repaired by the next
	// commit and reported by fixity.
	if err := s.put(ctx, s.ObjectRoot(id)+sidecarName, sidecar, storage.PutOptions{ContentType: "text/plain"}); err != nil {
		return nil, "", err
	}
	return inv, info.ETag, nil
}

// claimTTL is how old an unfinished version directory must be before another writer may
// clear it (a writer that crashed between claim and commit).
const claimTTL = 15 * time.Minute

func (s *Store) claim(ctx context.Context, id, vdir string, inventory []byte, prevETag string) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	for attempt := 0; attempt < 2; attempt++ {
		_, err := s.objects.PutBytes(ctx, vdir+"inventory.json", inventory, storage.PutOptions{ContentType: "application/json", IfAbsent: true})
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrPrecondition) {
			return err
		}
		// Someone holds vN. If the root still points below it and the claim is stale, the
		// holder died: clear it and try once more.
		st, err := s.objects.Stat(ctx, vdir+"inventory.json", "")
		if err != nil || time.Since(st.Modified) < claimTTL {
			return ErrConflict
		}
		_, rootETag, err := s.Read(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) || strings.Trim(rootETag, `"`) != strings.Trim(prevETag, `"`) {
			return ErrConflict
		}
		for obj, err := range s.objects.List(ctx, vdir, storage.ListOptions{Recursive: true}) {
			if err == nil {
				_ = s.objects.Remove(ctx, obj.Key, "")
			}
		}
	}
	return ErrConflict
}

type pendingUpload struct {
	c           Content
	contentPath string
}

// plan computes the next inventory and the content to store, without writing anything.
func (s *Store) plan(id string, prev *Inventory, ch Change, now time.Time) (*Inventory, []pendingUpload, error) {
	inv := nextInventory(id, prev, s.algorithm)
	probe, err := newHash(inv.DigestAlgorithm)
	if err != nil {
		return nil, nil, err
	}
	digestLen := 2 * probe.Size()
	vn := "v" + strconv.Itoa(inv.HeadNumber()+1)
	base := map[string][]string{}
	if prev != nil {
		from := prev.Head
		if ch.RestoreFrom != "" {
			if _, ok := prev.Versions[ch.RestoreFrom]; !ok {
				return nil, nil, fmt.Errorf("ocfl: no version %s", ch.RestoreFrom)
			}
			from = ch.RestoreFrom
		}
		base = cloneState(prev.Versions[from].State)
	}
	for _, logical := range ch.Remove {
		removePath(base, logical)
	}
	var uploads []pendingUpload
	for _, c := range ch.Put {
		if err := checkLogical(c.Logical); err != nil {
			return nil, nil, err
		}
		known := c.digests()
		if c.Data != nil {
			known = map[string]string{}
			if known[inv.DigestAlgorithm], err = hexDigest(inv.DigestAlgorithm, c.Data); err != nil {
				return nil, nil, err
			}
		}
		digest := strings.ToLower(known[inv.DigestAlgorithm])
		if len(digest) != digestLen {
			return nil, nil, fmt.Errorf("ocfl: %s: missing %s", c.Logical, inv.DigestAlgorithm)
		}
		removePath(base, c.Logical)
		base[digest] = append(base[digest], c.Logical)
		if _, stored := inv.Manifest[digest]; stored {
			continue // same bytes already preserved: the state refers to them
		}
		contentPath := vn + "/content/" + c.Logical
		uploads = append(uploads, pendingUpload{c: c, contentPath: contentPath})
		inv.Manifest[digest] = []string{contentPath}
		for algorithm, other := range known {
			if algorithm != inv.DigestAlgorithm && other != "" {
				addFixity(inv, algorithm, other, contentPath)
			}
		}
	}
	for digest, paths := range base {
		sort.Strings(paths)
		base[digest] = paths
	}
	user := ch.User
	inv.Versions[vn] = Version{Created: now.UTC().Truncate(time.Second), Message: ch.Message, User: &user, State: base}
	inv.Head = vn
	return inv, uploads, nil
}

// Open streams the content of a logical path in version v ("" for the head).
func (s *Store) Open(ctx context.Context, id string, inv *Inventory, v, logical string) (*storage.Object, string, error) {
	if v == "" {
		v = inv.Head
	}
	digest, ok := inv.Lookup(v, logical)
	if !ok {
		return nil, "", ErrNotFound
	}
	paths := inv.Manifest[digest]
	if len(paths) == 0 {
		return nil, "", fmt.Errorf("ocfl: %s: digest %s has no content path", id, digest[:12])
	}
	obj, err := s.objects.Open(ctx, s.ObjectRoot(id)+paths[0], storage.GetOptions{})
	if err != nil {
		return nil, "", err
	}
	return obj, s.ObjectRoot(id) + paths[0], nil
}

// ReadSmall reads a small logical file (such as metadata) of version v whole.
func (s *Store) ReadSmall(ctx context.Context, id string, inv *Inventory, v, logical string) ([]byte, error) {
	obj, _, err := s.Open(ctx, id, inv, v, logical)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	data, err := io.ReadAll(io.LimitReader(obj, 8<<20))
	if err != nil {
		return nil, translate(err)
	}
	return data, nil
}

// IDs lists the objects in the storage root.
func (s *Store) IDs(ctx context.Context) ([]string, error) {
	var ids []string
	for obj, err := range s.objects.List(ctx, s.root, storage.ListOptions{}) {
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(obj.Key, "/") {
			id := strings.TrimSuffix(strings.TrimPrefix(obj.Key, s.root), "/")
			if idPattern.MatchString(id) && id != "extensions" {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// addFixity records another algorithm's digest of a content path in the fixity block.
func addFixity(inv *Inventory, algorithm, digest, contentPath string) {
	if inv.Fixity == nil {
		inv.Fixity = map[string]map[string][]string{}
	}
	if inv.Fixity[algorithm] == nil {
		inv.Fixity[algorithm] = map[string][]string{}
	}
	inv.Fixity[algorithm][digest] = append(inv.Fixity[algorithm][digest], contentPath)
}

// nextInventory starts from a copy of prev, which keeps its digest algorithm, or a new
// inventory with algorithm.
func nextInventory(id string, prev *Inventory, algorithm string) *Inventory {
	if prev == nil {
		return &Inventory{ID: id, Type: InventoryType, DigestAlgorithm: algorithm, Head: "v0",
			Manifest: map[string][]string{}, Versions: map[string]Version{}}
	}
	// Deep copy so that a failed commit leaves the caller's inventory untouched.
	data, _ := json.Marshal(prev)
	var inv Inventory
	_ = json.Unmarshal(data, &inv)
	if inv.Manifest == nil {
		inv.Manifest = map[string][]string{}
	}
	return &inv
}

func cloneState(st map[string][]string) map[string][]string {
	out := make(map[string][]string, len(st))
	for d, p := range st {
		out[d] = slices.Clone(p)
	}
	return out
}

func removePath(state map[string][]string, logical string) {
	for d, paths := range state {
		if i := slices.Index(paths, logical); i >= 0 {
			paths = slices.Delete(paths, i, i+1)
			if len(paths) == 0 {
				delete(state, d)
			} else {
				state[d] = paths
			}
		}
	}
}

// checkLogical refuses paths that OCFL forbids or that could escape the content directory.
func checkLogical(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "\\") {
		return fmt.Errorf("ocfl: bad logical path %q", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("ocfl: bad logical path %q", p)
		}
	}
	return nil
}

// sidecarOf is the inventory's sidecar: its digest by the object's algorithm.
func sidecarOf(algorithm string, inventory []byte) ([]byte, error) {
	digest, err := hexDigest(algorithm, inventory)
	if err != nil {
		return nil, err
	}
	return []byte(digest + "  inventory.json\n"), nil
}

func (s *Store) put(ctx context.Context, key string, body []byte, opts storage.PutOptions) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	_, err := s.objects.PutBytes(ctx, key, body, opts)
	return err
}

func (s *Store) get(ctx context.Context, key string) ([]byte, string, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	data, info, err := s.objects.ReadAll(ctx, key, 64<<20)
	if err != nil {
		return nil, "", translate(err)
	}
	return data, info.ETag, nil
}

// copy copies an object server-side (see storage.Store.Copy), so that a 20 GB video never
// passes through this process.
func (s *Store) copy(ctx context.Context, from, to string, size int64) error {
	return translate(s.objects.Copy(ctx, from, to, size, storage.CopyOptions{PartSize: s.copyPart}))
}

// AbortStaleCopies aborts the multipart copies under the storage root that started more than
// olderThan ago: a copy cut short by a crash, or whose abort failed. They belong to no
// version, yet MinIO keeps their parts. It returns how many it aborted.
func (s *Store) AbortStaleCopies(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	aborted := 0
	for up, err := range s.objects.IncompleteUploads(ctx, s.root) {
		if err != nil {
			return aborted, err
		}
		if up.Initiated.After(cutoff) {
			continue
		}
		if err := s.objects.AbortMultipart(ctx, up.Key, up.UploadID); err != nil {
			return aborted, err
		}
		aborted++
	}
	return aborted, nil
}

// translate names a missing object ErrNotFound; other failures keep their storage kind.
func translate(err error) error { return storage.NotFoundAs(err, ErrNotFound) }

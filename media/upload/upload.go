// Package upload runs resumable, checksummed uploads of large files straight into MinIO.
//
// The server never carries the bytes: Create starts an S3 multipart upload (CRC32C checksum
// algorithm) and stores a small session document; the client PUTs each part to a presigned
// URL with header x-amz-checksum-crc32c (base64 CRC32C of the part), which MinIO verifies;
// ListParts asks MinIO which parts it already has, so an interrupted upload resumes.
//
// Finishing is two steps, so that the librarian's upload is done as soon as its bytes are
// stored: Seal checks that every part is present, completes the upload and detects the type
// from the first bytes against an allowlist (seconds, even for 20 GB); Hash then reads the
// object once for its SHA-256 and SHA-512 (minutes for 20 GB, in a worker). Complete does
// both. Claim records which job takes a sealed upload, so that it is attached only once.
//
// Keys (all under Options.Prefix, default "uploads/"):
//
//	sessions/<id>.json                   the session document
//	staging/<id>/<safe name>             the multipart upload, then the completed object
//	open/<escaped owner>/<id>.<size>     empty marker of an open (unclaimed) session, for quotas
package upload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/storage"
)

const (
	mib = 1 << 20
	gib = 1 << 30

	// MinPartSize is the smallest part S3 accepts for any part but the last.
	MinPartSize = 5 * mib
	maxPartSize = 5 * gib
	maxParts    = 10000

	defaultPrefix    = "uploads/"
	defaultPartSize  = 16 * mib
	defaultMaxSize   = 50 * gib
	defaultURLExpiry = time.Hour
	maxURLExpiry     = 7 * 24 * time.Hour

	headBytes = 4096 // bytes of the file kept for type detection
)

// Sentinel errors; test with errors.Is.
var (
	ErrNotFound   = errors.New("upload not found")
	ErrForbidden  = errors.New("upload belongs to another user")
	ErrIncomplete = errors.New("upload incomplete")
	ErrTooLarge   = errors.New("file too large")
	ErrInvalid    = errors.New("invalid upload request")
	// ErrClaimed means a job already takes the sealed upload: it can no longer be aborted.
	ErrClaimed = errors.New("upload is already being added to an item")
	// ErrQuota means the owner holds as many open sessions, or declared bytes, as allowed.
	ErrQuota = errors.New("upload quota reached")
)

// IsRefusal reports whether err is about the upload itself (missing, someone else's,
// incomplete, too large, invalid, claimed, of a refused type), so that trying again cannot
// help. Other errors of a Manager come from storage failing, and may pass.
func IsRefusal(err error) bool {
	var te *TypeError
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) || errors.Is(err, ErrIncomplete) ||
		errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrClaimed) || errors.Is(err, ErrQuota) || errors.As(err, &te)
}

// TypeError says that the content of a completed upload is not an allowed file type.
type TypeError struct{ Detected string }

func (e *TypeError) Error() string {
	return fmt.Sprintf("file type %s is not allowed; allowed: %s", e.Detected, AllowedTypes())
}

// IncompleteError lists the parts that Complete found missing or of the wrong size.
// errors.Is(err, ErrIncomplete) is true for it.
type IncompleteError struct {
	Missing   []int // part numbers MinIO does not have
	WrongSize []int // part numbers whose size is not the session's part size (or last-part size)
}

func (e *IncompleteError) Error() string {
	var b strings.Builder
	b.WriteString(ErrIncomplete.Error())
	if len(e.Missing) > 0 {
		b.WriteString(": missing parts " + joinInts(e.Missing))
	}
	if len(e.WrongSize) > 0 {
		if len(e.Missing) > 0 {
			b.WriteString(";")
		} else {
			b.WriteString(":")
		}
		b.WriteString(" parts of wrong size " + joinInts(e.WrongSize))
	}
	return b.String()
}

// Is makes errors.Is(err, ErrIncomplete) true.
func (e *IncompleteError) Is(target error) bool { return target == ErrIncomplete }

// Options configures a Manager. Zero values take the defaults.
type Options struct {
	Prefix    string        // key prefix for staging objects and session documents, default "uploads/"
	PartSize  int64         // default 16 MiB; raised to 5 MiB (the S3 minimum) if smaller
	MaxSize   int64         // default 50 GiB
	URLExpiry time.Duration // presigned URL lifetime, default 1h (at most 7 days)
	// PartChecksum is the checksum new sessions' parts carry, default (and anything
	// unknown) CRC32C.
	PartChecksum Checksum
}

// Manager issues and completes upload sessions. It is safe for concurrent use.
type Manager struct {
	objects *storage.Store
	opts    Options
}

// New returns a Manager storing into objects, which must not time out long transfers
// (completions, whole reads for hashing) by itself.
func New(objects *storage.Store, opts Options) *Manager {
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.PartChecksum != ChecksumSHA256 {
		opts.PartChecksum = ChecksumCRC32C
	}
	if !strings.HasSuffix(opts.Prefix, "/") {
		opts.Prefix += "/"
	}
	if opts.PartSize <= 0 {
		opts.PartSize = defaultPartSize
	}
	opts.PartSize = min(max(opts.PartSize, MinPartSize), maxPartSize)
	if opts.MaxSize <= 0 {
		opts.MaxSize = defaultMaxSize
	}
	if opts.URLExpiry <= 0 {
		opts.URLExpiry = defaultURLExpiry
	}
	opts.URLExpiry = min(opts.URLExpiry, maxURLExpiry)
	return &Manager{objects: objects, opts: opts}
}

// Session is one upload in progress, as stored in its session document.
type Session struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"`
	UploadID    string    `json:"upload_id"`
	Key         string    `json:"key"` // staging object key: Prefix+"staging/"+ID+"/"+SafeName
	DisplayName string    `json:"display_name"`
	SafeName    string    `json:"safe_name"`
	Size        int64     `json:"size"`
	PartSize    int64     `json:"part_size"`
	Parts       int       `json:"parts"` // ceil(Size/PartSize)
	CreatedAt   time.Time `json:"created_at"`
	// Checksum is the part checksum algorithm; empty in sessions from before it was
	// recorded, which used SHA-256.
	Checksum Checksum `json:"checksum_algorithm,omitempty"`
	// ClaimedBy is the job that takes the sealed upload (see Claim), ClaimedAt when.
	ClaimedBy string    `json:"claimed_by,omitempty"`
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
}

// PartChecksum is the algorithm of the checksum each part of the session must carry.
func (s *Session) PartChecksum() Checksum {
	if s.Checksum == "" {
		return ChecksumSHA256
	}
	return s.Checksum
}

// PartLength is the number of bytes part n (1-based) must have.
func (s *Session) PartLength(n int) int64 {
	if n < 1 || n > s.Parts {
		return 0
	}
	if n < s.Parts {
		return s.PartSize
	}
	return s.Size - int64(s.Parts-1)*s.PartSize
}

// AllParts lists every part of the session at its size, as MinIO held them before the
// upload was sealed (ETags and checksums are gone with the multipart upload).
func (s *Session) AllParts() []Part {
	parts := make([]Part, s.Parts)
	for i := range parts {
		parts[i] = Part{Number: i + 1, Size: s.PartLength(i + 1)}
	}
	return parts
}

// Part is a part MinIO holds for an upload.
type Part struct {
	Number   int    `json:"number"`
	Size     int64  `json:"size"`
	ETag     string `json:"etag"`
	Checksum string `json:"checksum"` // base64, in the session's algorithm, as MinIO reports it
}

// Sealed is a completed, type-checked upload at its staging key, not yet hashed. Its
// session stays until Remove, so that the janitor removes it if nobody ever attaches it.
type Sealed struct {
	ID          string `json:"id"` // the session id
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MediaType   string `json:"media_type"`
	Ext         string `json:"ext"`
	DisplayName string `json:"display_name"`
	SafeName    string `json:"safe_name"`
}

// File is a completed, hashed and type-checked upload, still at its staging key.
type File struct {
	Sealed
	SHA256 string `json:"sha256"` // hex; "" when not asked of Hash
	SHA512 string `json:"sha512"` // hex; "" when not asked of Hash
}

// Digest names a digest that Hash computes.
type Digest string

// The digests Hash knows.
const (
	SHA256 Digest = "sha256"
	SHA512 Digest = "sha512"
)

// BothDigests is what Complete computes.
func BothDigests() []Digest { return []Digest{SHA256, SHA512} }

// Quota bounds what one owner may have open at once: sessions not yet claimed by a job
// (see Claim), and the bytes they declared. Zero fields are unlimited.
type Quota struct {
	MaxOpen      int
	MaxOpenBytes int64
}

// Create starts an upload of size bytes named fileName for owner, without a quota.
func (m *Manager) Create(ctx context.Context, owner, fileName string, size int64) (*Session, error) {
	return m.CreateWithin(ctx, owner, fileName, size, Quota{})
}

// CreateWithin is Create within the owner's quota q: ErrQuota when the new session would
// take the owner past it. Two creations at the same instant may both pass the check, so the
// quota can be exceeded by the number of concurrent requests, never without end.
func (m *Manager) CreateWithin(ctx context.Context, owner, fileName string, size int64, q Quota) (*Session, error) {
	if owner == "" {
		return nil, fmt.Errorf("%w: owner is empty", ErrInvalid)
	}
	if size <= 0 {
		return nil, fmt.Errorf("%w: size must be at least 1 byte, got %d", ErrInvalid, size)
	}
	if size > m.opts.MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, size, m.opts.MaxSize)
	}
	safe, display := SafeName(fileName)
	if strings.Trim(display, ". ") == "" {
		return nil, fmt.Errorf("%w: file name %q is empty after cleaning", ErrInvalid, fileName)
	}
	if q != (Quota{}) {
		open, bytes, err := m.openOf(ctx, owner)
		if err != nil {
			return nil, err
		}
		if q.MaxOpen > 0 && open+1 > q.MaxOpen {
			return nil, fmt.Errorf("%w: %d uploads open, at most %d", ErrQuota, open, q.MaxOpen)
		}
		if q.MaxOpenBytes > 0 && bytes+size > q.MaxOpenBytes {
			return nil, fmt.Errorf("%w: %d bytes declared by open uploads, with this one %d, at most %d", ErrQuota, bytes, bytes+size, q.MaxOpenBytes)
		}
	}
	partSize := m.opts.PartSize
	if n := ceilDiv(size, partSize); n > maxParts {
		// Grow the parts (in whole MiB) so that the file fits in 10,000 of them.
		partSize = ceilDiv(ceilDiv(size, maxParts), mib) * mib
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	s := &Session{
		ID:          id,
		Owner:       owner,
		Key:         m.opts.Prefix + "staging/" + id + "/" + safe,
		DisplayName: display,
		SafeName:    safe,
		Size:        size,
		PartSize:    partSize,
		Parts:       int(ceilDiv(size, partSize)),
		CreatedAt:   time.Now().UTC().Truncate(time.Millisecond),
		Checksum:    m.opts.PartChecksum,
	}
	s.UploadID, err = m.objects.NewMultipart(ctx, s.Key, storage.PutOptions{
		Metadata: map[string]string{"X-Amz-Checksum-Algorithm": string(s.Checksum)},
	})
	if err != nil {
		return nil, fmt.Errorf("upload: start multipart upload: %w", err)
	}
	err = m.putSession(ctx, s, "")
	if err == nil {
		err = m.markOpen(ctx, s)
	}
	if err != nil {
		// Do not leave an upload without a session behind (the janitor would catch it too).
		_ = m.abort(context.WithoutCancel(ctx), s)
		return nil, err
	}
	return s, nil
}

// Get returns the session id if owner owns it.
func (m *Manager) Get(ctx context.Context, id, owner string) (*Session, error) {
	s, err := m.getSession(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Owner != owner {
		return nil, ErrForbidden
	}
	return s, nil
}

// PresignPart returns a URL to which the client PUTs part (1..Parts) of the session. The
// client must send the part's checksum in the header the session's PartChecksum names, and
// exactly PartLength bytes; MinIO refuses a part whose bytes do not match either. Uploading a
// part again replaces it.
func (m *Manager) PresignPart(ctx context.Context, id, owner string, part int) (string, error) {
	_, urls, err := m.PresignParts(ctx, id, owner, []int{part})
	return urls[part], err
}

// PresignParts is PresignPart for several parts, reading the session once; it also returns
// the session, whose PartChecksum the client needs.
func (m *Manager) PresignParts(ctx context.Context, id, owner string, parts []int) (*Session, map[int]string, error) {
	s, err := m.Get(ctx, id, owner)
	if err != nil {
		return nil, nil, err
	}
	urls := make(map[int]string, len(parts))
	for _, part := range parts {
		if part < 1 || part > s.Parts {
			return nil, nil, fmt.Errorf("%w: part number %d is outside 1..%d", ErrInvalid, part, s.Parts)
		}
		// The part's length is signed into the URL: storage refuses a body of any other
		// length, so nobody stores more than the session declared.
		u, err := m.objects.PresignPart(ctx, s.Key, s.UploadID, part, s.PartLength(part), m.opts.URLExpiry)
		if err != nil {
			return nil, nil, fmt.Errorf("upload: presign part %d: %w", part, err)
		}
		urls[part] = u.String()
	}
	return s, urls, nil
}

// ListParts returns the parts MinIO holds for the session, in part order.
func (m *Manager) ListParts(ctx context.Context, id, owner string) ([]Part, error) {
	s, err := m.Get(ctx, id, owner)
	if err != nil {
		return nil, err
	}
	return m.listParts(ctx, s)
}

func (m *Manager) listParts(ctx context.Context, s *Session) ([]Part, error) {
	stored, err := m.objects.ListParts(ctx, s.Key, s.UploadID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: multipart upload of session %s is gone", ErrNotFound, s.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("upload: list parts: %w", err)
	}
	parts := make([]Part, len(stored))
	for i, p := range stored {
		sum := p.ChecksumCRC32C
		if s.PartChecksum() == ChecksumSHA256 {
			sum = p.ChecksumSHA256
		}
		parts[i] = Part{Number: p.Number, Size: p.Size, ETag: p.ETag, Checksum: sum}
	}
	return parts, nil
}

// Complete seals the session, hashes the object and deletes the session document: the object
// stays at File.Key until the caller moves it and calls Remove. See Seal and Hash.
func (m *Manager) Complete(ctx context.Context, id, owner string) (*File, error) {
	sealed, err := m.Seal(ctx, id, owner)
	if err != nil {
		return nil, err
	}
	f, err := m.Hash(ctx, sealed, BothDigests(), nil)
	if err != nil {
		return nil, err
	}
	if err := m.dropSession(ctx, sealed.ID, owner); err != nil {
		return nil, err
	}
	return f, nil
}

// Seal completes the session's multipart upload: every part 1..Parts must be present with
// the right size, otherwise it returns an *IncompleteError (errors.Is ErrIncomplete) and
// changes nothing. Then it reads the first bytes of the object and checks their type: a type
// not on the allowlist deletes the object and the session and returns *TypeError. Seal again
// on a sealed session returns the same result, so a client may retry it.
func (m *Manager) Seal(ctx context.Context, id, owner string) (*Sealed, error) {
	s, err := m.Get(ctx, id, owner)
	if err != nil {
		return nil, err
	}
	parts, err := m.listParts(ctx, s)
	switch {
	case errors.Is(err, ErrNotFound):
		// No multipart upload: sealed before (or completed by a Seal that failed right after),
		// and detect finds the object, or the upload is gone, and detect says so.
	case err != nil:
		return nil, err
	default:
		done, err := checkParts(s, parts)
		if err != nil {
			return nil, err
		}
		_, err = m.objects.CompleteMultipart(ctx, s.Key, s.UploadID, done, storage.PutOptions{})
		switch {
		case err == nil, errors.Is(err, storage.ErrNotFound): // the upload is gone: a Seal at the same time completed it
		case errors.Is(err, storage.ErrRefused):
			return nil, fmt.Errorf("%w: storage refused to complete the upload: %s", ErrInvalid, storage.Reason(err))
		default:
			return nil, fmt.Errorf("upload: complete multipart upload: %w", err)
		}
	}
	sealed, err := m.detect(ctx, s)
	var te *TypeError
	if errors.As(err, &te) {
		// Nothing of a refused file stays behind.
		cctx := context.WithoutCancel(ctx)
		if err := m.purge(cctx, s.Key); err != nil {
			return nil, err
		}
		if err := m.dropSession(cctx, s.ID, s.Owner); err != nil {
			return nil, err
		}
		return nil, te
	}
	return sealed, err
}

// IsSealed reports whether the session's upload has been completed into its staging object.
func (m *Manager) IsSealed(ctx context.Context, s *Session) (bool, error) {
	return m.objects.Exists(ctx, s.Key)
}

// detect checks the size of the completed object and the type of its first bytes.
func (m *Manager) detect(ctx context.Context, s *Session) (*Sealed, error) {
	info, err := m.objects.Stat(ctx, s.Key, "")
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: the uploaded file of session %s is gone", ErrNotFound, s.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("upload: stat completed object: %w", err)
	}
	if info.Size != s.Size {
		return nil, fmt.Errorf("%w: object has %d bytes, session says %d", ErrIncomplete, info.Size, s.Size)
	}
	body, _, err := m.objects.Get(ctx, s.Key, storage.GetOptions{Range: storage.Range{Length: headBytes}})
	if err != nil {
		return nil, fmt.Errorf("upload: read completed object: %w", err)
	}
	defer body.Close()
	head, err := io.ReadAll(io.LimitReader(body, headBytes))
	if err != nil {
		return nil, fmt.Errorf("upload: read completed object: %w", err)
	}
	mediaType, ext, ok := Detect(head)
	if !ok {
		return nil, &TypeError{Detected: mediaType}
	}
	return &Sealed{ID: s.ID, Key: s.Key, Size: s.Size, MediaType: mediaType, Ext: ext,
		DisplayName: s.DisplayName, SafeName: s.SafeName}, nil
}

// Claim records that job takes the sealed session id and returns the job that holds it:
// job itself, or the one that claimed it first. Two claims at once get the same answer.
func (m *Manager) Claim(ctx context.Context, id, owner, job string) (string, error) {
	if job == "" {
		return "", fmt.Errorf("%w: empty job", ErrInvalid)
	}
	return m.swapClaim(ctx, id, owner, "", job)
}

// Release gives up job's claim on the session (a failed job), so that another job may take
// it or the owner may abort it. It returns the job that holds the session now, if any.
func (m *Manager) Release(ctx context.Context, id, owner, job string) (string, error) {
	return m.swapClaim(ctx, id, owner, job, "")
}

// swapClaim sets the session's claim to "to" if it is "from", with a conditional write, and
// returns the claim as it is afterwards.
func (m *Manager) swapClaim(ctx context.Context, id, owner, from, to string) (string, error) {
	for attempt := 0; ; attempt++ {
		s, etag, err := m.getSessionETag(ctx, id)
		if err != nil {
			return "", err
		}
		if s.Owner != owner {
			return "", ErrForbidden
		}
		if s.ClaimedBy != from {
			return s.ClaimedBy, nil
		}
		s.ClaimedBy, s.ClaimedAt = to, time.Now().UTC().Truncate(time.Millisecond)
		if to == "" {
			s.ClaimedAt = time.Time{}
		}
		err = m.putSession(ctx, s, etag)
		if errors.Is(err, errSessionChanged) && attempt < 3 {
			continue // someone else wrote it meanwhile: look at their claim
		}
		if err == nil {
			// A claimed upload is on its way into an item: it no longer counts as open.
			// A released one is open again.
			if to != "" {
				err = m.purgeOpen(ctx, s)
			} else {
				err = m.markOpen(ctx, s)
			}
		}
		if err != nil {
			return "", err
		}
		return to, nil
	}
}

// checkParts returns the parts to complete with, or an *IncompleteError.
func checkParts(s *Session, parts []Part) ([]storage.Part, error) {
	byNum := make(map[int]Part, len(parts))
	for _, p := range parts {
		byNum[p.Number] = p
	}
	var inc IncompleteError
	done := make([]storage.Part, 0, s.Parts)
	for n := 1; n <= s.Parts; n++ {
		p, ok := byNum[n]
		switch {
		case !ok:
			inc.Missing = append(inc.Missing, n)
		case p.Size != s.PartLength(n):
			inc.WrongSize = append(inc.WrongSize, n)
		case s.PartChecksum() == ChecksumSHA256:
			done = append(done, storage.Part{Number: n, ETag: p.ETag, ChecksumSHA256: p.Checksum})
		default:
			done = append(done, storage.Part{Number: n, ETag: p.ETag, ChecksumCRC32C: p.Checksum})
		}
	}
	if len(inc.Missing) > 0 || len(inc.WrongSize) > 0 {
		return nil, &inc
	}
	return done, nil
}

// Hash reads a sealed upload once for the digests asked (the others stay ""), telling
// progress (when not nil) how many bytes it has read, now and then. Each digest asked costs
// a core for the whole read, and the read goes at the pace of the slowest: SHA-512 is about
// half as fast as SHA-256 where the processor has SHA extensions, so ask only for what the
// file's destination needs.
func (m *Manager) Hash(ctx context.Context, sealed *Sealed, digests []Digest, progress func(read int64)) (*File, error) {
	sums := map[Digest]hash.Hash{}
	for _, d := range digests {
		switch d {
		case SHA256:
			sums[d] = sha256.New()
		case SHA512:
			sums[d] = sha512.New()
		default:
			return nil, fmt.Errorf("upload: unknown digest %q", d)
		}
	}
	if len(sums) == 0 {
		return nil, errors.New("upload: no digest asked")
	}
	body, _, err := m.objects.Get(ctx, sealed.Key, storage.GetOptions{})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("%w: the uploaded file %s is gone", ErrNotFound, sealed.DisplayName)
		}
		return nil, fmt.Errorf("upload: read completed object: %w", err)
	}
	defer body.Close()
	hashes := NewParallelHashes(slices.Collect(maps.Values(sums))...)
	var r io.Reader = body
	if progress != nil {
		r = &progressReader{r: body, report: progress}
	}
	n, err := hashes.ReadFrom(r)
	hashes.Close() // the digests are complete only now
	if err != nil {
		return nil, fmt.Errorf("upload: hash completed object: %w", err)
	}
	if n != sealed.Size {
		return nil, fmt.Errorf("%w: object has %d bytes, session says %d", ErrIncomplete, n, sealed.Size)
	}
	f := &File{Sealed: *sealed}
	if h := sums[SHA256]; h != nil {
		f.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	if h := sums[SHA512]; h != nil {
		f.SHA512 = hex.EncodeToString(h.Sum(nil))
	}
	return f, nil
}

// progressReader reports the bytes read so far at most every progressEvery.
type progressReader struct {
	r      io.Reader
	read   int64
	last   time.Time
	report func(int64)
}

const progressEvery = time.Second

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if now := time.Now(); now.Sub(p.last) >= progressEvery {
		p.last = now
		p.report(p.read)
	}
	return n, err
}

// Abort cancels the session: its parts, any completed staging object and the session document.
func (m *Manager) Abort(ctx context.Context, id, owner string) error {
	s, err := m.Get(ctx, id, owner)
	if err != nil {
		return err
	}
	if s.ClaimedBy != "" {
		return ErrClaimed
	}
	return m.abort(ctx, s)
}

func (m *Manager) abort(ctx context.Context, s *Session) error {
	if err := m.objects.AbortMultipart(ctx, s.Key, s.UploadID); err != nil {
		return fmt.Errorf("upload: abort multipart upload: %w", err)
	}
	if err := m.purge(ctx, s.Key); err != nil {
		return err
	}
	return m.dropSession(ctx, s.ID, s.Owner)
}

// Janitor aborts every upload whose session was last written more than olderThan ago (a
// claim rewrites it), with its parts, staging object and session, and returns how many it
// removed. That includes sessions whose job finished and removed the object: they are kept
// until then so that a repeated attach request finds its job. Choose olderThan longer than
// the slowest honest upload (hours to days for 20 GB over a library's line). Run it
// periodically from one worker; running it on several at once is harmless.
func (m *Manager) Janitor(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	aborted := map[string]bool{}

	// Sessions first: they know their upload.
	for obj, err := range m.objects.List(ctx, m.opts.Prefix+"sessions/", storage.ListOptions{}) {
		if err != nil {
			return len(aborted), fmt.Errorf("upload: janitor: list sessions: %w", err)
		}
		if obj.Modified.After(cutoff) {
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(obj.Key, m.opts.Prefix+"sessions/"), ".json")
		s, err := m.getSession(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return len(aborted), err
		}
		if s.CreatedAt.After(cutoff) {
			continue
		}
		if err := m.abort(ctx, s); err != nil {
			return len(aborted), err
		}
		aborted[s.ID] = true
	}

	// Then multipart uploads without a session (a crash between the two writes of Create).
	staging := m.opts.Prefix + "staging/"
	for up, err := range m.objects.IncompleteUploads(ctx, staging) {
		if err != nil {
			return len(aborted), fmt.Errorf("upload: janitor: list uploads: %w", err)
		}
		if up.Initiated.After(cutoff) {
			continue
		}
		if err := m.objects.AbortMultipart(ctx, up.Key, up.UploadID); err != nil {
			return len(aborted), fmt.Errorf("upload: janitor: abort: %w", err)
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(up.Key, staging), "/")
		aborted[id+"\x00"+up.UploadID] = true
	}
	return len(aborted), nil
}

// Remove deletes a completed staging object (every version of it) once the caller has copied
// it away. Only keys under Prefix+"staging/" are accepted. A claimed session stays, so that a
// repeated attach request still finds its job; the janitor removes it later.
func (m *Manager) Remove(ctx context.Context, key string) error {
	rest, ok := strings.CutPrefix(key, m.opts.Prefix+"staging/")
	id, name, _ := strings.Cut(rest, "/")
	if !ok || !validID(id) || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%w: %q is not a staging key", ErrInvalid, key)
	}
	return m.purge(ctx, key)
}

// AllowedTypes lists the media types Detect accepts, for messages.
func AllowedTypes() string {
	seen := map[string]bool{}
	var names []string
	for _, t := range allowed {
		if !seen[t.mediaType] {
			seen[t.mediaType] = true
			names = append(names, t.mediaType)
		}
	}
	return strings.Join(append(names, textType), ", ")
}

func newID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("upload: random id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

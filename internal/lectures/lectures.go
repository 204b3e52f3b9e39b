// Package lectures owns the live public lectures (云讲座 / 公益大讲堂): a talk by a lecturer for
// a unit, announced ahead, streamed live (WHIP in, WHEP out, see media/ and internal/liveroom)
// and kept as a replay item of the library. This package is the record only; package
// liveroom holds the shared state while a lecture is on, package live one node's media side.
//
// A lecture goes scheduled → live → ended → replay_ready, or scheduled → cancelled. Each
// lecture is a JSON document in MinIO (records/lectures/<id>.json) written with ETags like
// every record; its stream key is a separate document (records/lecture-keys/<id>.json) that
// holds only a SHA-256 of the key, so the record itself carries no secret and editing the
// lecture does not race with rotating its key.
package lectures

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/docstore"
	"github.com/shizuishan/culturecloud/internal/ids"
	"github.com/shizuishan/culturecloud/internal/library"
	"github.com/shizuishan/culturecloud/internal/units"
	"github.com/shizuishan/culturecloud/internal/validate"
)

var (
	// ErrNotFound means no lecture with that id.
	ErrNotFound = errors.New("lecture not found")
	// ErrStale means the lecture changed since the caller read it.
	ErrStale = errors.New("lecture changed since it was read")
	// ErrForbidden means the caller may not change this lecture.
	ErrForbidden = errors.New("not allowed to change this lecture")
	// ErrWrongKey means the stream key is not the lecture's current key.
	ErrWrongKey = errors.New("wrong stream key")
	// ErrNotScheduledNow means the lecture cannot go live now: it is not scheduled (already
	// live, ended or cancelled), or now is outside its go-live window.
	ErrNotScheduledNow = errors.New("lecture cannot go live now")
)

const (
	prefix    = "records/lectures/"
	keyPrefix = "records/lecture-keys/"
	// MaxMinutes is the longest expected duration, 12 hours.
	MaxMinutes = 12 * 60
	// DefaultEarly and DefaultLate bound the go-live window when Options leave them zero.
	DefaultEarly = 30 * time.Minute
	DefaultLate  = 30 * time.Minute
	// startSlack is how far in the past a new start may be: the form has minutes, not
	// seconds, so "this minute" is up to a minute ago when it is saved.
	startSlack = time.Minute
	// writeRetries bounds the re-reads of a system transition that met a concurrent write.
	writeRetries = 3
)

// State is where a lecture is in its life.
type State string

const (
	Scheduled   State = "scheduled"
	Live        State = "live"
	Ended       State = "ended"
	ReplayReady State = "replay_ready"
	Cancelled   State = "cancelled"
)

var transitions = map[State][]State{
	Scheduled: {Live, Cancelled},
	Live:      {Ended},
	Ended:     {ReplayReady},
}

// CanMove reports whether a lecture in state from may go to state to.
func CanMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Visibility says who may watch: everybody, or signed-in accounts. The lecture itself (its
// page, the lists and the feeds) is public either way.
type Visibility string

const (
	Public     Visibility = "public"
	Registered Visibility = "registered"
)

// FileRef names a file of a library item.
type FileRef struct {
	Item string `json:"item"`
	Path string `json:"path"`
	Name string `json:"name,omitempty"`
}

// Lecturer is who gives the talk: the name shown to citizens and the account that may go live.
type Lecturer struct {
	// Name is shown to citizens, e.g. "宁夏大学 王教授"; the account's display name when empty.
	Name string `json:"name"`
	// Account is the lecturer's (or librarian's) account name; that account may go live.
	Account string `json:"account"`
}

// Input is what staff edit.
type Input struct {
	Title       string    `json:"title"`
	Lecturer    Lecturer  `json:"lecturer"`
	Unit        string    `json:"unit"`
	Start       time.Time `json:"start"`
	Minutes     int       `json:"duration_minutes"`
	Description string    `json:"description"`
	// Cover is an image file of a library item.
	Cover      *FileRef   `json:"cover,omitempty"`
	Visibility Visibility `json:"visibility"`
	// Exhibition makes the lecture a guided tour (导览) of that published exhibition: while
	// live, the guide's position in it is sent to every viewer (liveroom.Move).
	Exhibition string `json:"exhibition,omitempty"`
}

// Audience is what the live room counted, stored when the lecture ends.
type Audience struct {
	Peak  int64 `json:"peak_viewers"`
	Total int64 `json:"total_viewers"`
}

// Transition records one change of state: to what, when and by whom.
type Transition struct {
	State State     `json:"state"`
	At    time.Time `json:"at"`
	By    string    `json:"by"`
}

// Lecture is the stored record.
type Lecture struct {
	ID string `json:"id"`
	Input
	State      State      `json:"state"`
	WentLiveAt *time.Time `json:"went_live_at,omitempty"`
	EndedAt    *time.Time `json:"ended_at,omitempty"`
	// ReplayItem is the library item holding the recording, once replay_ready.
	ReplayItem string `json:"replay_item,omitempty"`
	Audience
	// History is every state the lecture was in, oldest first, starting with scheduled.
	History   []Transition `json:"history"`
	CreatedAt time.Time    `json:"created_at"`
	CreatedBy string       `json:"created_by"`
	UpdatedAt time.Time    `json:"updated_at"`
	Version   string       `json:"-"`
}

// End is when the lecture is expected to end.
func (l Lecture) End() time.Time { return l.Start.Add(time.Duration(l.Minutes) * time.Minute) }

// CanWatch reports whether a visitor may watch the stream or replay and take part in the chat.
func (l Lecture) CanWatch(signedIn bool) bool { return l.Visibility == Public || signedIn }

// Notifier hears about every lecture written (for the search index).
type Notifier interface {
	LectureChanged(ctx context.Context, id string)
}

// Options configure New.
type Options struct {
	// Early is how long before the start the lecturer may go live; DefaultEarly when zero.
	Early time.Duration
	// Late is how long after the expected end going live is still allowed; DefaultLate when zero.
	Late time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Exhibitions says which exhibitions a tour may be held in; without it no lecture can
	// be a tour.
	Exhibitions Exhibitions
}

// Exhibitions tells whether a guided tour may be held in an exhibition (package exhibitions).
type Exhibitions interface {
	// Published reports whether the exhibition exists and the public can see it.
	Published(ctx context.Context, id string) (bool, error)
}

// Service reads and writes lectures.
type Service struct {
	docs        *docstore.Store
	items       *library.Service
	accounts    *accounts.Store
	units       accounts.UnitSource
	notify      Notifier
	early, late time.Duration
	now         func() time.Time
	exhibitions Exhibitions
	list        listCache
}

// New wires a Service.
func New(docs *docstore.Store, items *library.Service, acc *accounts.Store, unitSource accounts.UnitSource, notify Notifier, opts Options) *Service {
	if opts.Early <= 0 {
		opts.Early = DefaultEarly
	}
	if opts.Late <= 0 {
		opts.Late = DefaultLate
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{docs: docs, items: items, accounts: acc, units: unitSource, notify: notify,
		early: opts.Early, late: opts.Late, now: opts.Now, exhibitions: opts.Exhibitions, list: listCache{byID: map[string]cachedLecture{}}}
}

// CanManage reports whether actor may create lectures of unit: admins all; librarians and
// lecturers their unit and the units below it (as for courses). A lecturer creates only
// lectures they give themselves (see mayAssign).
func CanManage(actor accounts.Account, unit string, tree *units.Tree) bool {
	switch actor.Role {
	case accounts.Admin:
		return true
	case accounts.Lecturer, accounts.Librarian:
		return tree.Within(actor.Unit, unit)
	}
	return false
}

// isUnitStaff reports whether actor runs the lectures of unit as staff: admins all, librarians
// their unit and the units below. A lecturer is not staff of colleagues' lectures: sharing a
// unit does not let one lecturer rotate, edit, end or moderate another's talk.
func isUnitStaff(actor accounts.Account, unit string, tree *units.Tree) bool {
	switch actor.Role {
	case accounts.Admin:
		return true
	case accounts.Librarian:
		return !actor.Disabled && tree.Within(actor.Unit, unit)
	}
	return false
}

// mayAssign reports whether actor may make in's unit and lecturer what they are: unit staff
// any lecturer of a unit they run; a lecturer only themselves, in a unit they may manage.
func mayAssign(actor accounts.Account, in Input, tree *units.Tree) bool {
	if isUnitStaff(actor, in.Unit, tree) {
		return true
	}
	return CanManage(actor, in.Unit, tree) && actor.Role == accounts.Lecturer && in.Lecturer.Account == actor.Name
}

// CanEdit reports whether actor may change l, rotate its key, end it and moderate its chat:
// its lecturer, and the unit's staff (librarians who run the unit, admins). See decision 0020.
func CanEdit(actor accounts.Account, l Lecture, tree *units.Tree) bool {
	return isUnitStaff(actor, l.Unit, tree) || isLecturer(actor, l)
}

// CanGoLive reports whether actor may publish l's stream from a signed-in browser: only its
// lecturer. (Staff who may edit l can rotate its stream key, which is what OBS publishes with.)
func CanGoLive(actor accounts.Account, l Lecture) bool { return isLecturer(actor, l) }

func isLecturer(actor accounts.Account, l Lecture) bool {
	return actor.Name != "" && !actor.Disabled && actor.Role.Staff() && actor.Name == l.Lecturer.Account
}

func key(id string) string { return prefix + id + ".json" }

func validID(id string) bool { return ids.Valid(id, "lec") }

func newID() string { return ids.New("lec") }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// Get reads one lecture.
func (s *Service) Get(ctx context.Context, id string) (Lecture, error) {
	if !validID(id) {
		return Lecture{}, ErrNotFound
	}
	var l Lecture
	etag, err := s.docs.Get(ctx, key(id), &l)
	if errors.Is(err, docstore.ErrNotFound) {
		return Lecture{}, ErrNotFound
	}
	if err != nil {
		return Lecture{}, err
	}
	l.Version = etag
	return l, nil
}

// check validates in and fills the lecturer's display name from the account when empty.
// prevStart is the stored start of an edited lecture (zero for a new one): a start that is
// set must not be in the past, but a lecture that has begun keeps its start through edits.
func (s *Service) check(ctx context.Context, actor accounts.Account, in *Input, tree *units.Tree, prevStart time.Time) error {
	in.Title, in.Description = strings.TrimSpace(in.Title), strings.TrimSpace(strings.ReplaceAll(in.Description, "\r\n", "\n"))
	in.Lecturer.Name, in.Lecturer.Account = strings.TrimSpace(in.Lecturer.Name), strings.TrimSpace(in.Lecturer.Account)
	if in.Visibility == "" {
		in.Visibility = Public
	}
	var errs validate.Errors
	errs.Text("title", in.Title, true, 1, 100)
	// Descriptions keep their paragraphs: line breaks are the one control character allowed.
	errs.Text("description", strings.ReplaceAll(in.Description, "\n", " "), false, 0, 5000)
	errs.Text("lecturer.name", in.Lecturer.Name, false, 0, 60)
	if in.Unit == "" {
		errs.Add("unit", "required")
	} else if _, ok := tree.Get(in.Unit); !ok {
		errs.Add("unit", "unit")
	}
	switch {
	case in.Start.IsZero():
		errs.Add("start", "required")
	case in.Start.Year() < 2000 || in.Start.Year() > 2100:
		errs.Add("start", "range_any")
	default:
		in.Start = in.Start.UTC().Truncate(time.Second)
		if !in.Start.Equal(prevStart) && in.Start.Before(s.clock().Add(-startSlack)) {
			errs.Add("start", "past")
		}
	}
	if in.Minutes < 1 || in.Minutes > MaxMinutes {
		errs.Add("duration_minutes", "range", 1, MaxMinutes)
	}
	if in.Visibility != Public && in.Visibility != Registered {
		errs.Add("visibility", "vocabulary")
	}
	if in.Lecturer.Account == "" {
		errs.Add("lecturer.account", "required")
	} else if lec, err := s.accounts.Get(ctx, in.Lecturer.Account); errors.Is(err, accounts.ErrNotFound) || err == nil && (!lec.Role.Staff() || lec.Disabled) {
		errs.Add("lecturer.account", "lecturer")
	} else if err != nil {
		return err
	} else if in.Lecturer.Name == "" {
		in.Lecturer.Name = lec.DisplayName
	}
	if in.Cover != nil {
		if err := s.checkCover(ctx, actor, tree, &errs, *in.Cover); err != nil {
			return err
		}
	}
	if in.Exhibition = strings.TrimSpace(in.Exhibition); in.Exhibition != "" {
		ok := false
		if s.exhibitions != nil {
			var err error
			if ok, err = s.exhibitions.Published(ctx, in.Exhibition); err != nil {
				return err
			}
		}
		if !ok {
			errs.Add("exhibition", "unknown_exhibition")
		}
	}
	return errs.Err()
}

// checkCover makes sure the cover is an image file of an item the actor may see.
func (s *Service) checkCover(ctx context.Context, actor accounts.Account, tree *units.Tree, errs *validate.Errors, ref FileRef) error {
	it, err := s.items.Get(ctx, ref.Item)
	if errors.Is(err, library.ErrNotFound) || err == nil && !library.CanSee(actor, it, tree) {
		errs.Add("cover", "unknown_item")
		return nil
	}
	if err != nil {
		return err
	}
	for _, f := range it.Files {
		if f.Path == ref.Path {
			if !strings.HasPrefix(f.MediaType, "image/") {
				errs.Add("cover", "not_image")
			}
			return nil
		}
	}
	errs.Add("cover", "unknown_item")
	return nil
}

// Create stores a new scheduled lecture and returns it with its stream key. The key is shown
// this once: only its hash is kept (RotateKey makes a new one).
func (s *Service) Create(ctx context.Context, actor accounts.Account, in Input) (Lecture, string, error) {
	tree, _, err := s.units.LoadUnits(ctx)
	if err != nil {
		return Lecture{}, "", err
	}
	if err := s.check(ctx, actor, &in, &tree, time.Time{}); err != nil {
		return Lecture{}, "", err
	}
	if !mayAssign(actor, in, &tree) {
		return Lecture{}, "", ErrForbidden
	}
	now := s.clock()
	l := Lecture{ID: newID(), Input: in, State: Scheduled, History: []Transition{{State: Scheduled, At: now, By: actor.Name}},
		CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now}
	// The key first: a lecture whose record exists always has a key.
	streamKey, err := s.putKey(ctx, l.ID, actor.Name, docstore.Create())
	if err != nil {
		return Lecture{}, "", err
	}
	etag, err := s.docs.Put(ctx, key(l.ID), l, docstore.Create())
	if err != nil {
		return Lecture{}, "", err
	}
	l.Version = etag
	s.notify.LectureChanged(ctx, l.ID)
	return l, streamKey, nil
}

// write reads the lecture, applies change and writes it back if nobody wrote in between.
// With ifMatch the caller's version must be the stored one, and a concurrent write is
// ErrStale. Without (transitions driven by the media server and workers, which have no form
// to go stale), a concurrent write makes it read again and re-apply change, a few times.
func (s *Service) write(ctx context.Context, id, ifMatch string, change func(l *Lecture) error) (Lecture, error) {
	for attempt := 0; ; attempt++ {
		l, err := s.Get(ctx, id)
		if err != nil {
			return Lecture{}, err
		}
		if ifMatch != "" && !docstore.SameVersion(ifMatch, l.Version) {
			return Lecture{}, ErrStale
		}
		if err := change(&l); err != nil {
			return Lecture{}, err
		}
		l.UpdatedAt = s.clock()
		etag, err := s.docs.Put(ctx, key(l.ID), l, docstore.Match(l.Version))
		if errors.Is(err, docstore.ErrPrecondition) {
			if ifMatch == "" && attempt < writeRetries {
				continue
			}
			return Lecture{}, ErrStale
		}
		if err != nil {
			return Lecture{}, err
		}
		l.Version = etag
		s.notify.LectureChanged(ctx, l.ID)
		return l, nil
	}
}

// edit is a write by actor, who must be allowed to edit the lecture.
func (s *Service) edit(ctx context.Context, actor accounts.Account, id, ifMatch string, change func(l *Lecture, tree *units.Tree) error) (Lecture, error) {
	if ifMatch == "" {
		return Lecture{}, ErrStale
	}
	return s.write(ctx, id, ifMatch, func(l *Lecture) error {
		tree, _, err := s.units.LoadUnits(ctx)
		if err != nil {
			return err
		}
		if !CanEdit(actor, *l, &tree) {
			return ErrForbidden
		}
		return change(l, &tree)
	})
}

// Update replaces what staff edit. Moving the lecture to another unit, or handing it to
// another lecturer, needs the right to assign it there (mayAssign): a lecturer can change
// the words and times of their own talk, and move it within units they work for, but not
// give it to someone else.
func (s *Service) Update(ctx context.Context, actor accounts.Account, id, ifMatch string, in Input) (Lecture, error) {
	return s.edit(ctx, actor, id, ifMatch, func(l *Lecture, tree *units.Tree) error {
		if err := s.check(ctx, actor, &in, tree, l.Start); err != nil {
			return err
		}
		if (in.Unit != l.Unit || in.Lecturer.Account != l.Lecturer.Account) && !mayAssign(actor, in, tree) {
			return ErrForbidden
		}
		l.Input = in
		return nil
	})
}

// move takes l to state to, recording who did it, when the state machine allows it.
func (s *Service) move(l *Lecture, to State, by string) error {
	if !CanMove(l.State, to) {
		return validate.Errors{{Field: "state", Code: "transition"}}
	}
	l.State = to
	l.History = append(l.History, Transition{State: to, At: s.clock(), By: by})
	return nil
}

// Cancel calls off a scheduled lecture.
func (s *Service) Cancel(ctx context.Context, actor accounts.Account, id, ifMatch string) (Lecture, error) {
	return s.edit(ctx, actor, id, ifMatch, func(l *Lecture, _ *units.Tree) error {
		return s.move(l, Cancelled, actor.Name)
	})
}

// Window is when l may go live: from Early before its start to Late after its expected end.
func (s *Service) Window(l Lecture) (from, to time.Time) {
	return l.Start.Add(-s.early), l.End().Add(s.late)
}

// WindowError says why a lecture cannot go live now: its state, and the window it had.
// It is ErrNotScheduledNow.
type WindowError struct {
	State    State
	From, To time.Time
}

func (e *WindowError) Error() string {
	return ErrNotScheduledNow.Error() + ": " + string(e.State) + ", window " + e.From.Format(time.RFC3339) + " to " + e.To.Format(time.RFC3339)
}

func (e *WindowError) Is(target error) bool { return target == ErrNotScheduledNow }

// CheckWindow returns a *WindowError unless l is scheduled and now is inside its window.
// A live lecture cannot go live again: the media server refuses a second publisher.
func (s *Service) CheckWindow(l Lecture) error {
	from, to := s.Window(l)
	if now := s.now(); l.State != Scheduled || now.Before(from) || now.After(to) {
		return &WindowError{State: l.State, From: from, To: to}
	}
	return nil
}

// Now is the service's clock, for pages that show the time next to a lecture's.
func (s *Service) Now() time.Time { return s.now() }

// MarkLive records that the lecture went live. The caller (the media server) has checked
// the publisher: CheckKey for a stream key, CanGoLive for a signed-in lecturer; by names
// them. Only one of several concurrent calls succeeds; the others get ErrNotScheduledNow.
func (s *Service) MarkLive(ctx context.Context, id, by string) (Lecture, error) {
	return s.write(ctx, id, "", func(l *Lecture) error {
		if err := s.CheckWindow(*l); err != nil {
			return err
		}
		if err := s.move(l, Live, by); err != nil {
			return err
		}
		t := s.clock()
		l.WentLiveAt = &t
		return nil
	})
}

// MarkEnded records that the live stream ended now, with the audience the live room counted.
func (s *Service) MarkEnded(ctx context.Context, id, by string, a Audience) (Lecture, error) {
	return s.MarkEndedAt(ctx, id, by, a, time.Time{})
}

// MarkEndedAt is MarkEnded at a time in the past, when the stream really stopped (a lost
// node's last packet); zero means now.
func (s *Service) MarkEndedAt(ctx context.Context, id, by string, a Audience, at time.Time) (Lecture, error) {
	return s.write(ctx, id, "", func(l *Lecture) error {
		if err := s.move(l, Ended, by); err != nil {
			return err
		}
		t := s.clock()
		if !at.IsZero() && at.Before(t) {
			t = at.UTC().Truncate(time.Second)
			l.History[len(l.History)-1].At = t
		}
		l.EndedAt, l.Audience = &t, Audience{Peak: max(a.Peak, 0), Total: max(a.Total, 0)}
		return nil
	})
}

// MarkReplayReady records that the recording is the library item item. Rights are the
// caller's to check (CanEdit for staff; the recording worker acts for the system).
func (s *Service) MarkReplayReady(ctx context.Context, id, by, item string) (Lecture, error) {
	if _, err := s.items.Get(ctx, item); errors.Is(err, library.ErrNotFound) {
		return Lecture{}, validate.Errors{{Field: "replay_item", Code: "unknown_item"}}
	} else if err != nil {
		return Lecture{}, err
	}
	return s.write(ctx, id, "", func(l *Lecture) error {
		if err := s.move(l, ReplayReady, by); err != nil {
			return err
		}
		l.ReplayItem = item
		return nil
	})
}

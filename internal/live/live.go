// Package live runs live lectures: it checks who may publish and watch, hands the SDP to the
// SFU, keeps the lecture's state and the live room's viewer count in step with the SFU's
// sessions, and turns the recording into a replay when the lecture ends.
//
// Three packages share live lectures, each with one job: lectures owns the lecture record
// (schedule, state, stream key) in MinIO; liveroom owns what every node shares in Redis
// while a lecture is on (viewers, chat); live, this package, is one node's running side:
// the media sessions (media/sfu), the origin keys, drain, recording and replay.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/liveroom"
	"github.com/shizuishan/culturecloud/media/sfu"
)

// Errors the HTTP layer maps to answers.
var (
	// ErrCannotWatch: a lecture for registered citizens, and the viewer is not signed in.
	ErrCannotWatch = errors.New("live: sign in to watch this lecture")
	// ErrNotLive: the lecture has no live stream now.
	ErrNotLive = errors.New("live: the lecture is not live")
	// ErrPublisherLost: the lecture is live but its publisher is gone; it may come back
	// within the grace period, after which the lecture ends.
	ErrPublisherLost = errors.New("live: the lecturer's connection is lost")
)

// Recorder records a lecture while it runs. Start is called when the publisher connects and
// returns the tap the SFU feeds; Finish is called once when the lecture ends, in the
// background, and makes the replay (it may take minutes).
type Recorder interface {
	Start(ctx context.Context, l lectures.Lecture) (sfu.Tap, error)
	Finish(ctx context.Context, l lectures.Lecture) error
}

// Options are the service's settings.
type Options struct {
	// EndGrace is how long a lecture whose publisher dropped waits before it is ended, so
	// that a lecturer whose network blinked can come back to the same lecture.
	EndGrace time.Duration
	// Origins keeps this node's live lectures known in Redis (see origin.go).
	Origins Origins
	// ViewersPerIP and MaxViewers cap the viewer sessions (pending and playing) of one
	// client address and of this node; zero means no cap.
	ViewersPerIP, MaxViewers int
	// OnAudience, when set, hears the live room's audience each time a viewer has joined, so
	// that the peak can be kept with the other counts (internal/views).
	OnAudience func(ctx context.Context, lecture string, st liveroom.Stats)
	Log        *slog.Logger
}

// Service connects the SFU to lectures and the live room.
type Service struct {
	sfu      *sfu.SFU
	lectures *lectures.Service
	room     *liveroom.Room
	rec      Recorder
	o        Options
	log      *slog.Logger

	// base is the context of background work (ending lectures, recordings); it ends with Close.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	ending       map[string]*time.Timer   // lecture → pending end after the grace period
	waiting      map[string]waitingViewer // session → viewer not connected yet
	joining      map[string]chan struct{} // session → closed when the viewer's Join is done
	origin       map[string]bool          // lectures whose publisher is on this node
	endNow       map[string]bool          // lectures ended on purpose: no grace period
	publishers   map[string]string        // lecture → its publisher's session on this node
	draining     bool                     // shutting down: no new sessions, lectures stay live
	closed       bool                     // Close has begun: no new background work
	places       map[string]string        // viewer session → client address, for the caps
	perIP        map[string]int           // client address → its viewer sessions here
	reservations uint64                   // names the places of offers being answered
}

// waitingViewer is a WHEP session whose peer has not connected yet: it is counted in the
// live room once it does, so that offers that never connect count for nothing.
type waitingViewer struct {
	viewer string
	since  time.Time
}

// New returns a Service; Hooks must be given to the SFU's Config before the SFU is made,
// then Attach connects the SFU.
func New(lec *lectures.Service, room *liveroom.Room, rec Recorder, o Options) *Service {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	base, cancel := context.WithCancel(context.Background())
	return &Service{lectures: lec, room: room, rec: rec, o: o, log: o.Log, base: base, cancel: cancel,
		ending: map[string]*time.Timer{}, waiting: map[string]waitingViewer{}, joining: map[string]chan struct{}{}, origin: map[string]bool{}, endNow: map[string]bool{}, publishers: map[string]string{},
		places: map[string]string{}, perIP: map[string]int{}}
}

// Hooks are the SFU hooks that keep lectures and the live room in step.
func (s *Service) Hooks() sfu.Hooks {
	return sfu.Hooks{
		OnPublisherStart: func(room string) { s.background(func(ctx context.Context) { s.publisherStarted(ctx, room) }) },
		OnPublisherEnd:   func(room string) { s.publisherEnded(room) },
		OnViewerJoin: func(room, session string) {
			s.mu.Lock()
			w, ok := s.waiting[session]
			delete(s.waiting, session)
			joined := make(chan struct{})
			if ok {
				s.joining[session] = joined
			}
			s.mu.Unlock()
			if !ok {
				return
			}
			s.background(func(ctx context.Context) {
				defer close(joined)
				if st, err := s.room.Join(ctx, room, session, w.viewer); err != nil {
					// The stream plays on; only the count misses this viewer.
					s.log.WarnContext(ctx, "live: viewer not counted", "lecture", room, "err", err)
				} else if s.o.OnAudience != nil {
					s.o.OnAudience(ctx, room, st)
				}
				s.mu.Lock()
				delete(s.joining, session)
				s.mu.Unlock()
			})
		},
		OnViewerLeave: func(room, session string) {
			s.mu.Lock()
			s.releaseLocked(session)
			joined := s.joining[session]
			s.mu.Unlock()
			s.background(func(ctx context.Context) {
				if joined != nil {
					// A Leave that overtook its Join would leave the session counted for
					// as long as this node runs (its heartbeat keeps it).
					<-joined
				}
				if err := s.room.Leave(ctx, room, session); err != nil {
					s.log.WarnContext(ctx, "live: viewer leave", "lecture", room, "err", err)
				}
			})
		},
	}
}

// Attach gives the service its SFU (made with Hooks).
func (s *Service) Attach(f *sfu.SFU) { s.sfu = f }

// SFU is the attached SFU.
func (s *Service) SFU() *sfu.SFU { return s.sfu }

// background runs fn on its own goroutine, which Close waits for. Once Close has begun, fn is
// dropped: the SFU's closing hooks come after it, and the live room's own shutdown forgets
// this node's viewers (liveroom.Room's loop).
func (s *Service) background(fn func(ctx context.Context)) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closed {
		return
	}
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.base, 10*time.Minute)
		defer cancel()
		fn(ctx)
	}()
}

// Publish hands a WHIP offer to the SFU once authorize (a stream key check, or a check of
// the signed-in lecturer) accepts the lecture and the schedule allows it. A publisher
// coming back within the grace period continues the same live lecture.
func (s *Service) Publish(ctx context.Context, id, offer string, authorize func(lectures.Lecture) error) (answer, session string, err error) {
	l, err := s.lectures.Get(ctx, id)
	if err != nil {
		return "", "", err
	}
	if err := authorize(l); err != nil {
		return "", "", err
	}
	if s.isDraining() {
		return "", "", sfu.ErrClosed
	}
	switch {
	case l.State == lectures.Live && s.resuming(id):
		// The publisher dropped and comes back within the grace period.
	case l.State == lectures.Live && s.lostElsewhere(ctx, id):
		// Its node drained for a deploy, or crashed: the encoder reconnects here.
	case l.State == lectures.Live:
		// Outside the grace period a live lecture has its publisher: say so, rather than
		// that the lecture is not scheduled now.
		return "", "", sfu.ErrPublisherExists
	default:
		if err := s.lectures.CheckWindow(l); err != nil {
			return "", "", err
		}
	}
	answer, session, err = s.sfu.Publish(ctx, id, offer)
	if err == nil {
		s.mu.Lock()
		s.publishers[id] = session
		s.mu.Unlock()
	}
	return answer, session, err
}

// lostElsewhere reports whether a live lecture's publisher is on no living node and may
// still come back (its grace period, counted from its last packet, is not over).
func (s *Service) lostElsewhere(ctx context.Context, id string) bool {
	s.mu.Lock()
	here := s.publishers[id] != ""
	s.mu.Unlock()
	if here {
		return false
	}
	lost, since, ok := s.lostSince(ctx, id)
	return ok && lost && time.Since(since) <= s.o.EndGrace
}

func (s *Service) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// resuming reports whether the lecture's publisher dropped and may still come back.
func (s *Service) resuming(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ending[id]
	return ok
}

// Watch hands a WHEP offer to the SFU for a viewer (an account name or an anonymous id)
// from client address ip and counts the viewer in the live room. A *CapError refuses a
// viewer beyond the caps of the address or the node.
func (s *Service) Watch(ctx context.Context, id, viewer, ip string, signedIn bool, offer string, opts sfu.SubscribeOptions) (answer, session string, err error) {
	l, err := s.lectures.Get(ctx, id)
	if err != nil {
		return "", "", err
	}
	if !l.CanWatch(signedIn) {
		return "", "", ErrCannotWatch
	}
	if s.isDraining() {
		return "", "", sfu.ErrClosed
	}
	if l.State != lectures.Live {
		return "", "", ErrNotLive
	}
	// The place is taken before the SFU works on the offer, so that concurrent offers of
	// one address cannot all pass the check; it is given back if the offer fails.
	s.mu.Lock()
	if err := s.admitLocked(ip); err != nil {
		s.mu.Unlock()
		return "", "", err
	}
	reservation := s.newReservationLocked()
	s.takeLocked(reservation, ip)
	s.mu.Unlock()
	answer, session, err = s.sfu.Subscribe(ctx, id, offer, opts)
	s.mu.Lock()
	s.releaseLocked(reservation)
	if err == nil {
		s.takeLocked(session, ip)
	}
	s.mu.Unlock()
	if errors.Is(err, sfu.ErrNoPublisher) {
		return "", "", ErrPublisherLost
	}
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	s.mu.Lock()
	for k, w := range s.waiting {
		if now.Sub(w.since) > 2*time.Minute { // never connected; the SFU gave up on it
			delete(s.waiting, k)
		}
	}
	s.waiting[session] = waitingViewer{viewer: viewer, since: now}
	s.mu.Unlock()
	return answer, session, nil
}

func (s *Service) publisherStarted(ctx context.Context, id string) {
	s.mu.Lock()
	t, resumed := s.ending[id]
	if resumed {
		if t.Stop() {
			s.wg.Done() // its function will not run; Close would wait for it forever
		}
		delete(s.ending, id)
	}
	s.mu.Unlock()
	s.claimOrigin(ctx, id)
	l, err := s.lectures.Get(ctx, id)
	if err != nil {
		s.log.ErrorContext(ctx, "live: publisher of unknown lecture", "lecture", id, "err", err)
		return
	}
	if l.State == lectures.Scheduled {
		if l, err = s.lectures.MarkLive(ctx, id, "stream"); err != nil {
			s.log.ErrorContext(ctx, "live: mark live", "lecture", id, "err", err)
			return
		}
	}
	if s.rec == nil {
		return
	}
	tap, err := s.rec.Start(ctx, l)
	if err != nil {
		s.log.ErrorContext(ctx, "live: recording not started", "lecture", id, "err", err)
		return
	}
	if err := s.sfu.SetTap(id, tap); err != nil {
		s.log.ErrorContext(ctx, "live: recording tap", "lecture", id, "err", err)
	}
}

// publisherEnded waits out the grace period, then ends the lecture. A node that drains
// for a deploy leaves the lecture live: its publisher reconnects to another node.
func (s *Service) publisherEnded(id string) {
	s.releaseOrigin(id)
	s.mu.Lock()
	delete(s.publishers, id)
	draining := s.draining
	s.mu.Unlock()
	if !draining {
		s.endAfterGrace(id, time.Time{})
	}
}

// endAfterGrace ends the lecture when the grace period counted from lastPacket (zero: now)
// is over, unless its publisher comes back first; the lecture's end is lastPacket.
func (s *Service) endAfterGrace(id string, lastPacket time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base.Err() != nil {
		return
	}
	if t, ok := s.ending[id]; ok && t.Stop() {
		s.wg.Done()
	}
	grace := s.o.EndGrace
	if !lastPacket.IsZero() {
		grace = max(0, time.Until(lastPacket.Add(grace)))
	}
	if s.endNow[id] {
		delete(s.endNow, id)
		grace = 0
	}
	s.wg.Add(1)
	var timer *time.Timer
	timer = time.AfterFunc(grace, func() {
		defer s.wg.Done()
		s.mu.Lock()
		still := s.ending[id] == timer
		if still {
			delete(s.ending, id)
		}
		s.mu.Unlock()
		if !still {
			return // the publisher came back (or a newer timer took over)
		}
		ctx, cancel := context.WithTimeout(s.base, 10*time.Minute)
		defer cancel()
		s.end(ctx, id, lastPacket)
	})
	s.ending[id] = timer
}

// end records the audience, marks the lecture ended (at lastPacket, or now when zero) and
// finishes its recording.
func (s *Service) end(ctx context.Context, id string, lastPacket time.Time) {
	st, err := s.room.Stats(ctx, id)
	if err != nil {
		s.log.WarnContext(ctx, "live: audience not counted", "lecture", id, "err", err)
	}
	l, err := s.lectures.MarkEndedAt(ctx, id, "stream", lectures.Audience{Peak: st.Peak, Total: st.Total}, lastPacket)
	if err != nil {
		s.log.ErrorContext(ctx, "live: mark ended", "lecture", id, "err", err)
		return
	}
	if s.rec != nil {
		if err := s.rec.Finish(ctx, l); err != nil {
			s.log.ErrorContext(ctx, "live: recording not finished", "lecture", id, "err", err)
		}
	}
}

// Stop ends a viewer's or publisher's session, and frees a viewer's place.
func (s *Service) Stop(session string) error {
	err := s.sfu.End(session)
	s.release(session)
	return err
}

// owned checks that session is a live session of lecture, a publisher's or a viewer's as
// publisher says; sfu.ErrNoSession when it is not, so that the key or URL of one lecture
// never reaches another lecture's sessions.
func (s *Service) owned(lecture, session string, publisher bool) error {
	room, isPublisher, err := s.sfu.SessionRoom(session)
	if err != nil || room != lecture || isPublisher != publisher {
		return sfu.ErrNoSession
	}
	return nil
}

// CheckSession says whether session is a live session of lecture, a publisher's or a
// viewer's as publisher says: sfu.ErrNoSession when it is not.
func (s *Service) CheckSession(lecture, session string, publisher bool) error {
	return s.owned(lecture, session, publisher)
}

// StopSession ends lecture's publisher session (publisher) or viewer session. A session of
// lecture and of that kind that has already ended (its client closed the connection first)
// is no error, so that ending a session is idempotent; any other session is
// sfu.ErrNoSession, whether it never existed or is another lecture's.
func (s *Service) StopSession(lecture, session string, publisher bool) error {
	room, isPublisher, err := s.sfu.SessionRoom(session)
	switch {
	case room != lecture || isPublisher != publisher:
		return sfu.ErrNoSession
	case errors.Is(err, sfu.ErrEnded):
		return nil
	case err != nil:
		return err
	}
	if err := s.Stop(session); !errors.Is(err, sfu.ErrNoSession) {
		return err
	}
	return nil // it ended between the two calls
}

// Trickle passes ICE candidates (an RFC 8840 fragment) to lecture's session.
func (s *Service) Trickle(lecture, session string, publisher bool, fragment string) error {
	if err := s.owned(lecture, session, publisher); err != nil {
		return err
	}
	return s.sfu.Trickle(session, fragment)
}

// ViewerStats describes lecture's viewer session.
func (s *Service) ViewerStats(lecture, session string) (sfu.ViewerStats, error) {
	if err := s.owned(lecture, session, false); err != nil {
		return sfu.ViewerStats{}, err
	}
	return s.sfu.ViewerStats(session)
}

// SetLayer pins the simulcast layer of lecture's viewer session ("" releases it), and
// describes the session after.
func (s *Service) SetLayer(lecture, session, layer string) (sfu.ViewerStats, error) {
	if err := s.owned(lecture, session, false); err != nil {
		return sfu.ViewerStats{}, err
	}
	if err := s.sfu.SetLayer(session, layer); err != nil {
		return sfu.ViewerStats{}, err
	}
	return s.sfu.ViewerStats(session)
}

// EndLecture ends a live lecture on purpose (the lecturer pressed "end" in the studio): its
// publisher, if connected to this node, is ended, and the lecture ends at once instead of
// after the grace period that covers a dropped connection or an encoder restart.
func (s *Service) EndLecture(ctx context.Context, id string) error {
	l, err := s.lectures.Get(ctx, id)
	if err != nil {
		return err
	}
	if l.State != lectures.Live {
		return ErrNotLive
	}
	s.mu.Lock()
	s.endNow[id] = true
	session := s.publishers[id]
	s.mu.Unlock()
	if session != "" {
		if err := s.sfu.End(session); err == nil {
			return nil // the SFU's hook ends the lecture
		}
	}
	s.publisherEnded(id) // no publisher here: waiting out the grace, or on a lost node
	return nil
}

// Drain prepares a deploy: the node takes no new publishers or viewers, keeps forwarding
// until its publishers have left or timeout has passed, then hands its lectures over (see
// handOver) so that they stay live and their encoders reconnect to another node within
// the grace period. The SFU is closed after Drain; lectures are not ended by it.
func (s *Service) Drain(ctx context.Context, timeout time.Duration) {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	if s.sfu != nil {
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
	wait:
		for s.sfu.Rooms() > 0 {
			select {
			case <-deadline.C:
				break wait
			case <-ctx.Done():
				break wait
			case <-tick.C:
			}
		}
		s.handOver(ctx)
	}
}

// Close stops the background work. Lectures waiting out their grace period stay live:
// other nodes' sweeps end them at their last packet's time unless the publisher returns.
func (s *Service) Close() {
	s.mu.Lock()
	s.draining = true
	s.closed = true
	for _, t := range s.ending {
		if t.Stop() {
			s.wg.Done()
		}
	}
	s.ending = map[string]*time.Timer{}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Package live runs live lectures: it checks who may publish and watch, hands the SDP to the
// SFU, keeps the lecture's state and the live room's viewer count in step with the SFU's
// sessions, and turns the recording into a replay when the lecture ends.
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
	Log     *slog.Logger
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

	mu         sync.Mutex
	ending     map[string]*time.Timer   // lecture → pending end after the grace period
	waiting    map[string]waitingViewer // session → viewer not connected yet
	joining    map[string]chan struct{} // session → closed when the viewer's Join is done
	origin     map[string]bool          // lectures whose publisher is on this node
	endNow     map[string]bool          // lectures ended on purpose: no grace period
	publishers map[string]string        // lecture → its publisher's session on this node
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
		ending: map[string]*time.Timer{}, waiting: map[string]waitingViewer{}, joining: map[string]chan struct{}{}, origin: map[string]bool{}, endNow: map[string]bool{}, publishers: map[string]string{}}
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
				if _, err := s.room.Join(ctx, room, session, w.viewer); err != nil {
					// The stream plays on; only the count misses this viewer.
					s.log.WarnContext(ctx, "live: viewer not counted", "lecture", room, "err", err)
				}
				s.mu.Lock()
				delete(s.joining, session)
				s.mu.Unlock()
			})
		},
		OnViewerLeave: func(room, session string) {
			s.mu.Lock()
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

func (s *Service) background(fn func(ctx context.Context)) {
	s.wg.Add(1)
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
	switch {
	case l.State == lectures.Live && s.resuming(id):
		// The publisher dropped and comes back within the grace period.
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

// resuming reports whether the lecture's publisher dropped and may still come back.
func (s *Service) resuming(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ending[id]
	return ok
}

// Watch hands a WHEP offer to the SFU for a viewer (an account name or an anonymous id)
// and counts the viewer in the live room.
func (s *Service) Watch(ctx context.Context, id, viewer string, signedIn bool, offer string, opts sfu.SubscribeOptions) (answer, session string, err error) {
	l, err := s.lectures.Get(ctx, id)
	if err != nil {
		return "", "", err
	}
	if !l.CanWatch(signedIn) {
		return "", "", ErrCannotWatch
	}
	if l.State != lectures.Live {
		return "", "", ErrNotLive
	}
	answer, session, err = s.sfu.Subscribe(ctx, id, offer, opts)
	if errors.Is(err, sfu.ErrNoPublisher) {
		return "", "", ErrNotLive
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

// publisherEnded waits out the grace period, then ends the lecture.
func (s *Service) publisherEnded(id string) {
	s.releaseOrigin(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.publishers, id)
	if s.base.Err() != nil {
		return
	}
	if t, ok := s.ending[id]; ok && t.Stop() {
		s.wg.Done()
	}
	grace := s.o.EndGrace
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
		s.end(ctx, id)
	})
	s.ending[id] = timer
}

// end records the audience, marks the lecture ended and finishes its recording.
func (s *Service) end(ctx context.Context, id string) {
	st, err := s.room.Stats(ctx, id)
	if err != nil {
		s.log.WarnContext(ctx, "live: audience not counted", "lecture", id, "err", err)
	}
	l, err := s.lectures.MarkEnded(ctx, id, "stream", lectures.Audience{Peak: st.Peak, Total: st.Total})
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

// Stop ends a viewer's or publisher's session.
func (s *Service) Stop(session string) error { return s.sfu.End(session) }

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

// Close stops the background work; lectures whose publisher dropped are ended at once.
func (s *Service) Close() {
	s.mu.Lock()
	pending := make([]string, 0, len(s.ending))
	for id, t := range s.ending {
		if t.Stop() {
			s.wg.Done()
		}
		pending = append(pending, id)
	}
	s.ending = map[string]*time.Timer{}
	s.mu.Unlock()
	for _, id := range pending {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), 30*time.Second)
		s.end(ctx, id)
		cancel()
	}
	s.cancel()
	s.wg.Wait()
}

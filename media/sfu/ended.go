package sfu

import "time"

// endedSessions remembers the sessions that ended lately, for as long as Config.EndedMemory
// and at most Config.EndedMax of them, oldest forgotten first. Many WHIP and WHEP clients
// close their PeerConnection before they send the DELETE; the SFU ends the session as soon
// as the connection closes, and the DELETE must still succeed (RFC 9725 makes DELETE the
// way to end a session, and a client cannot tell which came first). An ID is only ever
// known to whoever was handed it, so remembering it tells nobody else anything.
//
// It is guarded by SFU.mu. A nil one remembers nothing.
type endedSessions struct {
	keep  time.Duration
	max   int
	byID  map[string]endedSession
	order []endedEntry // in the order the sessions ended
}

type endedSession struct {
	room      string
	publisher bool
}

type endedEntry struct {
	id string
	at time.Time
}

func newEndedSessions(keep time.Duration, limit int) *endedSessions {
	return &endedSessions{keep: keep, max: limit, byID: map[string]endedSession{}}
}

func (e *endedSessions) add(id string, sess endedSession, now time.Time) {
	if e == nil || e.keep <= 0 || e.max <= 0 {
		return
	}
	e.forget(now)
	if len(e.order) >= e.max {
		e.drop(1)
	}
	e.byID[id] = sess
	e.order = append(e.order, endedEntry{id: id, at: now})
}

func (e *endedSessions) get(id string, now time.Time) (endedSession, bool) {
	if e == nil {
		return endedSession{}, false
	}
	e.forget(now)
	s, ok := e.byID[id]
	return s, ok
}

// forget drops the sessions that ended more than keep ago.
func (e *endedSessions) forget(now time.Time) {
	n := 0
	for n < len(e.order) && now.Sub(e.order[n].at) > e.keep {
		n++
	}
	e.drop(n)
}

func (e *endedSessions) drop(n int) {
	for _, old := range e.order[:n] {
		delete(e.byID, old.id)
	}
	// Reslicing gives up the front of the array; append copies the rest to a new one
	// when it runs out, so the memory stays in proportion to what is remembered.
	e.order = e.order[n:]
}

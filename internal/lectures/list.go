package lectures

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/shizuishan/culturecloud/storage"
)

// Lists come straight from MinIO, with no search index: a city holds a few lectures a week,
// so even after years there are a few thousand small records, and the lists citizens see
// (upcoming, live now) are a handful. One LIST request gives every record's ETag, and only
// records whose ETag changed since the last listing are read again, so every node sees a
// change by any other at once, with no cache to invalidate. Finding a past talk by its words
// is the library's job: each replay is a library item, searchable like any other. When
// lectures need full text and facets of their own, they get a Meilisearch index like courses
// (the Notifier already reports every write for it).

// fetchers bounds the records read at once when many changed.
const fetchers = 8

type cachedLecture struct {
	etag string
	l    Lecture
}

// listCache holds the last version read of every lecture, by id.
type listCache struct {
	mu   sync.Mutex
	byID map[string]cachedLecture
}

// All returns every lecture, in no particular order.
func (s *Service) All(ctx context.Context) ([]Lecture, error) {
	listed := map[string]string{} // id → ETag
	for obj, err := range s.docs.Objects().List(ctx, prefix, storage.ListOptions{Recursive: true}) {
		if err != nil {
			return nil, err
		}
		if id := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), ".json"); validID(id) {
			listed[id] = obj.ETag
		}
	}
	var stale []string
	s.list.mu.Lock()
	for id, etag := range listed {
		if c, ok := s.list.byID[id]; !ok || c.etag != etag {
			stale = append(stale, id)
		}
	}
	s.list.mu.Unlock()

	fresh := make([]Lecture, len(stale))
	errs := make([]error, len(stale))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchers)
	for i, id := range stale {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fresh[i], errs[i] = s.Get(ctx, id)
		})
	}
	wg.Wait()

	s.list.mu.Lock()
	defer s.list.mu.Unlock()
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrNotFound): // removed since the listing
			delete(listed, stale[i])
		case err != nil:
			return nil, err
		default:
			s.list.byID[stale[i]] = cachedLecture{etag: strings.Trim(fresh[i].Version, `"`), l: fresh[i]}
		}
	}
	out := make([]Lecture, 0, len(listed))
	for id, c := range s.list.byID {
		if _, ok := listed[id]; !ok {
			delete(s.list.byID, id)
			continue
		}
		out = append(out, c.l)
	}
	return out, nil
}

func (s *Service) filter(ctx context.Context, keep func(Lecture) bool, order func(a, b Lecture) int) ([]Lecture, error) {
	all, err := s.All(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(all, func(l Lecture) bool { return !keep(l) })
	slices.SortFunc(out, func(a, b Lecture) int { return cmp.Or(order(a, b), strings.Compare(a.ID, b.ID)) })
	return out, nil
}

func byStart(a, b Lecture) int { return a.Start.Compare(b.Start) }

// Upcoming lists the scheduled lectures that are not over yet, soonest first. A lecture
// whose start has passed stays here until its expected end, so that a late lecturer's talk
// is still announced ("about to begin").
func (s *Service) Upcoming(ctx context.Context) ([]Lecture, error) {
	now := s.now()
	return s.filter(ctx, func(l Lecture) bool { return l.State == Scheduled && now.Before(l.End()) }, byStart)
}

// LiveNow lists the lectures on air, by start.
func (s *Service) LiveNow(ctx context.Context) ([]Lecture, error) {
	return s.filter(ctx, func(l Lecture) bool { return l.State == Live }, byStart)
}

// Replays lists the lectures whose recording can be watched, newest first.
func (s *Service) Replays(ctx context.Context) ([]Lecture, error) {
	return s.filter(ctx, func(l Lecture) bool { return l.State == ReplayReady },
		func(a, b Lecture) int { return b.Start.Compare(a.Start) })
}

// Tours lists the guided tours of exhibition id (lectures that lead through it), newest first.
func (s *Service) Tours(ctx context.Context, exhibition string) ([]Lecture, error) {
	return s.filter(ctx, func(l Lecture) bool { return l.Exhibition == exhibition && exhibition != "" },
		func(a, b Lecture) int { return b.Start.Compare(a.Start) })
}

// IDs lists every lecture id (for the indexer's reconcile, when there is an index).
func (s *Service) IDs(ctx context.Context) ([]string, error) {
	keys, err := s.docs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		if id := strings.TrimSuffix(strings.TrimPrefix(k, prefix), ".json"); validID(id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

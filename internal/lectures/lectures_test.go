package lectures_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/testwait"
	"github.com/shizuishan/culturecloud/storage"
)

func TestCreate(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	start := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	in := input(start)
	in.Cover = &e.image
	l, k := create(t, s, librarian, in)
	if l.State != lectures.Scheduled || l.Lecturer.Name != "张老师" || l.CreatedBy != librarian.Name || l.Version == "" ||
		!l.Start.Equal(start) || l.Start.Location() != time.UTC {
		t.Errorf("created %+v", l)
	}
	if len(l.History) != 1 || l.History[0].State != lectures.Scheduled || l.History[0].By != librarian.Name {
		t.Errorf("History = %+v, want scheduled by %s", l.History, librarian.Name)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(k); err != nil || len(raw) != 32 {
		t.Errorf("stream key %q: %d bytes, %v; want 32 random bytes in base64url", k, len(raw), err)
	}
	if e.notes.count(l.ID) != 1 {
		t.Errorf("notified %d times, want once", e.notes.count(l.ID))
	}
	got, err := s.Get(t.Context(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != in.Title || got.Description != in.Description || got.Cover == nil || *got.Cover != e.image || got.Version != l.Version {
		t.Errorf("Get = %+v, want what was created", got)
	}
	// The key is stored nowhere in clear.
	for obj, err := range e.docs.Objects().List(t.Context(), "records/", storage.ListOptions{Recursive: true}) {
		if err != nil {
			t.Fatal(err)
		}
		o, _, err := e.docs.Objects().Get(t.Context(), obj.Key, storage.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), k) {
			t.Errorf("%s holds the stream key", obj.Key)
		}
	}
	_, k2 := create(t, s, admin, input(start))
	if k2 == k {
		t.Error("two lectures got the same stream key")
	}
	if _, err := s.Get(t.Context(), "lec-nothere22"); !errors.Is(err, lectures.ErrNotFound) {
		t.Errorf("Get of an unknown id: %v", err)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	start := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		edit  func(in *lectures.Input)
		codes []string
	}{
		{"valid", func(*lectures.Input) {}, nil},
		{"longest", func(in *lectures.Input) { in.Minutes, in.Title = lectures.MaxMinutes, strings.Repeat("题", 100) }, nil},
		{"visibility defaults to public", func(in *lectures.Input) { in.Visibility = "" }, nil},
		{"title missing", func(in *lectures.Input) { in.Title = "  " }, []string{"title:required"}},
		{"title too long", func(in *lectures.Input) { in.Title = strings.Repeat("题", 101) }, []string{"title:too_long"}},
		{"start missing", func(in *lectures.Input) { in.Start = time.Time{} }, []string{"start:required"}},
		{"start absurd", func(in *lectures.Input) { in.Start = time.Date(1958, 3, 1, 0, 0, 0, 0, time.UTC) }, []string{"start:range_any"}},
		{"no duration", func(in *lectures.Input) { in.Minutes = 0 }, []string{"duration_minutes:range"}},
		{"over 12 hours", func(in *lectures.Input) { in.Minutes = lectures.MaxMinutes + 1 }, []string{"duration_minutes:range"}},
		{"visibility unknown", func(in *lectures.Input) { in.Visibility = "secret" }, []string{"visibility:vocabulary"}},
		{"unit unknown", func(in *lectures.Input) { in.Unit = "nowhere" }, []string{"unit:unit"}},
		{"unit missing", func(in *lectures.Input) { in.Unit = "" }, []string{"unit:required"}},
		{"lecturer missing", func(in *lectures.Input) { in.Lecturer.Account = "" }, []string{"lecturer.account:required"}},
		{"lecturer unknown", func(in *lectures.Input) { in.Lecturer.Account = "nobody.here" }, []string{"lecturer.account:lecturer"}},
		{"lecturer a citizen", func(in *lectures.Input) { in.Lecturer.Account = citizen.Name }, []string{"lecturer.account:lecturer"}},
		{"lecturer disabled", func(in *lectures.Input) { in.Lecturer.Account = retired.Name }, []string{"lecturer.account:lecturer"}},
		{"lecturer name too long", func(in *lectures.Input) { in.Lecturer.Name = strings.Repeat("名", 61) }, []string{"lecturer.name:too_long"}},
		{"description with a control character", func(in *lectures.Input) { in.Description = "a\x00b" }, []string{"description:text"}},
		{"description too long", func(in *lectures.Input) { in.Description = strings.Repeat("字", 5001) }, []string{"description:too_long"}},
		{"cover unknown item", func(in *lectures.Input) { in.Cover = &lectures.FileRef{Item: "szm-nothere222", Path: "files/x.png"} }, []string{"cover:unknown_item"}},
		{"cover unknown file", func(in *lectures.Input) { in.Cover = &lectures.FileRef{Item: e.image.Item, Path: "files/x.png"} }, []string{"cover:unknown_item"}},
		{"cover not an image", func(in *lectures.Input) { in.Cover = &e.text }, []string{"cover:not_image"}},
		{"cover an image", func(in *lectures.Input) { in.Cover = &e.image }, nil},
		{"every problem at once", func(in *lectures.Input) {
			*in = lectures.Input{Visibility: "x", Unit: "x", Lecturer: lectures.Lecturer{Account: citizen.Name}}
		}, []string{"duration_minutes:range", "lecturer.account:lecturer", "start:required", "title:required", "unit:unit", "visibility:vocabulary"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(start)
			tc.edit(&in)
			l, _, err := s.Create(t.Context(), admin, in)
			if got := codes(err); !slices.Equal(got, tc.codes) || err != nil && tc.codes == nil {
				t.Fatalf("Create = %v, want problems %v", err, tc.codes)
			}
			if tc.codes == nil && l.Visibility != lectures.Public {
				t.Errorf("visibility %q, want public", l.Visibility)
			}
		})
	}
	l, _ := create(t, s, admin, input(start))
	if l.Description != input(start).Description {
		t.Errorf("description %q, want its line break kept", l.Description)
	}
}

func TestRights(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	in := input(time.Now().Add(time.Hour))
	for _, a := range []accounts.Account{huinong, citizen, lecturer} {
		if _, _, err := s.Create(t.Context(), a, in); !errors.Is(err, lectures.ErrForbidden) {
			t.Errorf("Create by %s: %v, want ErrForbidden", a.Name, err)
		}
	}
	l, _ := create(t, s, librarian, in)
	var err error

	// The lecturer edits the talk he gives, though he does not manage its unit.
	in.Title = "石嘴山的煤与城"
	if l, err = s.Update(t.Context(), lecturer, l.ID, l.Version, in); err != nil || l.Title != in.Title {
		t.Fatalf("Update by the lecturer: %+v, %v", l, err)
	}
	moved := in
	moved.Unit = "hn-library"
	if _, err := s.Update(t.Context(), lecturer, l.ID, l.Version, moved); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("the lecturer moving it to another district: %v, want ErrForbidden", err)
	}
	handed := in
	handed.Lecturer.Account = librarian.Name
	if _, err := s.Update(t.Context(), lecturer, l.ID, l.Version, handed); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("the lecturer handing it to someone else: %v, want ErrForbidden", err)
	}
	if l, err = s.Update(t.Context(), librarian, l.ID, l.Version, handed); err != nil || l.Lecturer.Account != librarian.Name || l.Lecturer.Name != "李馆员" {
		t.Errorf("the unit's librarian handing it over: %+v, %v", l.Lecturer, err)
	}
	for _, a := range []accounts.Account{huinong, citizen, lecturer} {
		if _, err := s.Update(t.Context(), a, l.ID, l.Version, in); !errors.Is(err, lectures.ErrForbidden) {
			t.Errorf("Update by %s: %v, want ErrForbidden", a.Name, err)
		}
		if _, err := s.RotateKey(t.Context(), a, l.ID); !errors.Is(err, lectures.ErrForbidden) {
			t.Errorf("RotateKey by %s: %v, want ErrForbidden", a.Name, err)
		}
		if _, err := s.Cancel(t.Context(), a, l.ID, l.Version); !errors.Is(err, lectures.ErrForbidden) {
			t.Errorf("Cancel by %s: %v, want ErrForbidden", a.Name, err)
		}
	}
	if !lectures.CanGoLive(librarian, l) || lectures.CanGoLive(admin, l) || lectures.CanGoLive(lecturer, l) {
		t.Error("CanGoLive: want only the lecture's lecturer")
	}
	gone := librarian
	gone.Disabled = true
	if lectures.CanGoLive(gone, l) {
		t.Error("CanGoLive for a disabled account")
	}
}

// A lecturer of the unit is not staff of a colleague's lecture: only its own lecturer and
// the unit's librarians and admins may edit, rotate, cancel, end or moderate it.
func TestColleagueHasNoRights(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	tree, _, err := e.units.LoadUnits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	in := input(time.Now().Add(time.Hour))
	l, _ := create(t, s, librarian, in)
	for _, tc := range []struct {
		who  accounts.Account
		want bool
	}{{lecturer, true}, {librarian, true}, {admin, true}, {colleague, false}, {huinong, false}, {citizen, false}} {
		if got := lectures.CanEdit(tc.who, l, &tree); got != tc.want {
			t.Errorf("CanEdit(%s) = %v, want %v", tc.who.Name, got, tc.want)
		}
	}
	in.Title = "同事改的标题"
	if _, err := s.Update(t.Context(), colleague, l.ID, l.Version, in); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("Update by a colleague: %v, want ErrForbidden", err)
	}
	if _, err := s.RotateKey(t.Context(), colleague, l.ID); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("RotateKey by a colleague: %v, want ErrForbidden", err)
	}
	if _, err := s.Cancel(t.Context(), colleague, l.ID, l.Version); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("Cancel by a colleague: %v, want ErrForbidden", err)
	}
	// The colleague schedules his own talks in the unit, not talks for others.
	if _, _, err := s.Create(t.Context(), colleague, input(time.Now().Add(time.Hour))); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("Create by a colleague for zhang: %v, want ErrForbidden", err)
	}
	own := input(time.Now().Add(time.Hour))
	own.Lecturer.Account = colleague.Name
	mine, _ := create(t, s, colleague, own)
	if !lectures.CanEdit(colleague, mine, &tree) || lectures.CanEdit(lecturer, mine, &tree) {
		t.Error("CanEdit of the colleague's own lecture: want him, not zhang")
	}
	handed := own
	handed.Lecturer.Account = lecturer.Name
	if _, err := s.Update(t.Context(), colleague, mine.ID, mine.Version, handed); !errors.Is(err, lectures.ErrForbidden) {
		t.Errorf("the colleague handing his lecture to zhang: %v, want ErrForbidden", err)
	}
}

func TestUpdateNeedsCurrentVersion(t *testing.T) {
	e := newEnv(t)
	s := e.service(lectures.Options{})
	in := input(time.Now().Add(time.Hour))
	l, _ := create(t, s, librarian, in)
	in.Title = "第一次修改"
	if _, err := s.Update(t.Context(), librarian, l.ID, l.Version, in); err != nil {
		t.Fatal(err)
	}
	in.Title = "第二次修改"
	for _, v := range []string{l.Version, "", `"0000"`} {
		if _, err := s.Update(t.Context(), admin, l.ID, v, in); !errors.Is(err, lectures.ErrStale) {
			t.Errorf("Update with version %q: %v, want ErrStale", v, err)
		}
	}
	if _, err := s.Cancel(t.Context(), admin, l.ID, l.Version); !errors.Is(err, lectures.ErrStale) {
		t.Errorf("Cancel with a stale version: %v, want ErrStale", err)
	}
	if got, _ := s.Get(t.Context(), l.ID); got.Title != "第一次修改" {
		t.Errorf("title %q, want the first change only", got.Title)
	}
}

// today is the current UTC day at midnight: the lectures' clock is injected, so nothing here
// depends on the date, but tests stay near the real now in case a window or TTL joins later.
var today = time.Now().UTC().Truncate(24 * time.Hour)

func TestCheckKey(t *testing.T) {
	e := newEnv(t)
	start := today.Add(11*time.Hour + 30*time.Minute) // 19:30 in Shizuishan
	clk := testwait.NewClock(start.Add(-time.Hour))
	s := e.service(lectures.Options{Now: clk.Now})
	l, k := create(t, s, librarian, input(start)) // 90 minutes
	end := start.Add(90 * time.Minute)
	for _, tc := range []struct {
		now  time.Time
		want error
	}{
		{start.Add(-30*time.Minute - time.Second), lectures.ErrNotScheduledNow},
		{start.Add(-30 * time.Minute), nil},
		{start, nil},
		{end.Add(30 * time.Minute), nil},
		{end.Add(30*time.Minute + time.Second), lectures.ErrNotScheduledNow},
	} {
		clk.Set(tc.now)
		if err := s.CheckKey(t.Context(), l.ID, k); !errors.Is(err, tc.want) {
			t.Errorf("at start%+v: CheckKey = %v, want %v", tc.now.Sub(start), err, tc.want)
		}
	}
	clk.Set(start.Add(-2 * time.Hour))
	// The wrong key is told so before anything about the lecture's state.
	for _, bad := range []string{"", "x", k[:len(k)-1], k + "x", strings.Repeat("A", len(k)), strings.ToUpper(k[:1]) + k[1:]} {
		if bad == k {
			continue
		}
		if err := s.CheckKey(t.Context(), l.ID, bad); !errors.Is(err, lectures.ErrWrongKey) {
			t.Errorf("CheckKey(%q) = %v, want ErrWrongKey", bad, err)
		}
	}
	if err := s.CheckKey(t.Context(), "lec-nothere22", k); !errors.Is(err, lectures.ErrNotFound) {
		t.Errorf("CheckKey of an unknown lecture: %v", err)
	}
	// The window is configurable.
	wide := e.service(lectures.Options{Now: clk.Now, Early: 3 * time.Hour})
	if err := wide.CheckKey(t.Context(), l.ID, k); err != nil {
		t.Errorf("with a 3h early window: %v", err)
	}

	clk.Set(start)
	k2, err := s.RotateKey(t.Context(), lecturer, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckKey(t.Context(), l.ID, k); !errors.Is(err, lectures.ErrWrongKey) {
		t.Errorf("old key after RotateKey: %v, want ErrWrongKey", err)
	}
	if err := s.CheckKey(t.Context(), l.ID, k2); err != nil {
		t.Errorf("new key: %v", err)
	}
	if _, err := s.MarkLive(t.Context(), l.ID, lecturer.Name); err != nil {
		t.Fatal(err)
	}
	// A live lecture takes no second publisher.
	if err := s.CheckKey(t.Context(), l.ID, k2); !errors.Is(err, lectures.ErrNotScheduledNow) {
		t.Errorf("CheckKey of a live lecture: %v, want ErrNotScheduledNow", err)
	}
	c, kc := create(t, s, librarian, input(start))
	c, err = s.Cancel(t.Context(), librarian, c.ID, c.Version)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckKey(t.Context(), c.ID, kc); !errors.Is(err, lectures.ErrNotScheduledNow) {
		t.Errorf("CheckKey of a cancelled lecture: %v, want ErrNotScheduledNow", err)
	}
	if _, err := s.RotateKey(t.Context(), librarian, c.ID); !slices.Equal(codes(err), []string{"state:transition"}) {
		t.Errorf("RotateKey of a cancelled lecture: %v", err)
	}
}

func TestStateMachine(t *testing.T) {
	e := newEnv(t)
	start := today.Add(11*time.Hour + 30*time.Minute)
	clk := testwait.NewClock(start.Add(-5 * time.Minute))
	s := e.service(lectures.Options{Now: clk.Now})
	l, _ := create(t, s, librarian, input(start))
	transition := []string{"state:transition"}

	if _, err := s.MarkEnded(t.Context(), l.ID, "sfu", lectures.Audience{}); !slices.Equal(codes(err), transition) {
		t.Errorf("MarkEnded of a scheduled lecture: %v", err)
	}
	live, err := s.MarkLive(t.Context(), l.ID, lecturer.Name)
	if err != nil {
		t.Fatal(err)
	}
	if live.State != lectures.Live || live.WentLiveAt == nil || !live.WentLiveAt.Equal(clk.Now()) {
		t.Errorf("after MarkLive: %+v", live)
	}
	if _, err := s.Cancel(t.Context(), librarian, l.ID, live.Version); !slices.Equal(codes(err), transition) {
		t.Errorf("Cancel of a live lecture: %v", err)
	}
	if _, err := s.MarkReplayReady(t.Context(), l.ID, "worker", e.image.Item); !slices.Equal(codes(err), transition) {
		t.Errorf("MarkReplayReady of a live lecture: %v", err)
	}
	clk.Set(start.Add(95 * time.Minute))
	ended, err := s.MarkEnded(t.Context(), l.ID, "sfu", lectures.Audience{Peak: 120, Total: 345})
	if err != nil {
		t.Fatal(err)
	}
	if ended.State != lectures.Ended || ended.EndedAt == nil || ended.Peak != 120 || ended.Total != 345 {
		t.Errorf("after MarkEnded: %+v", ended)
	}
	if _, err := s.MarkLive(t.Context(), l.ID, lecturer.Name); !errors.Is(err, lectures.ErrNotScheduledNow) {
		t.Errorf("MarkLive of an ended lecture: %v, want ErrNotScheduledNow", err)
	}
	if _, err := s.MarkReplayReady(t.Context(), l.ID, "worker", "szm-nothere222"); !slices.Equal(codes(err), []string{"replay_item:unknown_item"}) {
		t.Errorf("MarkReplayReady with an unknown item: %v", err)
	}
	clk.Set(start.Add(3 * time.Hour))
	replay, err := s.MarkReplayReady(t.Context(), l.ID, "worker", e.image.Item)
	if err != nil {
		t.Fatal(err)
	}
	if replay.State != lectures.ReplayReady || replay.ReplayItem != e.image.Item || replay.Peak != 120 {
		t.Errorf("after MarkReplayReady: %+v", replay)
	}
	var states []lectures.State
	var by []string
	for _, h := range replay.History {
		states = append(states, h.State)
		by = append(by, h.By)
	}
	if want := []lectures.State{lectures.Scheduled, lectures.Live, lectures.Ended, lectures.ReplayReady}; !slices.Equal(states, want) {
		t.Errorf("History states %v, want %v", states, want)
	}
	if want := []string{librarian.Name, lecturer.Name, "sfu", "worker"}; !slices.Equal(by, want) {
		t.Errorf("History by %v, want %v", by, want)
	}
	if got := e.notes.count(l.ID); got != 4 {
		t.Errorf("notified %d times, want 4 (create and three transitions)", got)
	}
	for from, tos := range map[lectures.State][]lectures.State{
		lectures.Scheduled:   {lectures.Live, lectures.Cancelled},
		lectures.Live:        {lectures.Ended},
		lectures.Ended:       {lectures.ReplayReady},
		lectures.ReplayReady: {},
		lectures.Cancelled:   {},
	} {
		for _, to := range []lectures.State{lectures.Scheduled, lectures.Live, lectures.Ended, lectures.ReplayReady, lectures.Cancelled} {
			if got := lectures.CanMove(from, to); got != slices.Contains(tos, to) {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestMarkLiveOnce(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(10 * time.Minute)
	// Two server nodes see the same publisher connect at the same time.
	nodes := []*lectures.Service{e.service(lectures.Options{}), e.service(lectures.Options{})}
	l, _ := create(t, nodes[0], librarian, input(start))
	const tries = 6
	errs := make([]error, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() { _, errs[i] = nodes[i%2].MarkLive(context.Background(), l.ID, lecturer.Name) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lectures.ErrNotScheduledNow):
			t.Errorf("MarkLive: %v, want success or ErrNotScheduledNow", err)
		}
	}
	if won != 1 {
		t.Errorf("%d MarkLive calls succeeded, want exactly 1", won)
	}
	if got, _ := nodes[1].Get(t.Context(), l.ID); got.State != lectures.Live || len(got.History) != 2 {
		t.Errorf("lecture %s with history %+v, want live once", got.State, got.History)
	}
}

func TestLists(t *testing.T) {
	e := newEnv(t)
	now := today.Add(12 * time.Hour)
	clk := testwait.NewClock(now)
	s := e.service(lectures.Options{Now: clk.Now})
	other := e.service(lectures.Options{Now: clk.Now}) // another server node
	at := func(d time.Duration, minutes int) lectures.Input {
		in := input(now.Add(d))
		in.Minutes = minutes
		return in
	}
	// They were scheduled hours ago: a start in the past cannot be set now.
	clk.Set(now.Add(-4 * time.Hour))
	later, _ := create(t, s, librarian, at(48*time.Hour, 60))
	soon, _ := create(t, s, librarian, at(2*time.Hour, 60))
	late, _ := create(t, s, librarian, at(-10*time.Minute, 60)) // started, lecturer not there yet
	missed, _ := create(t, s, librarian, at(-3*time.Hour, 60))  // over, never went live
	cancelled, _ := create(t, s, librarian, at(3*time.Hour, 60))
	if _, err := s.Cancel(t.Context(), librarian, cancelled.ID, cancelled.Version); err != nil {
		t.Fatal(err)
	}
	onAir, _ := create(t, s, librarian, at(-5*time.Minute, 60))
	clk.Set(now)
	if _, err := s.MarkLive(t.Context(), onAir.ID, lecturer.Name); err != nil {
		t.Fatal(err)
	}
	must := func(_ lectures.Lecture, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var replays []string
	for _, d := range []time.Duration{-72 * time.Hour, -24 * time.Hour} {
		clk.Set(now.Add(d - time.Hour))
		r, _ := create(t, s, librarian, at(d, 60))
		clk.Set(now.Add(d))
		must(s.MarkLive(t.Context(), r.ID, lecturer.Name))
		must(s.MarkEnded(t.Context(), r.ID, "sfu", lectures.Audience{}))
		must(s.MarkReplayReady(t.Context(), r.ID, "worker", e.image.Item))
		replays = append([]string{r.ID}, replays...) // newest first
	}
	clk.Set(now)
	_ = missed

	check := func(name string, list func(context.Context) ([]lectures.Lecture, error), want []string) {
		t.Helper()
		got, err := list(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids := make([]string, len(got))
		for i, l := range got {
			ids[i] = l.ID
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s = %v, want %v", name, ids, want)
		}
	}
	for _, svc := range []*lectures.Service{s, other} {
		check("Upcoming", svc.Upcoming, []string{late.ID, soon.ID, later.ID})
		check("LiveNow", svc.LiveNow, []string{onAir.ID})
		check("Replays", svc.Replays, replays)
	}
	all, err := other.All(t.Context())
	if err != nil || len(all) != 8 {
		t.Errorf("All = %d lectures, %v; want 8", len(all), err)
	}
	// A change made on one node shows on the other at once.
	soon, _ = s.Get(t.Context(), soon.ID)
	if _, err := s.Cancel(t.Context(), librarian, soon.ID, soon.Version); err != nil {
		t.Fatal(err)
	}
	check("Upcoming after a cancellation elsewhere", other.Upcoming, []string{late.ID, later.ID})
	ids, err := other.IDs(t.Context())
	if err != nil || len(ids) != 8 {
		t.Errorf("IDs = %v, %v; want 8", ids, err)
	}
}

// A start in the past is refused when it is set (create, or an edit that moves it); a
// lecture whose time has come keeps its start through edits of its words.
func TestStartInThePast(t *testing.T) {
	e := newEnv(t)
	now := today.Add(12 * time.Hour)
	clk := testwait.NewClock(now)
	s := e.service(lectures.Options{Now: clk.Now})
	tests := []struct {
		name  string
		start time.Time
		codes []string
	}{
		{"two hours ago", now.Add(-2 * time.Hour), []string{"start:past"}},
		{"two minutes ago", now.Add(-2 * time.Minute), []string{"start:past"}},
		{"this minute (the form has no seconds)", now.Add(-40 * time.Second), nil},
		{"now", now, nil},
		{"tomorrow", now.Add(24 * time.Hour), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Create(t.Context(), librarian, input(tc.start))
			if got := codes(err); !slices.Equal(got, tc.codes) || err != nil && tc.codes == nil {
				t.Fatalf("Create = %v, want problems %v", err, tc.codes)
			}
		})
	}
	in := input(now.Add(10 * time.Minute))
	l, _ := create(t, s, librarian, in)
	clk.Set(now.Add(time.Hour)) // the lecture has started
	in.Title = "开讲后改的标题"
	l, err := s.Update(t.Context(), lecturer, l.ID, l.Version, in)
	if err != nil {
		t.Fatalf("editing the words of a started lecture: %v", err)
	}
	in.Start = now.Add(30 * time.Minute)
	if _, err := s.Update(t.Context(), lecturer, l.ID, l.Version, in); !slices.Equal(codes(err), []string{"start:past"}) {
		t.Errorf("moving the start into the past: %v, want start:past", err)
	}
}

// Going live outside the window says when the window was.
func TestWindowError(t *testing.T) {
	e := newEnv(t)
	start := today.Add(11*time.Hour + 30*time.Minute)
	clk := testwait.NewClock(start.Add(-3 * time.Hour))
	s := e.service(lectures.Options{Now: clk.Now})
	l, _ := create(t, s, librarian, input(start))
	_, err := s.MarkLive(t.Context(), l.ID, lecturer.Name)
	var we *lectures.WindowError
	if !errors.Is(err, lectures.ErrNotScheduledNow) || !errors.As(err, &we) {
		t.Fatalf("MarkLive too early: %v, want a WindowError", err)
	}
	from, to := s.Window(l)
	if !we.From.Equal(from) || !we.To.Equal(to) || we.State != lectures.Scheduled {
		t.Errorf("WindowError %+v, want %v–%v of a scheduled lecture", we, from, to)
	}
}

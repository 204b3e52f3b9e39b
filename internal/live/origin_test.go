package live_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/accounts"
	"github.com/shizuishan/culturecloud/internal/app"
	"github.com/shizuishan/culturecloud/internal/lectures"
	"github.com/shizuishan/culturecloud/internal/live"
	"github.com/shizuishan/culturecloud/internal/testenv"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestSweepEndsLecturesOfLostNodes: a lecture left live by a node that crashed (no origin
// key in Redis) is ended by another node's sweep; one whose origin is alive is left alone.
func TestSweepEndsLecturesOfLostNodes(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	core, err := app.Connect(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	admin := accounts.Account{Name: "sweeper", Role: accounts.Admin}
	if _, err := core.Accounts.Create(ctx, admin, accounts.NewAccount{Name: "lec.sweep", DisplayName: "讲师", Password: "Sweep-The-Floor-2026",
		Role: accounts.Lecturer, Unit: "szs-culture-centre"}); err != nil {
		t.Fatal(err)
	}
	goLive := func(title string) lectures.Lecture {
		l, _, err := core.Lectures.Create(ctx, admin, lectures.Input{Title: title, Lecturer: lectures.Lecturer{Name: "讲师", Account: "lec.sweep"},
			Unit: "szs-culture-centre", Start: time.Now(), Minutes: 60, Visibility: lectures.Public})
		if err != nil {
			t.Fatal(err)
		}
		if l, err = core.Lectures.MarkLive(ctx, l.ID, "node-a"); err != nil {
			t.Fatal(err)
		}
		return l
	}
	orphan := goLive("断线的讲座")
	alive := goLive("仍在直播的讲座")
	origins := live.Origins{RDB: core.Redis, KeyPrefix: cfg.Redis.KeyPrefix, Node: "node-b", TTL: time.Minute}
	// Node a is still there for the second lecture.
	if err := core.Redis.Set(ctx, cfg.Redis.KeyPrefix+"origin:"+alive.ID, "node-a", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	svc := live.New(core.Lectures, core.Room, nil, live.Options{EndGrace: 50 * time.Millisecond, Origins: origins, Log: log})
	svc.Sweep(ctx)
	testwait.UntilState(t, "the orphaned lecture ends", func() (bool, string) {
		l, err := core.Lectures.Get(ctx, orphan.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l.State == lectures.Ended, string(l.State)
	})
	svc.Close()
	if l, err := core.Lectures.Get(ctx, alive.ID); err != nil || l.State != lectures.Live {
		t.Fatalf("the lecture with a living origin: %v %v", l.State, err)
	}
}

// TestSweepEndsAtLastPacket: a lecture whose node crashed ends at the time its publisher
// last sent media (as its origin last recorded it), not when the sweep noticed.
func TestSweepEndsAtLastPacket(t *testing.T) {
	cfg := testenv.Config(t, testenv.Shared(t))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	core, err := app.Connect(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	ctx := context.Background()
	if err := core.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	admin := accounts.Account{Name: "sweeper", Role: accounts.Admin}
	if _, err := core.Accounts.Create(ctx, admin, accounts.NewAccount{Name: "lec.crash", DisplayName: "讲师", Password: "Sweep-The-Floor-2026",
		Role: accounts.Lecturer, Unit: "szs-culture-centre"}); err != nil {
		t.Fatal(err)
	}
	l, _, err := core.Lectures.Create(ctx, admin, lectures.Input{Title: "节点崩溃的讲座", Lecturer: lectures.Lecturer{Name: "讲师", Account: "lec.crash"},
		Unit: "szs-culture-centre", Start: time.Now(), Minutes: 60, Visibility: lectures.Public})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = core.Lectures.MarkLive(ctx, l.ID, "node-a"); err != nil {
		t.Fatal(err)
	}
	// Node a last saw media 40 s ago and is gone; its origin key has not run out yet.
	lastPacket := time.Now().Add(-40 * time.Second).Truncate(time.Second)
	origins := live.Origins{RDB: core.Redis, KeyPrefix: cfg.Redis.KeyPrefix, Node: "node-b", TTL: time.Minute}
	if err := core.Redis.Set(ctx, cfg.Redis.KeyPrefix+"origin:"+l.ID, "node-a", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := core.Redis.Set(ctx, cfg.Redis.KeyPrefix+"origin:seen:"+l.ID, lastPacket.UnixMilli(), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	svc := live.New(core.Lectures, core.Room, nil, live.Options{EndGrace: 10 * time.Second, Origins: origins, Log: log})
	defer svc.Close()
	svc.Sweep(ctx)
	var got lectures.Lecture
	testwait.UntilState(t, "the crashed node's lecture ends", func() (bool, string) {
		if got, err = core.Lectures.Get(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		return got.State == lectures.Ended, string(got.State)
	})
	if got.EndedAt == nil || !got.EndedAt.Equal(lastPacket.UTC()) {
		t.Fatalf("ended at %v, want the last packet's time %v", got.EndedAt, lastPacket.UTC())
	}
}

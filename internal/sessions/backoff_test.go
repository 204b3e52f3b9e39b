package sessions_test

import (
	"testing"
	"time"

	"github.com/shizuishan/culturecloud/internal/sessions"
	"github.com/shizuishan/culturecloud/internal/testwait"
)

func TestBackoff(t *testing.T) {
	e := newEnv(t)
	clk := testwait.NewClock(time.Now())
	b := sessions.NewBackoff(e.rdb, e.prefix, sessions.BackoffOptions{
		Free: 2, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour, Now: clk.Now})
	ctx := t.Context()
	const key = "login:pair:zhang.san:ip:203.0.113.7"
	wait := func(want time.Duration, when string) {
		t.Helper()
		got, err := b.Wait(ctx, key)
		if err != nil || got != want {
			t.Fatalf("%s: Wait = %v, %v; want %v", when, got, err, want)
		}
	}
	fail := func() {
		t.Helper()
		if err := b.Fail(ctx, key); err != nil {
			t.Fatalf("Fail: %v", err)
		}
	}
	wait(0, "before any failure")
	fail()
	fail()
	wait(0, "after the free failures")
	// Each failure beyond the free ones doubles the delay, up to Max.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		fail()
		wait(want, "right after failure "+string(rune('3'+i)))
		clk.Add(want / 2)
		wait(want-want/2, "half-way through the delay")
		clk.Add(want - want/2)
		wait(0, "when the delay is over")
	}
	if got, _ := b.Wait(ctx, "login:pair:zhang.san:ip:198.51.100.1"); got != 0 {
		t.Errorf("another client of the same account waits %v", got)
	}
	// Failures are forgotten a while after the last one.
	fail()
	clk.Add(time.Hour)
	wait(0, "an hour after the last failure")
	fail()
	wait(0, "the first failure after they were forgotten")
	fail()
	fail()
	wait(time.Second, "the first delayed failure again")
	if err := b.Reset(ctx, key); err != nil {
		t.Fatal(err)
	}
	wait(0, "after Reset")
	for _, k := range e.keys(t) {
		if ttl, err := e.rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("backoff key %s has TTL %v (%v); every key must expire", k, ttl, err)
		}
	}
}

func TestDevices(t *testing.T) {
	d := sessions.NewDevices([]byte("device-secret-0123456789abcdef01"))
	other := sessions.NewDevices([]byte("another-secret-0123456789abcdef0"))
	cookie := d.Issue("zhang.san")
	id, ok := d.Check(cookie, "zhang.san")
	if !ok || id == "" {
		t.Fatalf("Check of a fresh cookie = %q, %v", id, ok)
	}
	if again := d.Issue("zhang.san"); again == cookie {
		t.Error("two devices got the same cookie")
	}
	for name, tc := range map[string]struct{ cookie, account string }{
		"another account":      {cookie, "li.si"},
		"another secret":       {other.Issue("zhang.san"), "zhang.san"},
		"altered":              {cookie[:len(cookie)-1] + map[bool]string{true: "1", false: "0"}[cookie[len(cookie)-1] == '0'], "zhang.san"},
		"empty":                {"", "zhang.san"},
		"no signature":         {"zhang.san.abcdef", "zhang.san"},
		"far too long":         {cookie + string(make([]byte, 500)), "zhang.san"},
		"account in the value": {"li.si" + cookie[len("zhang.san"):], "li.si"},
	} {
		if id, ok := d.Check(tc.cookie, tc.account); ok {
			t.Errorf("%s: Check = %q, true; want refused", name, id)
		}
	}
}

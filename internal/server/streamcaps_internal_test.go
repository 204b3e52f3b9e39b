package server

import (
	"errors"
	"testing"

	"github.com/shizuishan/culturecloud/internal/live"
)

func TestStreamCaps(t *testing.T) {
	k := newStreamCaps(2, 3)
	take := func(ip string) (func(), *live.CapError) {
		t.Helper()
		release, err := k.take(ip)
		var capErr *live.CapError
		if err != nil && !errors.As(err, &capErr) {
			t.Fatalf("take(%s): %v", ip, err)
		}
		return release, capErr
	}
	a1, _ := take("a")
	_, _ = take("a")
	if _, refused := take("a"); refused == nil || refused.Node || refused.After <= 0 {
		t.Fatalf("a third stream of one address: %+v, want the address's cap", refused)
	}
	_, _ = take("b")
	if _, refused := take("c"); refused == nil || !refused.Node {
		t.Fatalf("a fourth stream of the node: %+v, want the node's cap", refused)
	}
	a1()
	a1() // releasing twice frees one place only
	if _, refused := take("c"); refused != nil {
		t.Fatalf("after a release: %+v", refused)
	}
	if _, refused := take("d"); refused == nil || !refused.Node {
		t.Fatalf("a double release freed two places: %+v", refused)
	}
}

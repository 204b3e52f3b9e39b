package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shizuishan/culturecloud/internal/testwait"
)

// reviewedJSON is an item with its review record.
type reviewedJSON struct {
	itemJSON
	Review struct {
		Submitted *struct {
			By string `json:"by"`
		} `json:"submitted"`
		Approvals []struct {
			By string `json:"by"`
		} `json:"approvals"`
		Rejected *struct {
			By     string `json:"by"`
			Reason string `json:"reason"`
		} `json:"rejected"`
	} `json:"review"`
}

type queueJSON struct {
	ToReview []struct {
		Kind    string `json:"kind"`
		ID      string `json:"id"`
		Pending int    `json:"pending"`
	} `json:"to_review"`
	Mine []struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Rejected *struct {
			Reason string `json:"reason"`
		} `json:"rejected"`
	} `json:"mine"`
}

func (q queueJSON) toReview(id string) bool {
	for _, e := range q.ToReview {
		if e.ID == id {
			return true
		}
	}
	return false
}

// TestReviewBeforePublication: a librarian cannot publish her own item; another member of
// staff with rights over its unit approves it, or sends it back with a reason she sees; a
// unit with two levels needs two different reviewers, and one with none publishes directly.
func TestReviewBeforePublication(t *testing.T) {
	srv := startServer(t)
	admin, dwk, hn := staffClients(t, srv)
	rev := dwk.reviewer
	admin.want(http.StatusCreated, "POST", "/api/v1/accounts", map[string]any{"name": "lib.dwk2", "display_name": "大武口审核员",
		"password": "Dawukou-Reviewer-9", "role": "librarian", "unit": "dwk"})
	dwk2 := newClient(t, srv.URL)
	dwk2.login("lib.dwk2", "Dawukou-Reviewer-9")
	anon := newClient(t, srv.URL)

	it := dwk.move(dwk.createItem(sampleItem("大武口老矿区照片", nil)), "in_review")
	decide := func(c *client, it itemJSON, body map[string]any, status int) reviewedJSON {
		t.Helper()
		var out reviewedJSON
		r := c.want(status, "POST", "/api/v1/items/"+it.ID+"/review", body, "If-Match", `"`+it.Version+`"`)
		if status == http.StatusOK {
			r.json(t, &out)
		} else {
			p := r.problem(t)
			out.Status, _ = p["type"].(string)
		}
		return out
	}
	approve := map[string]any{"decision": "approve"}
	refusals := []struct {
		name   string
		c      *client
		body   map[string]any
		status int
		typ    string
	}{
		{"the submitter approves her own item", dwk, approve, http.StatusForbidden, "/problems/review_own_work"},
		{"the submitter rejects her own item", dwk, map[string]any{"decision": "reject", "reason": "再改改"}, http.StatusForbidden, "/problems/review_own_work"},
		{"another district's librarian", hn, approve, http.StatusForbidden, "/problems/other_unit"}, // told whose it is
		{"a rejection without a reason", dwk2, map[string]any{"decision": "reject", "reason": "  "}, http.StatusUnprocessableEntity, "/problems/validation"},
		{"an unknown decision", dwk2, map[string]any{"decision": "maybe"}, http.StatusUnprocessableEntity, "/problems/validation"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.c, it, tt.body, tt.status); got.Status != tt.typ {
				t.Fatalf("problem type %q, want %q", got.Status, tt.typ)
			}
		})
	}
	if p := dwk.want(http.StatusForbidden, "POST", "/api/v1/items/"+it.ID+"/status", map[string]any{"status": "published"},
		"If-Match", `"`+it.Version+`"`).problem(t); p["type"] != "/problems/review_required" {
		t.Fatalf("publishing by the status endpoint: %v", p)
	}

	// The queue: the second librarian sees the item to review, the submitter sees it as hers.
	// (The queue finds submissions through the staff index, which follows within seconds.)
	var q queueJSON
	testwait.Until(t, "the reviewer's queue lists the item", func() bool {
		dwk2.want(http.StatusOK, "GET", "/api/v1/review/queue", nil).json(t, &q)
		return q.toReview(it.ID)
	})
	dwk.want(http.StatusOK, "GET", "/api/v1/review/queue", nil).json(t, &q)
	if q.toReview(it.ID) || len(q.Mine) != 1 || q.Mine[0].ID != it.ID || q.Mine[0].Status != "in_review" {
		t.Fatalf("submitter's queue %+v", q)
	}

	// Sent back with a reason, which the submitter sees on the item and in her queue.
	const reason = "题名中的年代有误，请核对后再提交。"
	back := decide(dwk2, it, map[string]any{"decision": "reject", "reason": reason}, http.StatusOK)
	if back.Status != "draft" || back.Review.Rejected == nil || back.Review.Rejected.By != "lib.dwk2" {
		t.Fatalf("rejected item %+v", back)
	}
	var seen reviewedJSON
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil).json(t, &seen)
	if seen.Review.Rejected == nil || seen.Review.Rejected.Reason != reason {
		t.Fatalf("the submitter sees %+v", seen.Review)
	}
	anon.want(http.StatusNotFound, "GET", "/api/v1/items/"+it.ID, nil)
	testwait.Until(t, "the submitter's queue shows the reason", func() bool {
		var mine queueJSON
		dwk.want(http.StatusOK, "GET", "/api/v1/review/queue", nil).json(t, &mine)
		return len(mine.Mine) == 1 && mine.Mine[0].Rejected != nil && mine.Mine[0].Rejected.Reason == reason
	})

	// Two levels in the district: two different reviewers, neither the submitter.
	admin.want(http.StatusOK, "PATCH", "/api/v1/units/dwk", map[string]any{"review": "two"})
	it = dwk.move(back.itemJSON, "in_review")
	first := decide(dwk2, it, approve, http.StatusOK)
	if first.Status != "in_review" || len(first.Review.Approvals) != 1 || first.Review.Rejected != nil {
		t.Fatalf("after the first approval %+v", first)
	}
	dwk2.want(http.StatusOK, "GET", "/api/v1/review/queue", nil).json(t, &q)
	if q.toReview(it.ID) {
		t.Fatal("the first reviewer is asked again")
	}
	testwait.Until(t, "the second reviewer's queue lists the item, one approval missing", func() bool {
		rev.want(http.StatusOK, "GET", "/api/v1/review/queue", nil).json(t, &q)
		return q.toReview(it.ID) && q.ToReview[0].Pending == 1
	})
	if got := decide(dwk2, first.itemJSON, approve, http.StatusConflict); got.Status != "/problems/review_repeated" {
		t.Fatalf("the same reviewer twice: %q", got.Status)
	}
	pub := decide(rev, first.itemJSON, approve, http.StatusOK)
	if pub.Status != "published" || len(pub.Review.Approvals) != 2 {
		t.Fatalf("after the second approval %+v", pub)
	}
	anon.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID, nil)

	var hist struct {
		Versions []struct{ User, Message string } `json:"versions"`
	}
	dwk.want(http.StatusOK, "GET", "/api/v1/items/"+it.ID+"/history", nil).json(t, &hist)
	var steps []string
	for _, v := range hist.Versions[:5] {
		steps = append(steps, v.User+": "+v.Message)
	}
	want := []string{"rev.szs: review: approved 2/2, status: in_review → published", "lib.dwk2: review: approved 1/2",
		"lib.dwk: status: draft → in_review", "lib.dwk2: review: rejected (" + reason + ")", "lib.dwk: status: draft → in_review"}
	if strings.Join(steps, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}

	// Withdrawn content comes back only through review too.
	out := dwk.move(pub.itemJSON, "withdrawn")
	dwk.want(http.StatusForbidden, "POST", "/api/v1/items/"+it.ID+"/status", map[string]any{"status": "published"},
		"If-Match", `"`+out.Version+`"`).problem(t)

	// A unit whose policy is none publishes without a second person.
	admin.want(http.StatusOK, "PATCH", "/api/v1/units/hn", map[string]any{"review": "none"})
	hn.move(hn.move(hn.createItem(sampleItem("惠农区老照片", map[string]any{"unit": "hn-library"})), "in_review"), "published")
}

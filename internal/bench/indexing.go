package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/shizuishan/culturecloud/search"
)

// indexRounds is how many items are published and withdrawn to time the index's lag.
const indexRounds = 20

// measureIndexing times how long a published item takes to become searchable through the
// product, and a withdrawn one to disappear. Goal: both within 2 s. The baseline is the same
// change made straight in Meilisearch, in the same round and the same index of 100,000
// records: a probe document added, searched for until found, then deleted. The slowest
// rounds' Meilisearch tasks are logged, to show where the time went.
func measureIndexing(ctx context.Context, e *env) ([]Row, error) {
	e.log("indexing: publishing and withdrawing %d items", indexRounds)
	sc := search.Connect(e.cfg.Meilisearch.URL, e.cfg.Meilisearch.MasterKey.Reveal(), e.cfg.Meilisearch.IndexPrefix, e.cfg.Meilisearch.Timeout)
	var appear, vanish, direct []time.Duration
	var windows [][2]time.Time // each round's publish → withdrawn gone
	for i := range indexRounds {
		// The probe goes first in every other round, so that neither side always meets
		// Meilisearch right after the other's writes.
		if i%2 == 1 {
			d, err := directLag(ctx, sc, i)
			if err != nil {
				return nil, err
			}
			direct = append(direct, d)
		}
		token := randomToken()
		it, err := e.api.createItem(ctx, "索引延迟 "+token)
		if err != nil {
			return nil, err
		}
		var next item
		if err := e.api.do(ctx, http.MethodPost, "/api/v1/items/"+it.ID+"/status", map[string]string{"status": "in_review"},
			&next, http.StatusOK, "If-Match", strconv.Quote(it.Version)); err != nil {
			return nil, err
		}
		start := time.Now()
		windows = append(windows, [2]time.Time{start})
		// The reviewer's approval is what publishes (先审后发).
		if err := e.api.reviewer.do(ctx, http.MethodPost, "/api/v1/items/"+next.ID+"/review", map[string]string{"decision": "approve"},
			&next, http.StatusOK, "If-Match", strconv.Quote(next.Version)); err != nil {
			return nil, err
		}
		if err := e.api.waitSearch(ctx, token, true); err != nil {
			return nil, err
		}
		appear = append(appear, time.Since(start))
		start = time.Now()
		if err := e.api.do(ctx, http.MethodPost, "/api/v1/items/"+next.ID+"/status", map[string]string{"status": "withdrawn"},
			&next, http.StatusOK, "If-Match", strconv.Quote(next.Version)); err != nil {
			return nil, err
		}
		if err := e.api.waitSearch(ctx, token, false); err != nil {
			return nil, err
		}
		vanish = append(vanish, time.Since(start))
		windows[i][1] = time.Now()
		if i%2 == 0 {
			d, err := directLag(ctx, sc, i)
			if err != nil {
				return nil, err
			}
			direct = append(direct, d)
		}
	}
	p50a, maxA := percentile(appear, 0.5), slices.Max(appear)
	p50v, maxV := percentile(vanish, 0.5), slices.Max(vanish)
	p50d, maxD := percentile(direct, 0.5), slices.Max(direct)
	base := msText(p50d) + " / " + msText(maxD)
	slowest := func(ds []time.Duration) int { return slices.Index(ds, slices.Max(ds)) + 1 }
	for _, round := range []int{slowest(appear), slowest(vanish)} {
		e.logTasks(ctx, round, windows[round-1])
	}
	how := fmt.Sprintf("%d items: publish (API) → first search through the API that finds it (slowest: round %d); "+
		"baseline: in each round (before the item in every other round), a probe document added straight to the same Meilisearch index "+
		"and searched for there until found "+
		"(slowest: round %d)", indexRounds, slowest(appear), slowest(direct))
	return []Row{
		{Measure: "Published item searchable (p50 / max)", Product: msText(p50a) + " / " + msText(maxA), Baseline: base,
			Ratio: ratio(float64(p50a), float64(p50d)), Goal: "within 2 s", Result: msText(maxA) + " max: " + verdict(maxA <= 2*time.Second), Note: how},
		{Measure: "Withdrawn item gone (p50 / max)", Product: msText(p50v) + " / " + msText(maxV), Baseline: base,
			Ratio: ratio(float64(p50v), float64(p50d)), Goal: "within 2 s", Result: msText(maxV) + " max: " + verdict(maxV <= 2*time.Second),
			Note: fmt.Sprintf("withdraw (API) → first search through the API that no longer finds it (slowest: round %d)", slowest(vanish))},
	}, nil
}

// directLag adds a probe document straight to the product's items index, searches for it
// there until found, and deletes it again: the floor of what the product can reach.
func directLag(ctx context.Context, sc *search.Client, round int) (time.Duration, error) {
	token := randomToken()
	doc := search.ItemDoc{ID: fmt.Sprintf("lag-probe-%d", round), Title: "索引延迟 " + token, Type: "StillImage", Theme: "history"}
	start := time.Now()
	if _, err := sc.Upsert(ctx, search.ItemsIndex, []search.ItemDoc{doc}); err != nil {
		return 0, err
	}
	for {
		res, err := sc.Search(ctx, search.ItemsIndex, search.Query{Text: token, Limit: 1})
		if err != nil {
			return 0, err
		}
		if res.Total > 0 {
			break
		}
		if time.Since(start) > time.Minute {
			return 0, fmt.Errorf("probe %s not found in Meilisearch after a minute", token)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	task, err := sc.Delete(ctx, search.ItemsIndex, doc.ID)
	if err != nil {
		return 0, err
	}
	return took, sc.Wait(ctx, task)
}

// waitSearch polls the public search until the token is found (or, with want false, gone).
func (c *apiClient) waitSearch(ctx context.Context, token string, want bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var res struct {
			Total int `json:"total"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/items?q="+url.QueryEscape(token), nil, &res, http.StatusOK); err != nil {
			return err
		}
		if (res.Total > 0) == want {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("search for %s: still %v after 60s", token, !want)
}

func randomToken() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "zq" + hex.EncodeToString(b)
}

func msText(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// logTasks logs the Meilisearch tasks enqueued during a round, so that a slow round shows
// what the search engine was busy with.
func (e *env) logTasks(ctx context.Context, round int, window [2]time.Time) {
	// Whole seconds, widened: Meilisearch's date filters refuse some fractional forms.
	q := url.Values{"limit": {"50"}, "afterEnqueuedAt": {window[0].Add(-time.Second).UTC().Format(time.RFC3339)},
		"beforeEnqueuedAt": {window[1].Add(time.Second).UTC().Format(time.RFC3339)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.cfg.Meilisearch.URL+"/tasks?"+q.Encode(), nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+e.cfg.Meilisearch.MasterKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.log("indexing: round %d: tasks not read: %v", round, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		e.log("indexing: round %d: tasks not read: %s: %s", round, resp.Status, body)
		return
	}
	var res struct {
		Results []struct {
			UID        int64          `json:"uid"`
			Index      string         `json:"indexUid"`
			Type       string         `json:"type"`
			Status     string         `json:"status"`
			Details    map[string]any `json:"details"`
			Duration   string         `json:"duration"`
			EnqueuedAt time.Time      `json:"enqueuedAt"`
			StartedAt  time.Time      `json:"startedAt"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		e.log("indexing: round %d: tasks not decoded: %v", round, err)
		return
	}
	e.log("indexing: round %d took %v; Meilisearch tasks enqueued then (newest first):", round, window[1].Sub(window[0]).Round(time.Millisecond))
	for _, t := range res.Results {
		e.log("  task %d %s %s on %s: waited %v, ran %s, %v", t.UID, t.Type, t.Status, t.Index,
			t.StartedAt.Sub(t.EnqueuedAt).Round(time.Millisecond), t.Duration, t.Details)
	}
}

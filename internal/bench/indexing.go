package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
// product, and a withdrawn one to disappear, against the lag of one document added straight
// to Meilisearch and searched for there. Goal: both within 2 s.
func measureIndexing(ctx context.Context, e *env) ([]Row, error) {
	e.log("indexing: publishing and withdrawing %d items", indexRounds)
	var appear, vanish, direct []time.Duration
	for range indexRounds {
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
		if err := e.api.do(ctx, http.MethodPost, "/api/v1/items/"+next.ID+"/status", map[string]string{"status": "published"},
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
	}
	sc := search.Connect(e.cfg.Meilisearch.URL, e.cfg.Meilisearch.MasterKey.Reveal(), e.cfg.Meilisearch.IndexPrefix, e.cfg.Meilisearch.Timeout)
	ix, _ := search.IndexNamed(search.ItemsIndex)
	ix.Name = "lagprobe"
	if err := sc.Setup(ctx, []search.Index{ix}); err != nil {
		return nil, err
	}
	for i := range indexRounds {
		token := randomToken()
		start := time.Now()
		doc := search.ItemDoc{ID: fmt.Sprintf("probe-%d", i), Title: "索引延迟 " + token, Type: "StillImage", Theme: "history"}
		task, err := sc.Upsert(ctx, ix.Name, []search.ItemDoc{doc})
		if err != nil {
			return nil, err
		}
		if err := sc.Wait(ctx, task); err != nil {
			return nil, err
		}
		direct = append(direct, time.Since(start))
	}
	p50a, maxA := percentile(appear, 0.5), slices.Max(appear)
	p50v, maxV := percentile(vanish, 0.5), slices.Max(vanish)
	p50d := percentile(direct, 0.5)
	how := fmt.Sprintf("%d items: publish (API) → first search through the API that finds it; baseline: one document added straight to Meilisearch until its task is done", indexRounds)
	return []Row{
		{Measure: "Published item searchable (p50 / max)", Product: msText(p50a) + " / " + msText(maxA), Baseline: msText(p50d),
			Ratio: ratio(float64(p50a), float64(p50d)), Goal: "within 2 s", Result: msText(maxA) + " max: " + verdict(maxA <= 2*time.Second), Note: how},
		{Measure: "Withdrawn item gone (p50 / max)", Product: msText(p50v) + " / " + msText(maxV), Baseline: msText(p50d),
			Ratio: ratio(float64(p50v), float64(p50d)), Goal: "within 2 s", Result: msText(maxV) + " max: " + verdict(maxV <= 2*time.Second),
			Note: "withdraw (API) → first search through the API that no longer finds it"},
	}, nil
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

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/shizuishan/culturecloud/search"
)

// recordBatch keeps each upload of generated records to a few megabytes (documents are about
// 4.5 KB with their pinyin), well inside the client's timeout on a loaded machine.
const recordBatch = 1000

// query is one search of the fixed list: text and facet filters, as URL parameters of
// GET /api/v1/items.
type query struct {
	text    string
	filters [][2]string // name, value
}

// queries mixes Chinese words, pinyin (syllables joined and initials) and facet filters.
var queries = []query{
	{text: "剪纸"},
	{text: "黄河"},
	{text: "支宁"},
	{text: "洗煤厂"},
	{text: "贺兰山岩画"},
	{text: "宁夏花儿"},
	{text: "老照片", filters: [][2]string{{"theme", "migrant"}}},
	{text: "石炭井", filters: [][2]string{{"type", "StillImage"}}},
	{text: "沙湖", filters: [][2]string{{"district", "pl"}}},
	{text: "jianzhi"},
	{text: "huanghe"},
	{text: "shitanjing"},
	{text: "zhining"},
	{text: "szs"},
	{text: "hlsyh"},
	{text: "niwawu", filters: [][2]string{{"theme", "intangible"}}},
	{text: "煤矿", filters: [][2]string{{"theme", "industrial"}, {"decade", "1960"}}},
	{text: "", filters: [][2]string{{"theme", "intangible"}}},
	{text: "口述史", filters: [][2]string{{"type", "Sound"}}},
	{text: "档案", filters: [][2]string{{"district", "dwk"}}},
	{text: "上海知青", filters: [][2]string{{"decade", "1960"}}},
	{text: "文化大篷车"},
	{text: "书法", filters: [][2]string{{"type", "Text"}, {"has_media", "true"}}},
	{text: "地方志", filters: [][2]string{{"theme", "history"}, {"format", "application/pdf"}}},
}

// productURL is the public search as the web page asks for it.
func (q query) productURL(base string) string {
	v := url.Values{}
	if q.text != "" {
		v.Set("q", q.text)
	}
	for _, f := range q.filters {
		v.Set(f[0], f[1])
	}
	return base + "/api/v1/items?" + v.Encode()
}

// directBody is the request search.SearchItems sends to Meilisearch for the same query:
// the same parsing and the same request builder, sent without the product around it.
func (q query) directBody() ([]byte, error) {
	get := func(name string) string {
		if name == "q" {
			return q.text
		}
		for _, f := range q.filters {
			if f[0] == name {
				return f[1]
			}
		}
		return ""
	}
	iq, problems := search.ParseItemQuery(get)
	if len(problems) > 0 {
		return nil, fmt.Errorf("bench query %q: %v", q.text, problems)
	}
	req := search.ItemsRequest(iq, nil)
	req.Query = iq.Text
	return json.Marshal(req)
}

func measureSearch(ctx context.Context, e *env, o Options) ([]Row, error) {
	sc := search.Connect(e.cfg.Meilisearch.URL, e.cfg.Meilisearch.MasterKey.Reveal(), e.cfg.Meilisearch.IndexPrefix,
		e.cfg.Meilisearch.Timeout)
	if err := loadRecords(ctx, e, sc, o.Records); err != nil {
		return nil, err
	}

	client := &http.Client{Transport: newTransport(4), Timeout: 30 * time.Second}
	if err := waitIdle(ctx, client, e.cfg.Meilisearch.URL, e.cfg.Meilisearch.MasterKey.Reveal()); err != nil {
		return nil, err
	}
	directURL := e.cfg.Meilisearch.URL + "/indexes/" + sc.UID(search.ItemsIndex) + "/search"
	key := e.cfg.Meilisearch.MasterKey.Reveal()
	bodies := make([][]byte, len(queries))
	for i, q := range queries {
		b, err := q.directBody()
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	product := func(i int) (time.Duration, []byte, error) {
		return timed(ctx, client, http.MethodGet, queries[i].productURL(e.api.base), nil, "")
	}
	direct := func(i int) (time.Duration, []byte, error) {
		return timed(ctx, client, http.MethodPost, directURL, bodies[i], key)
	}

	// One untimed round: warms both paths and checks that they find the same.
	withHits := 0
	for i := range queries {
		_, pb, err := product(i)
		if err != nil {
			return nil, err
		}
		_, db, err := direct(i)
		if err != nil {
			return nil, err
		}
		var p struct {
			Total int64 `json:"total"`
		}
		var d struct {
			Total int64 `json:"totalHits"`
		}
		if err := json.Unmarshal(pb, &p); err != nil {
			return nil, fmt.Errorf("product answer: %w", err)
		}
		if err := json.Unmarshal(db, &d); err != nil {
			return nil, fmt.Errorf("meilisearch answer: %w", err)
		}
		if p.Total != d.Total {
			return nil, fmt.Errorf("query %q %v: product found %d, Meilisearch %d", queries[i].text, queries[i].filters, p.Total, d.Total)
		}
		if p.Total > 0 {
			withHits++
		}
	}

	e.log("search: %d queries through the API and %d straight to Meilisearch, alternating", o.Queries, o.Queries)
	var pt, dt []time.Duration
	for n := range o.Queries {
		i := n % len(queries)
		first, second := product, direct
		if n%2 == 1 {
			first, second = direct, product
		}
		a, _, err := first(i)
		if err != nil {
			return nil, err
		}
		b, _, err := second(i)
		if err != nil {
			return nil, err
		}
		if n%2 == 1 {
			a, b = b, a
		}
		pt, dt = append(pt, a), append(dt, b)
	}
	p50, d50 := percentile(pt, 0.50), percentile(dt, 0.50)
	p99, d99 := percentile(pt, 0.99), percentile(dt, 0.99)
	added50 := ms(p50) - ms(d50)
	note := fmt.Sprintf("GET /api/v1/items?q=… vs POST /indexes/%s/search with the body search.SearchItems sends "+
		"(facets, highlight, crop, filter, hitsPerPage 20, matchingStrategy all), plain net/http, keep-alive, no compression; "+
		"%d queries from a fixed list of %d (Chinese, pinyin, facet filters; %d of them with hits, same totals both ways), "+
		"one at a time, alternating which side goes first; times include reading the whole answer",
		sc.UID(search.ItemsIndex), o.Queries, len(queries), withHits)
	return []Row{
		{
			Measure: fmt.Sprintf("Search p50, %d Chinese records", o.Records),
			Product: fmt.Sprintf("%.2f ms", ms(p50)), Baseline: fmt.Sprintf("%.2f ms", ms(d50)),
			Ratio: ratio(ms(p50), ms(d50)), Goal: "≤ 2 ms added at p50",
			Result: fmt.Sprintf("%+.2f ms: %s", added50, verdict(added50 <= 2)), Note: note,
		},
		{
			Measure: "Search p99, same run",
			Product: fmt.Sprintf("%.2f ms", ms(p99)), Baseline: fmt.Sprintf("%.2f ms", ms(d99)),
			Ratio: ratio(ms(p99), ms(d99)), Goal: "— (report)",
			Result: fmt.Sprintf("%+.2f ms", ms(p99)-ms(d99)), Note: "the same queries as the row above",
		},
	}, nil
}

// loadRecords adds n generated documents straight to the product's items index, in batches,
// generating the next batch while Meilisearch indexes the last one.
func loadRecords(ctx context.Context, e *env, sc *search.Client, n int) error {
	start := time.Now()
	var pending int64 = -1
	for from := 0; from < n; from += recordBatch {
		to := min(from+recordBatch, n)
		docs := records(from, to)
		if pending >= 0 {
			if err := sc.Wait(ctx, pending); err != nil {
				return err
			}
		}
		task, err := sc.Upsert(ctx, search.ItemsIndex, docs)
		if err != nil {
			return err
		}
		pending = task
		e.log("search: %d/%d records generated and sent", to, n)
	}
	if err := sc.Wait(ctx, pending); err != nil {
		return err
	}
	e.log("search: %d records indexed in %s", n, time.Since(start).Round(100*time.Millisecond))
	return nil
}

// waitIdle waits until Meilisearch has no task enqueued or processing (the product's own
// workers may have queued some), so that no indexing runs while queries are timed.
func waitIdle(ctx context.Context, c *http.Client, base, key string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, data, err := timed(ctx, c, http.MethodGet, base+"/tasks?statuses=enqueued,processing&limit=1", nil, key)
		if err != nil {
			return err
		}
		var res struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return fmt.Errorf("meilisearch tasks: %w", err)
		}
		if len(res.Results) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("meilisearch still busy after 2 minutes")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// timed sends one request and reads the whole answer; the time covers both.
func timed(ctx context.Context, c *http.Client, method, u string, body []byte, key string) (time.Duration, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, nil, fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, data)
	}
	return took, data, nil
}

// percentile is the nearest-rank percentile p (0..1) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

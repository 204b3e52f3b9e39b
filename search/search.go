// Package search is the Meilisearch side of the product: the client (tuned for latency),
// index definitions and settings, document upserts and queries. It stands on its own: it
// knows nothing of the product's records, only of documents and indexes.
package search

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// ErrUnavailable wraps every failure to reach or use Meilisearch. It names its dependency
// (DependencyUnavailable), by which internal/dep tells every dependency failure with one
// check, without this library importing the product.
var ErrUnavailable error = unavailableError{}

type unavailableError struct{}

func (unavailableError) Error() string                 { return "meilisearch unavailable" }
func (unavailableError) DependencyUnavailable() string { return "meilisearch" }

// Index describes one index: its name without prefix, its primary key and its settings.
type Index struct {
	Name       string
	PrimaryKey string
	Settings   meilisearch.Settings
}

// Client talks to one Meilisearch server; every index name gets the prefix.
type Client struct {
	ms      meilisearch.ServiceManager
	prefix  string
	timeout time.Duration
}

// Connect builds a client; it does not contact the server.
//
// The transport disables compression: with gzip asked for, Meilisearch 1.21 holds the end of
// each reply for about 40 ms on a reused connection (see TestSearchLatencyHasNoGzipStall).
func Connect(url, apiKey, prefix string, timeout time.Duration) *Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		DisableCompression:    true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	ms := meilisearch.New(url,
		meilisearch.WithAPIKey(apiKey),
		meilisearch.WithCustomClient(&http.Client{Transport: tr, Timeout: timeout}),
		meilisearch.WithCustomRetries([]int{502, 503, 504}, 1),
	)
	return &Client{ms: ms, prefix: prefix, timeout: timeout}
}

// UID is the full index name.
func (c *Client) UID(name string) string { return c.prefix + name }

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// Check answers whether Meilisearch is available right now.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	h, err := c.ms.Health(ctx)
	if err != nil {
		return unavailable("health", err)
	}
	if h.Status != "available" {
		return unavailable("health", fmt.Errorf("status %q", h.Status))
	}
	return nil
}

// Setup creates each index if needed and applies its settings, waiting until Meilisearch
// has processed them.
func (c *Client) Setup(ctx context.Context, indexes []Index) error {
	for _, ix := range indexes {
		uid := c.UID(ix.Name)
		if _, err := c.ms.GetIndex(ctx, uid); err != nil {
			var me *meilisearch.Error
			if !errors.As(err, &me) || me.StatusCode != http.StatusNotFound {
				return unavailable("get index "+uid, err)
			}
			task, err := c.ms.CreateIndex(ctx, &meilisearch.IndexConfig{Uid: uid, PrimaryKey: ix.PrimaryKey})
			if err != nil {
				return unavailable("create index "+uid, err)
			}
			if err := c.Wait(ctx, task.TaskUID); err != nil {
				return err
			}
		}
		settings := ix.Settings
		task, err := c.ms.Index(uid).UpdateSettings(ctx, &settings)
		if err != nil {
			return unavailable("settings "+uid, err)
		}
		if err := c.Wait(ctx, task.TaskUID); err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until the task has finished and reports its failure, if any.
func (c *Client) Wait(ctx context.Context, taskUID int64) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	task, err := c.ms.WaitForTask(ctx, taskUID, 20*time.Millisecond)
	if err != nil {
		return unavailable("wait task", err)
	}
	if task.Status != meilisearch.TaskStatusSucceeded {
		return fmt.Errorf("meilisearch task %d %s: %s", taskUID, task.Status, task.Error.Message)
	}
	return nil
}

// Upsert adds or replaces documents; it returns the task to Wait on when the caller needs
// the change visible.
func (c *Client) Upsert(ctx context.Context, index string, docs any) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	task, err := c.ms.Index(c.UID(index)).AddDocuments(ctx, docs, nil)
	if err != nil {
		return 0, unavailable("add documents", err)
	}
	return task.TaskUID, nil
}

// Delete removes one document.
func (c *Client) Delete(ctx context.Context, index, id string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	task, err := c.ms.Index(c.UID(index)).DeleteDocument(ctx, id, nil)
	if err != nil {
		return 0, unavailable("delete document", err)
	}
	return task.TaskUID, nil
}

// Query is one search.
type Query struct {
	Text   string
	Filter []string // already-escaped filter expressions, ANDed; build them with Eq
	Sort   []string
	Offset int64
	Limit  int64
}

// Result is one page of hits, decoded by the caller.
type Result struct {
	Hits      meilisearch.Hits
	Total     int64
	ElapsedMS int64
}

// Search runs q on index.
func (c *Client) Search(ctx context.Context, index string, q Query) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req := &meilisearch.SearchRequest{Offset: q.Offset, Limit: q.Limit, Sort: q.Sort}
	if len(q.Filter) > 0 {
		req.Filter = q.Filter
	}
	resp, err := c.ms.Index(c.UID(index)).Search(ctx, q.Text, req)
	if err != nil {
		return nil, unavailable("search", err)
	}
	return &Result{Hits: resp.Hits, Total: resp.EstimatedTotalHits, ElapsedMS: resp.ProcessingTimeMs}, nil
}

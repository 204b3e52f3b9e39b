package server

import (
	"context"
	_ "embed"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

type depStatus struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	MS    int64  `json:"ms"`
}

// readyz asks every dependency at once, each with a bound, and names the ones that failed.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	results := make([]depStatus, len(s.Checks))
	var wg sync.WaitGroup
	for i, ch := range s.Checks {
		wg.Go(func() {
			start := time.Now()
			err := ch.Check(ctx)
			results[i] = depStatus{Name: ch.Name(), OK: err == nil, MS: time.Since(start).Milliseconds()}
			if err != nil {
				results[i].Error = err.Error()
			}
		})
	}
	wg.Wait()
	status, failing := http.StatusOK, []string{}
	for _, r := range results {
		up := 1.0
		if !r.OK {
			status, up = http.StatusServiceUnavailable, 0
			failing = append(failing, r.Name)
			s.metrics.depErrors.WithLabelValues(r.Name).Inc()
		}
		s.metrics.depUp.WithLabelValues(r.Name).Set(up)
	}
	c.Header("Cache-Control", "no-store")
	body := gin.H{"status": "ready", "dependencies": results}
	if status != http.StatusOK {
		body["status"] = "unavailable"
		body["failing"] = failing
	}
	c.JSON(status, body)
}

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

package transcoding

import (
	"context"

	"github.com/shizuishan/culturecloud/internal/jobs"
)

// SetBeforeAttempt makes every attempt of r call fn first; an error from fn fails the attempt
// as a transcoding failure would. Call it before Run.
func SetBeforeAttempt(r *Runner, fn func(ctx context.Context, j jobs.Job) error) {
	r.beforeAttempt = fn
}

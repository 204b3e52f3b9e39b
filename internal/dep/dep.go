// Package dep names the outside services the product depends on and the error that says one
// of them did not answer. Adapters wrap driver errors in Unavailable at their boundary, so
// that HTTP handlers can answer 503 without knowing any driver.
package dep

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The dependencies, as named in /readyz and in problem details.
const (
	MinIO       = "minio"
	Meilisearch = "meilisearch"
	Redis       = "redis"
)

// ErrUnavailable matches every *UnavailableError with errors.Is.
var ErrUnavailable = errors.New("dependency unavailable")

// UnavailableError says which dependency failed and why.
type UnavailableError struct {
	Name string
	Err  error
}

func (e *UnavailableError) Error() string { return fmt.Sprintf("%s unavailable: %v", e.Name, e.Err) }

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unavailable wraps err as a failure of the named dependency; nil stays nil.
func Unavailable(name string, err error) error {
	if err == nil {
		return nil
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return err
	}
	return &UnavailableError{Name: name, Err: err}
}

// named is an error of a library outside the product (search/) that says which dependency
// failed; the library cannot wrap its errors in UnavailableError without importing us.
type named interface {
	error
	DependencyUnavailable() string
}

// IsUnavailable is the one check of "a dependency is down": an UnavailableError, or a
// library's error that names its dependency.
func IsUnavailable(err error) bool { return Name(err) != "" }

// Name returns the failed dependency's name, or "" when err is not about one.
func Name(err error) string {
	var ue *UnavailableError
	if errors.As(err, &ue) {
		return ue.Name
	}
	var n named
	if errors.As(err, &n) {
		return n.DependencyUnavailable()
	}
	return ""
}

// Checker answers whether a dependency is reachable right now.
type Checker interface {
	Name() string
	Check(ctx context.Context) error
}

// CheckFunc adapts a function to Checker.
type CheckFunc struct {
	DepName string
	Fn      func(ctx context.Context) error
}

func (c CheckFunc) Name() string                    { return c.DepName }
func (c CheckFunc) Check(ctx context.Context) error { return c.Fn(ctx) }

// FromRedis classifies a Redis failure: error replies that say the server cannot serve
// right now (LOADING, BUSY, …) and every transport failure make Redis unavailable; other
// error replies are the caller's bugs (a wrong type, a script error) and stay as they are.
func FromRedis(err error) error {
	if err == nil {
		return nil
	}
	var reply interface {
		error
		RedisError()
	}
	if errors.As(err, &reply) && !transientRedisReply(reply.Error()) {
		return err
	}
	return Unavailable(Redis, err)
}

func transientRedisReply(msg string) bool {
	for _, p := range []string{"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "OOM"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

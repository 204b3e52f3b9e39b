package server

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shizuishan/culturecloud/storage"
)

// checkSize is how much of a stored object is read before the status is sent: a damaged
// beginning is answered as an error, not as a success with a broken body.
const checkSize = 64 << 10

// serveStored answers an opened stored object with ranges, like http.ServeContent, but never
// passes a damaged object off as a success. Its first bytes are read before the status is
// sent, and a failure there is answered as storageErr maps it. A failure after the status
// aborts the connection, so that the client sees the body break off rather than a short
// success, and is logged as an error.
func (s *Server) serveStored(c *gin.Context, obj *storage.Object, modified time.Time) {
	// Stat before any read sends the GET whose body the reads then take (no second request),
	// and gives the whole size; after a read it would give what is left.
	info, err := obj.Stat()
	if err != nil {
		s.fail(c, err)
		return
	}
	head := make([]byte, checkSize)
	n, err := io.ReadFull(obj, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		s.fail(c, err)
		return
	}
	r := &checkedReader{rs: obj, head: head[:n], at: int64(n), size: info.Size}
	http.ServeContent(c.Writer, c.Request, "", modified, r)
	if r.err != nil {
		s.abortBody(c, r.err)
	}
}

// abortBody ends an answer whose body could not be sent whole: logged as an error, and the
// connection closed without the end of the body (http.ErrAbortHandler is not logged by
// net/http, and recovery passes it on).
func (s *Server) abortBody(c *gin.Context, err error) {
	s.log.LogAttrs(c.Request.Context(), slog.LevelError, "answer broken off: stored bytes could not be read",
		slog.String("request_id", c.GetString(ctxRequestID)), slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()), slog.Int("bytes", c.Writer.Size()), slog.Any("err", err))
	panic(http.ErrAbortHandler)
}

// checkedReader serves the bytes read ahead from memory, reads the rest from the object, and
// keeps the first read failure (http.ServeContent drops it).
type checkedReader struct {
	rs   io.ReadSeeker
	head []byte // the object's first bytes
	pos  int64  // where the next Read starts
	at   int64  // where rs stands
	size int64
	err  error
}

func (r *checkedReader) Read(p []byte) (int, error) {
	if r.pos < int64(len(r.head)) {
		n := copy(p, r.head[r.pos:])
		r.pos += int64(n)
		return n, nil
	}
	if r.at != r.pos {
		if _, err := r.rs.Seek(r.pos, io.SeekStart); err != nil {
			r.err = err
			return 0, err
		}
		r.at = r.pos
	}
	n, err := r.rs.Read(p)
	r.pos += int64(n)
	r.at += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *checkedReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start")
	}
	r.pos = offset
	return offset, nil
}

// readFailure keeps the first failure of its reader, to tell it from a client gone away.
type readFailure struct {
	r   io.Reader
	err error
}

func (r *readFailure) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && r.err == nil {
		r.err = err
	}
	return n, err
}

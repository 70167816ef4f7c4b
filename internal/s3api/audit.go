package s3api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/firnhq/firn/internal/audit"
)

// auditWriter records the status and body size of an answer for the
// audit log. It keeps the ResponseWriter's ReadFrom (sendfile) path.
type auditWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *auditWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *auditWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *auditWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is not offered through the wrapper.
func (w *auditWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("s3api: hijacking is not supported")
}

// countingBody counts the request body bytes read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// audit records a finished request. Nothing secret goes in: no header
// but the User-Agent, no query string, no body.
func (h *Handler) audit(rq *request, w *auditWriter, body *countingBody, start time.Time) {
	if h.auditLog == nil {
		return
	}
	r := rq.r
	rec := audit.Record{Time: start.UTC(), RequestID: rq.id, Principal: rq.user, Bucket: rq.bucket, Key: rq.key,
		Status: w.status, ErrorCode: rq.errCode, BytesOut: w.bytes, DurationMS: audit.Milliseconds(time.Since(start)),
		UserAgent: r.Header.Get("User-Agent")}
	if rec.Principal == "" {
		rec.Principal = audit.PrincipalAnonymous
	}
	if body != nil {
		rec.BytesIn = body.n
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		rec.SourceIP = host
	}
	if rq.q != nil {
		rec.Action, _ = actionOf(rq)
		if rec.Action == "" {
			rec.Action = "s3:DeleteObjects"
		}
		rec.VersionID = rq.q.Get("versionId")
	}
	if v := w.Header().Get("x-amz-version-id"); v != "" {
		rec.VersionID = v
	}
	h.auditLog.Log(rec)
}

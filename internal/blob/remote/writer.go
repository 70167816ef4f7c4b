package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var errClosed = errors.New("blob: write after commit or abort")

// writer buffers a blob and sends it as one PutObject, or as a multipart
// upload once the blob outgrows the buffer. It is not safe for concurrent
// use (Sweep reads only last, atomically).
type writer struct {
	s   *Store
	ctx context.Context // from Create, for the parts
	id  string
	key string

	buf      []byte                // pending bytes, at most s.partSize
	upload   string                // multipart upload id, "" until the first part
	parts    []types.CompletedPart // uploaded parts, in order
	last     *atomic.Int64         // time of the last Write, seen by Sweep; nil until upload
	err      error                 // sticky: a part or Commit failed
	sent     bool                  // a Commit request went out: the object may exist
	finished bool                  // committed or aborted
}

func (w *writer) ID() string { return w.id }

func (w *writer) check() error {
	if w.finished {
		return errClosed
	}
	return w.err
}

func (w *writer) touch() {
	if w.last != nil {
		w.last.Store(w.s.clock.Now().UnixNano())
	}
}

// Write buffers p, sending a part each time the buffer is full and more
// bytes follow.
func (w *writer) Write(p []byte) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	w.touch()
	n := 0
	for len(p) > 0 {
		if int64(len(w.buf)) == w.s.partSize {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
		k := min(len(p), int(w.s.partSize)-len(w.buf))
		if len(w.buf)+k > cap(w.buf) {
			w.grow(len(w.buf) + k)
		}
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		n += k
	}
	return n, nil
}

// ReadFrom reads r straight into the buffer.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.check(); err != nil {
			return total, err
		}
		if int64(len(w.buf)) == w.s.partSize {
			if err := w.flush(); err != nil {
				return total, err
			}
		}
		if len(w.buf) == cap(w.buf) {
			w.grow(len(w.buf) + 1)
		}
		m, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+m]
		total += int64(m)
		if m > 0 {
			w.touch()
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// grow makes room for at least need bytes in the buffer, doubling it up
// to the part size, so that a small blob does not cost a whole part of
// memory.
func (w *writer) grow(need int) {
	c := min(int(w.s.partSize), max(need, 2*cap(w.buf), 64<<10))
	b := make([]byte, len(w.buf), c)
	copy(b, w.buf)
	w.buf = b
}

// flush sends the buffer as the next part, starting the upload first if
// needed. A failure is sticky: only Abort is left.
func (w *writer) flush() error {
	if err := w.sendPart(); err != nil {
		w.err = err
		// The transport may still read the failed request's body; never
		// reuse that buffer.
		w.buf = nil
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

func (w *writer) sendPart() error {
	s := w.s
	if len(w.parts) == MaxParts {
		return fmt.Errorf("write blob %s: more than %d parts of %d bytes", w.id, MaxParts, s.partSize)
	}
	if w.upload == "" {
		out, err := s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &s.bucket, Key: &w.key, StorageClass: s.class,
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("write blob %s: start upload: %w", w.id, err)
		}
		w.upload = aws.ToString(out.UploadId)
		w.last = s.track(w.upload)
	}
	num := int32(len(w.parts) + 1)
	out, err := s.client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: &s.bucket, Key: &w.key, UploadId: &w.upload, PartNumber: &num,
		Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("write blob %s: part %d: %w", w.id, num, err)
	}
	w.parts = append(w.parts, types.CompletedPart{PartNumber: &num, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	w.touch()
	return nil
}

// Commit sends what is buffered: as one PutObject if no part went out
// yet, else as the last part, and then completes the upload. A failed
// Commit leaves the writer to Abort, which also deletes the object in
// case the remote did complete it.
func (w *writer) Commit(ctx context.Context) error {
	if w.finished {
		return errors.New("blob: commit after commit or abort")
	}
	if w.err != nil {
		return w.err
	}
	s := w.s
	w.sent = true
	if w.upload == "" {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &w.key, StorageClass: s.class,
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		})
		if err != nil {
			w.err = fmt.Errorf("commit blob %s: %w", w.id, err)
			w.buf = nil
			return w.err
		}
	} else {
		if len(w.buf) > 0 {
			// The last part may be smaller than MinPartSize.
			saved := w.ctx
			w.ctx = ctx
			err := w.flush()
			w.ctx = saved
			if err != nil {
				return err
			}
		}
		_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &s.bucket, Key: &w.key, UploadId: &w.upload,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
		})
		if err != nil {
			w.err = fmt.Errorf("commit blob %s: %w", w.id, err)
			return w.err
		}
		s.untrack(w.upload)
	}
	w.finished = true
	w.buf, w.parts = nil, nil
	return nil
}

// Abort aborts the upload, if one was started, and deletes the object if
// a Commit was tried. What it fails to remove is left to Sweep (the
// upload) and to the garbage collector (an object a failed Commit may
// have made).
func (w *writer) Abort() error {
	if w.finished {
		return nil
	}
	w.finished = true
	w.buf, w.parts = nil, nil
	s := w.s
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	var errs []error
	if w.upload != "" {
		s.untrack(w.upload)
		_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: &s.bucket, Key: &w.key, UploadId: &w.upload,
		})
		if err != nil && !isCode(err, "NoSuchUpload") {
			errs = append(errs, fmt.Errorf("abort blob %s: %w", w.id, err))
		}
	}
	if w.sent {
		_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &w.key})
		if err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("abort blob %s: delete: %w", w.id, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		s.log.Warn("abort of a blob left leftovers", "blob", w.id, "err", err)
		return err
	}
	return nil
}

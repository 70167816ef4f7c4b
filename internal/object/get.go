package object

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/blob"

	"github.com/firnhq/firn/internal/meta"
)

// Range is a parsed single byte range (RFC 9110): First-Last inclusive;
// Last < 0 means to the end; Suffix > 0 means the last Suffix bytes.
type Range struct {
	First, Last int64
	Suffix      int64
}

// resolve returns the offset and length r selects in an object of size,
// or ErrInvalidRange.
func (r *Range) resolve(size int64) (off, n int64, err error) {
	if r.Suffix > 0 {
		if size == 0 {
			return 0, 0, ErrInvalidRange
		}
		n = min(r.Suffix, size)
		return size - n, n, nil
	}
	if r.First >= size {
		return 0, 0, ErrInvalidRange
	}
	last := r.Last
	if last < 0 || last >= size {
		last = size - 1
	}
	return r.First, last - r.First + 1, nil
}

// Conditions are the If-* request headers of a read (or of a copy source).
type Conditions struct {
	IfMatch, IfNoneMatch               string
	IfModifiedSince, IfUnmodifiedSince time.Time // zero when absent
}

// check evaluates c against o in RFC 9110 order, as S3 does: If-Match,
// else If-Unmodified-Since (412); then If-None-Match, else
// If-Modified-Since (304 for reads).
func (c Conditions) check(o *meta.Object) error {
	lm := o.LastModified.Truncate(time.Second)
	if c.IfMatch != "" {
		if !etagMatches(c.IfMatch, o.ETag) {
			return ErrPreconditionFailed
		}
	} else if !c.IfUnmodifiedSince.IsZero() && lm.After(c.IfUnmodifiedSince) {
		return ErrPreconditionFailed
	}
	if c.IfNoneMatch != "" {
		if etagMatches(c.IfNoneMatch, o.ETag) {
			return ErrNotModified
		}
	} else if !c.IfModifiedSince.IsZero() && !lm.After(c.IfModifiedSince) {
		return ErrNotModified
	}
	return nil
}

// etagMatches reports whether an If-Match/If-None-Match list names etag.
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == etag {
			return true
		}
	}
	return false
}

// GetInput selects what to read.
type GetInput struct {
	Bucket, Key string
	VersionID   string // "": the current object
	CustomerKey []byte // the SSE-C key, for an SSE-C object
	Range       *Range // nil: the whole object
	PartNumber  int    // > 0: just that part (of a multipart object)
	Conditions  Conditions
}

// Reader is an open object body.
type Reader struct {
	io.ReadCloser
	Offset, Length int64 // the bytes of the object it yields
	Partial        bool  // a Range or part was served (206)
}

// WriteTo hands the copy to the body's own WriteTo where it has one (a
// decrypting body fills large buffers itself), so io.Copy keeps it.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := r.ReadCloser.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, struct{ io.Reader }{r.ReadCloser})
}

// HeadObject returns the object's record after evaluating the
// conditions (ErrPreconditionFailed, ErrNotModified).
func (s *Service) HeadObject(ctx context.Context, in GetInput) (*meta.Object, error) {
	o, err := s.lookup(ctx, in.Bucket, in.Key, in.VersionID)
	if err != nil {
		return nil, err
	}
	if err := s.CheckCustomerKey(o, in.CustomerKey); err != nil {
		return nil, err
	}
	if err := in.Conditions.check(o); err != nil {
		return o, err
	}
	if _, _, err := partRange(o, in.PartNumber); err != nil {
		return o, err
	}
	return o, nil
}

// GetObject returns the object's record and a reader of the selected
// bytes. The caller closes the reader.
func (s *Service) GetObject(ctx context.Context, in GetInput) (*meta.Object, *Reader, error) {
	type result struct {
		o  *meta.Object
		rd *Reader
	}
	r, err := retryChanged(func() (result, error) {
		o, rd, err := s.getObject(ctx, in)
		return result{o, rd}, err
	})
	return r.o, r.rd, err
}

func (s *Service) getObject(ctx context.Context, in GetInput) (*meta.Object, *Reader, error) {
	o, err := s.lookup(ctx, in.Bucket, in.Key, in.VersionID)
	if err != nil {
		return nil, nil, err
	}
	// An SSE-C object says nothing (not even whether an ETag matches)
	// to a reader without its key.
	if err := s.CheckCustomerKey(o, in.CustomerKey); err != nil {
		return nil, nil, err
	}
	if err := in.Conditions.check(o); err != nil {
		return o, nil, err
	}
	rd, err := Select(o, in)
	if err != nil {
		return o, nil, err
	}
	rd.ReadCloser, err = s.open(ctx, o, rd.Offset, rd.Length, in.CustomerKey)
	if err != nil {
		return o, nil, err
	}
	s.accessed(ctx, o)
	return o, rd, nil
}

// Select resolves which bytes of o a read asks for (a part, a range, or
// all of it) without opening them: the returned Reader has no
// ReadCloser. ErrInvalidRange when the selection is unsatisfiable.
func Select(o *meta.Object, in GetInput) (*Reader, error) {
	rd := &Reader{Length: o.Size}
	var err error
	switch {
	case in.PartNumber > 0:
		rd.Offset, rd.Length, err = partRange(o, in.PartNumber)
		rd.Partial = true
	case in.Range != nil:
		rd.Offset, rd.Length, err = in.Range.resolve(o.Size)
		rd.Partial = true
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// partRange returns the byte range of part number n (0: none requested).
func partRange(o *meta.Object, n int) (off, size int64, err error) {
	if n == 0 {
		return 0, o.Size, nil
	}
	if len(o.Parts) == 0 {
		if n == 1 {
			return 0, o.Size, nil
		}
		return 0, 0, ErrInvalidPartNumber
	}
	for _, p := range o.Parts {
		if p.Number == n {
			return off, p.Size, nil
		}
		off += p.Size
	}
	return 0, 0, ErrInvalidPartNumber
}

// readable returns where o's bytes can be read from at now: its own
// segments or inline bytes, or for an archived object its restored copy.
// An archived object without a finished restore, or whose restored copy
// has expired by now (even if ExpireRestores has not dropped it yet), is
// an *ArchivedError.
func readable(o *meta.Object, now time.Time) ([]meta.Segment, []byte, error) {
	if o.StorageClass == IntelligentTiering && IsArchiveAccess(o.AccessTier) {
		return nil, nil, &ArchivedError{StorageClass: o.StorageClass, AccessTier: o.AccessTier}
	}
	if !RestoreRequired(o.StorageClass) {
		return o.Segments, o.Inline, nil
	}
	if !copyLive(o.Restore, now) {
		return nil, nil, &ArchivedError{StorageClass: o.StorageClass}
	}
	return o.Restore.Copy, o.Restore.Inline, nil
}

// copyLive reports whether r is a finished restore whose copy is still
// there at now: S3 drops a copy at its expiry, so from then on it is
// gone, whenever ExpireRestores gets to it.
func copyLive(r *meta.Restore, now time.Time) bool {
	return r != nil && !r.Ongoing && !r.Expiry.IsZero() && now.Before(r.Expiry)
}

// copyExpired reports whether r is a finished restore whose copy's time
// is up at now but which ExpireRestores has not dropped yet.
func copyExpired(r *meta.Restore, now time.Time) bool {
	return r != nil && !r.Ongoing && !r.Expiry.IsZero() && !now.Before(r.Expiry)
}

// visible returns o as readers see it at now: a restored copy past its
// expiry is gone (no Restore state), as ExpireRestores will leave it, so
// HEAD, GET, copies and listings agree before the sweep runs. o itself
// is not changed.
func visible(o *meta.Object, now time.Time) *meta.Object {
	if o == nil || !copyExpired(o.Restore, now) {
		return o
	}
	c := *o
	c.Restore = nil
	return &c
}

// open returns a reader of n bytes of o's readable data from off,
// decrypted (an SSE-C object needs the request's customerKey).
func (s *Service) open(ctx context.Context, o *meta.Object, off, n int64, customerKey []byte) (io.ReadCloser, error) {
	segs, inline, err := readable(o, s.clock.Now())
	if err != nil {
		return nil, err
	}
	objKey, err := s.objectKey(ctx, o.Encryption, customerKey)
	if err != nil {
		return nil, err
	}
	return s.openSegments(ctx, segs, inline, off, n, objKey)
}

// openSegments returns a reader of n bytes from off of the data held by
// segs (or inline when there are no segments), decrypted under objKey
// when not nil.
func (s *Service) openSegments(ctx context.Context, segs []meta.Segment, inline []byte, off, n int64, objKey []byte) (io.ReadCloser, error) {
	if inline != nil || len(segs) == 0 {
		if objKey != nil && len(inline) > 0 {
			var err error
			if inline, err = decryptInline(inline, objKey); err != nil {
				return nil, err
			}
		}
		end := min(off+n, int64(len(inline)))
		return io.NopCloser(bytes.NewReader(inline[min(off, end):end])), nil
	}
	// Find the segments that hold the range.
	var parts []segRange
	pos := int64(0)
	for _, sg := range segs {
		if n <= 0 {
			break
		}
		if off < pos+sg.Size {
			start := max(off-pos, 0)
			take := min(sg.Size-start, n)
			parts = append(parts, segRange{sg.BlobID, sg.Tier, start, take, sg.Size, streamKey(objKey, sg.Part)})
			n -= take
			off += take
		}
		pos += sg.Size
	}
	if len(parts) == 0 {
		// Nothing to read (an empty object, or an empty range).
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	// Pin the blobs so that an overwrite or delete committed while this
	// reader is open defers their deletion until it is closed: a read
	// that started returns the whole version it began with.
	ids := make([]string, len(parts))
	for i, p := range parts {
		ids[i] = p.id
	}
	s.pin(ids)
	unpin := func() { s.unpin(ids) }
	first, err := s.openRange(ctx, parts[0])
	if err != nil {
		unpin()
		if errors.Is(err, blob.ErrNotFound) {
			// Freed between reading the metadata and pinning: the object
			// changed; the caller reads the metadata again.
			return nil, errChanged
		}
		return nil, err
	}
	if len(parts) == 1 {
		return &pinnedReader{ReadCloser: first, unpin: unpin}, nil
	}
	return &segReader{ctx: ctx, s: s, parts: parts[1:], cur: first, unpin: unpin}, nil
}

// errChanged reports that an object's bytes went away while it was being
// opened; reading its metadata again finds the new state.
var errChanged = errors.New("object changed while opening")

// pinnedReader unpins its blob when closed.
type pinnedReader struct {
	io.ReadCloser
	unpin func()
	once  sync.Once
}

// WriteTo keeps the inner reader's fast path (sendfile) available.
func (p *pinnedReader) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := p.ReadCloser.(io.WriterTo); ok {
		return wt.WriteTo(w)
	}
	return io.Copy(w, p.ReadCloser)
}

func (p *pinnedReader) Close() error {
	err := p.ReadCloser.Close()
	p.once.Do(p.unpin)
	return err
}

type segRange struct {
	id, tier string
	off, n   int64
	size     int64  // of the segment's plaintext
	key      []byte // stream key of an encrypted segment
}

// openRange opens the bytes of one segment range, decrypting them when
// the segment is encrypted.
func (s *Service) openRange(ctx context.Context, p segRange) (io.ReadCloser, error) {
	if p.key != nil {
		return s.openEncrypted(ctx, p)
	}
	return s.storeOf(p.tier).Open(ctx, p.id, p.off, p.n)
}

// segReader yields several blob ranges in order, opening each when
// reached.
type segReader struct {
	ctx   context.Context
	s     *Service
	parts []segRange
	cur   io.ReadCloser
	unpin func()
	once  sync.Once
}

func (r *segReader) next() error {
	if r.cur != nil {
		r.cur.Close()
		r.cur = nil
	}
	if len(r.parts) == 0 {
		return io.EOF
	}
	p := r.parts[0]
	r.parts = r.parts[1:]
	rc, err := r.s.openRange(r.ctx, p)
	if err != nil {
		return err
	}
	r.cur = rc
	return nil
}

func (r *segReader) Read(b []byte) (int, error) {
	for {
		if r.cur == nil {
			if err := r.next(); err != nil {
				return 0, err
			}
		}
		n, err := r.cur.Read(b)
		if errors.Is(err, io.EOF) {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// WriteTo copies each segment with io.Copy, so that every one can take
// the sendfile path.
func (r *segReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if r.cur == nil {
			if err := r.next(); err != nil {
				if errors.Is(err, io.EOF) {
					return total, nil
				}
				return total, err
			}
		}
		n, err := io.Copy(w, r.cur)
		total += n
		r.cur.Close()
		r.cur = nil
		if err != nil {
			return total, err
		}
	}
}

func (r *segReader) Close() error {
	var err error
	if r.cur != nil {
		err = r.cur.Close()
		r.cur = nil
	}
	r.once.Do(r.unpin)
	return err
}

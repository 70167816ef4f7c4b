package object

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/firnhq/firn/internal/blob"
	"github.com/firnhq/firn/internal/checksum"
	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/sse"
)

// Integrity is what a writer checks the received bytes against.
type Integrity struct {
	// ContentMD5 is the decoded Content-MD5 header, nil when absent.
	ContentMD5 []byte
	// Algorithm is the additional checksum to compute and store ("" for
	// none).
	Algorithm checksum.Algorithm
	// Expected returns the client's base64 value for Algorithm, asked for
	// only after the whole body was read (a trailer may carry it); "" means
	// the client sent none, so the value is only computed.
	Expected func() string
}

// PutInput is a single-request object write.
type PutInput struct {
	Bucket, Key, Owner string
	Body               io.Reader
	// Size is the declared length, -1 when unknown.
	Size         int64
	StorageClass string
	Headers      map[string]string
	UserMeta     map[string]string
	Tags         []meta.Tag
	Integrity    Integrity
	// IfNoneMatch "*" writes only if no object exists; IfMatch writes only
	// over the object with that ETag (S3 conditional writes).
	IfNoneMatch, IfMatch string
	// SSE is the encryption asked for ("": the bucket's default).
	SSE SSE
}

// CheckKey validates an object key.
func CheckKey(key string) error {
	if key == "" || !utf8.ValidString(key) {
		return wrap(ErrInvalidKey, "%q", key)
	}
	if len(key) > MaxKeyLength {
		return wrap(ErrKeyTooLong, "%d bytes", len(key))
	}
	return nil
}

// data is the outcome of receiving a body: where the bytes went and their
// digests.
type data struct {
	tier     string // where blobID lives
	size     int64
	md5      []byte
	checksum string // base64 of the requested algorithm
	inline   []byte
	blobID   string // committed blob holding the bytes, "" if inline/empty
}

// receive reads body into an inline buffer or a new blob, verifying the
// declared size and digests before the blob is committed. With a stream
// key the bytes are stored encrypted under it (digests and sizes are of
// the plaintext). On error nothing is left behind. The caller must
// untrack a returned blob once its metadata committed (or free it if
// that failed).
func (s *Service) receive(ctx context.Context, tier string, label blob.Label, body io.Reader, size, limit, inlineMax int64, in Integrity, key []byte) (*data, error) {
	if tier != "" {
		inlineMax = -1 // only the hot tier keeps bytes in metadata
	}
	if size > limit {
		return nil, wrap(ErrEntityTooLarge, "%d bytes", size)
	}
	h := checksum.NewMultiHasher(algs(in.Algorithm)...)
	// A body that fits the inline limit stays in memory.
	var buf []byte
	if inlineMax > 0 && (size < 0 || size <= inlineMax) {
		capHint := inlineMax + 1
		if size >= 0 {
			capHint = size + 1
		}
		b := bytes.NewBuffer(make([]byte, 0, capHint))
		n, err := io.Copy(b, io.LimitReader(body, inlineMax+1))
		if err != nil {
			return nil, readErr(err)
		}
		buf = b.Bytes()
		if n <= inlineMax {
			h.Write(buf)
			d := &data{size: n, inline: buf}
			if err := s.verify(h, d, size, in); err != nil {
				return nil, err
			}
			if n == 0 {
				d.inline = nil
			} else if key != nil {
				if d.inline, err = sse.Seal(buf, key); err != nil {
					return nil, err
				}
			}
			return d, nil
		}
	}
	w, err := s.create(ctx, tier, label)
	if err != nil {
		return nil, err
	}
	d := &data{tier: tier, blobID: w.ID()}
	var sink io.Writer = w
	var enc io.WriteCloser
	if key != nil {
		if enc, err = sse.EncryptWriter(w, key); err != nil {
			w.Abort()
			return nil, err
		}
		sink = enc
	}
	// Count and hash while writing, and refuse to go past the limits.
	cw := &countingWriter{w: io.MultiWriter(sink, h)}
	if len(buf) > 0 {
		if _, err := cw.Write(buf); err != nil {
			w.Abort()
			return nil, err
		}
	}
	max := limit
	if size >= 0 {
		max = size
	}
	_, err = io.CopyBuffer(cw, io.LimitReader(body, max-cw.n+1), make([]byte, 1<<20))
	if err == nil && cw.n > max {
		if size >= 0 {
			err = errors.New("body longer than declared")
		} else {
			err = wrap(ErrEntityTooLarge, "more than %d bytes", limit)
		}
	}
	if err == nil && enc != nil {
		err = enc.Close()
	}
	if err != nil {
		w.Abort()
		return nil, readErr(err)
	}
	d.size = cw.n
	if err := s.verify(h, d, size, in); err != nil {
		w.Abort()
		return nil, err
	}
	s.track(d.blobID)
	if err := w.Commit(ctx); err != nil {
		s.untrack(d.blobID)
		return nil, err
	}
	return d, nil
}

// create starts a blob on tier, recording label where the store keeps
// one (the archive packs, so an archive reads back without firn).
func (s *Service) create(ctx context.Context, tier string, label blob.Label) (blob.Writer, error) {
	st := s.storeOf(tier)
	if lc, ok := st.(blob.LabeledCreator); ok {
		return lc.CreateLabeled(ctx, label)
	}
	return st.Create(ctx)
}

func algs(a checksum.Algorithm) []checksum.Algorithm {
	if a == "" {
		return nil
	}
	return []checksum.Algorithm{a}
}

// readErr maps a failed body read: a body cut short is ErrIncompleteBody;
// anything else (a signature or digest failure from the protocol layer)
// is returned as is.
func readErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return wrap(ErrIncompleteBody, "%v", err)
	}
	return err
}

// verify checks the received size and digests and fills d's digests.
func (s *Service) verify(h *checksum.MultiHasher, d *data, size int64, in Integrity) error {
	if size >= 0 && d.size != size {
		return wrap(ErrIncompleteBody, "got %d of %d bytes", d.size, size)
	}
	d.md5 = h.MD5()
	if in.ContentMD5 != nil && !bytes.Equal(in.ContentMD5, d.md5) {
		return ErrBadDigest
	}
	if in.Algorithm != "" {
		d.checksum = h.Encoded(in.Algorithm)
		if in.Expected != nil {
			if want := in.Expected(); want != "" && want != d.checksum {
				return wrap(ErrChecksumMismatch, "x-amz-checksum-%s", lower(string(in.Algorithm)))
			}
		}
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newObject builds the record for received data.
func (s *Service) newObject(bucket, key, vid, owner, class string, d *data) *meta.Object {
	o := &meta.Object{
		Bucket: bucket, Key: key, VersionID: vid, Size: d.size,
		ETag: hex.EncodeToString(d.md5), LastModified: s.clock.Now().UTC(),
		StorageClass: class, Owner: owner, Inline: d.inline,
	}
	if d.blobID != "" {
		o.Segments = []meta.Segment{{BlobID: d.blobID, Size: d.size, Tier: d.tier}}
	}
	return o
}

// commitObject stores o, then settles the blob bookkeeping: on success the
// replaced bytes are freed, on failure o's own blob is.
func (s *Service) commitObject(ctx context.Context, o *meta.Object, check meta.PutCheck, event string) error {
	err := s.scheduleLifecycle(ctx, o)
	var freed []string
	if err == nil {
		freed, err = s.meta.PutObject(s.events(ctx, o.Bucket, event), o, check)
	}
	for _, id := range o.BlobIDs() {
		s.untrack(id)
	}
	if err != nil {
		s.free(ctx, o.BlobIDs())
		return err
	}
	s.free(ctx, freed)
	s.versionsChanged(ctx, o.Bucket, o.Key)
	return nil
}

// writeCheck evaluates S3 conditional-write headers against the current
// object.
func writeCheck(ifNoneMatch, ifMatch string) meta.PutCheck {
	if ifNoneMatch == "" && ifMatch == "" {
		return nil
	}
	return func(cur *meta.Object) error {
		if ifNoneMatch != "" && cur != nil {
			return ErrPreconditionFailed
		}
		if ifMatch != "" && (cur == nil || !etagMatches(ifMatch, cur.ETag)) {
			if cur == nil {
				return meta.ErrNoSuchKey
			}
			return ErrPreconditionFailed
		}
		return nil
	}
}

// PutObject stores an object from a single request body.
func (s *Service) PutObject(ctx context.Context, in PutInput) (*meta.Object, error) {
	if err := CheckKey(in.Key); err != nil {
		return nil, err
	}
	class, err := normClass(in.StorageClass)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if _, err := s.meta.GetBucket(ctx, in.Bucket); err != nil {
		return nil, err
	}
	vid, err := s.versionFor(ctx, in.Bucket)
	if err != nil {
		return nil, err
	}
	enc, objKey, err := s.seal(ctx, in.Bucket, in.SSE)
	if err != nil {
		return nil, err
	}
	d, err := s.receive(ctx, s.tierOf(class), blob.Label{Bucket: in.Bucket, Key: in.Key, VersionID: vid}, in.Body, in.Size, MaxPutSize, s.inlineMax, in.Integrity, streamKey(objKey, 0))
	if err != nil {
		return nil, err
	}
	o := s.newObject(in.Bucket, in.Key, vid, in.Owner, class, d)
	o.Encryption = enc
	o.Headers, o.UserMeta, o.Tags = in.Headers, in.UserMeta, in.Tags
	if in.Integrity.Algorithm != "" {
		o.Checksum = meta.Checksum{Algorithm: string(in.Integrity.Algorithm), Type: string(checksum.FullObject), Value: d.checksum}
	}
	if err := s.commitObject(ctx, o, writeCheck(in.IfNoneMatch, in.IfMatch), evPut); err != nil {
		return nil, err
	}
	return o, nil
}

// md5Of returns the hex MD5 of b (used for empty parts).
func md5Of(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

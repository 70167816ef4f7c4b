package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
)

// The aws-chunked encoding (x-amz-content-sha256: STREAMING-*):
//
//	chunk      = hex-size [ ";chunk-signature=" 64HEXDIG ] CRLF data CRLF
//	last-chunk = "0" [ ";chunk-signature=" 64HEXDIG ] CRLF
//	trailer    = *( name ":" value CRLF ) [ "x-amz-trailer-signature:" 64HEXDIG CRLF ]
//	body       = *chunk last-chunk trailer CRLF
//
// Signed chunks carry a chunk-signature chained from the seed (request)
// signature; unsigned ones carry none (extensions are ignored). The decoder
// is lenient where real encoders differ: bare LF line ends are accepted, the
// final CRLF may be missing, one empty line may separate the last chunk from
// the trailers, and extra CRLFs after the end are ignored.

const (
	// maxLineLength bounds chunk-size and trailer lines (the decoder's
	// read buffer). A signed chunk header is about 90 bytes.
	maxLineLength = 4 << 10
	// firstChunkAlloc is the initial buffer of a signed chunk; it grows as
	// data actually arrives so a claimed size costs no memory by itself.
	firstChunkAlloc = 64 << 10
	// maxTrailingCRLF bounds the line ends tolerated after the last CRLF.
	maxTrailingCRLF = 4
)

// chunkSigner verifies the chained chunk and trailer signatures.
type chunkSigner struct {
	key     [sha256.Size]byte
	amzDate string
	scope   string
	prev    string // hex signature of the previous chunk (the seed first)
}

// verify checks sig (hex, already syntax-checked) against the signature of
// a "AWS4-HMAC-SHA256-PAYLOAD" (chunk) or "AWS4-HMAC-SHA256-TRAILER"
// string to sign whose last lines are given, and advances the chain.
func (s *chunkSigner) verify(sig []byte, trailer bool, sum [sha256.Size]byte) bool {
	sts := make([]byte, 0, 256)
	if trailer {
		sts = append(sts, "AWS4-HMAC-SHA256-TRAILER\n"...)
	} else {
		sts = append(sts, "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	}
	sts = append(sts, s.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, s.scope...)
	sts = append(sts, '\n')
	sts = append(sts, s.prev...)
	sts = append(sts, '\n')
	if !trailer {
		sts = append(sts, EmptySHA256...)
		sts = append(sts, '\n')
	}
	sts = hex.AppendEncode(sts, sum[:])
	want := hmacSHA256(s.key[:], sts)
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], sig); err != nil || !hmac.Equal(want, got[:]) {
		return false
	}
	s.prev = hex.EncodeToString(want)
	return true
}

type chunkState uint8

const (
	stHeader   chunkState = iota // expecting a chunk-size line
	stData                       // streaming unsigned chunk data (remaining > 0)
	stDataEnd                    // expecting the CRLF after chunk data
	stBuffered                   // releasing a verified signed chunk (buf[off:])
	stDone                       // EOF returned
)

// chunkPool recycles the buffers of signed chunks (*[]byte).
var chunkPool sync.Pool

// chunkedReader decodes an aws-chunked body.
type chunkedReader struct {
	body       io.ReadCloser
	src        *bufio.Reader
	signer     *chunkSigner // nil for unsigned chunks
	trailers   bool         // a trailer section is expected
	declared   []string     // x-amz-trailer names
	decodedLen int64        // x-amz-decoded-content-length, -1 if unknown
	total      int64        // decoded bytes so far (including buffered)

	state     chunkState
	remaining int64  // stData: bytes left in the current chunk
	buf       []byte // stBuffered: the verified chunk
	off       int
	err       error // sticky failure
	trailer   atomic.Pointer[http.Header]
}

func newChunkedReader(body io.ReadCloser, decodedLen int64, declared []string) *chunkedReader {
	// NewReaderSize(nil) then Reset: NewReaderSize would return body
	// itself if it were a large enough *bufio.Reader.
	src := bufio.NewReaderSize(nil, maxLineLength)
	src.Reset(body)
	return &chunkedReader{body: body, src: src, decodedLen: decodedLen, declared: declared}
}

// Trailer returns the trailing headers once Read has returned io.EOF.
func (c *chunkedReader) Trailer() http.Header {
	if h := c.trailer.Load(); h != nil {
		return h.Clone()
	}
	return nil
}

// Read returns decoded payload bytes; see Result.Body.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for {
		if c.err != nil {
			return 0, c.err
		}
		if c.state == stDone {
			return 0, io.EOF
		}
		if len(p) == 0 {
			return 0, nil
		}
		switch c.state {
		case stBuffered:
			if c.off < len(c.buf) {
				n := copy(p, c.buf[c.off:])
				c.off += n
				return n, nil
			}
			c.state = stHeader
		case stData:
			if int64(len(p)) > c.remaining {
				p = p[:c.remaining]
			}
			n, err := c.src.Read(p)
			c.remaining -= int64(n)
			if c.remaining == 0 {
				c.state = stDataEnd
			}
			if err != nil && (err != io.EOF || c.remaining > 0) {
				c.fail(readError(err))
				return n, c.err
			}
			if n > 0 {
				return n, nil
			}
		case stDataEnd:
			if err := c.readLineEnd(); err != nil {
				c.fail(err)
			} else {
				c.state = stHeader
			}
		case stHeader:
			if err := c.nextChunk(); err != nil {
				c.fail(err)
			}
		}
	}
}

// Close closes the request body. It may be called concurrently with Read
// to abort it (as for r.Body): it touches no decoder state, and a pending
// or later Read fails with the body's error.
func (c *chunkedReader) Close() error {
	return c.body.Close()
}

func (c *chunkedReader) fail(err error) {
	c.err = err
	c.release()
}

// release recycles the chunk buffer once the stream has ended or failed.
// It only runs on Read's goroutine.
func (c *chunkedReader) release() {
	c.src = nil
	if c.buf != nil {
		b := c.buf[:0]
		chunkPool.Put(&b)
		c.buf, c.off = nil, 0
	}
}

// readError maps a failure of the underlying body: a premature end is
// ErrIncompleteBody, anything else (connection reset, body too large) is
// returned as is.
func readError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return newError(ErrIncompleteBody, "the aws-chunked body ended early")
	}
	return err
}

func malformed(format string, args ...any) error {
	return newError(ErrMalformedChunk, fmt.Sprintf(format, args...))
}

func malformedTrailer(format string, args ...any) error {
	return newError(ErrMalformedTrailer, fmt.Sprintf(format, args...))
}

// readLine reads one line without its LF or CRLF. The slice is valid until
// the next read. At a clean end of input it returns io.EOF.
func (c *chunkedReader) readLine() ([]byte, error) {
	line, err := c.src.ReadSlice('\n')
	switch {
	case err == nil:
	case err == bufio.ErrBufferFull:
		return nil, malformed("line longer than %d bytes", maxLineLength)
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	default:
		return nil, readError(err)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readLineEnd consumes the CRLF (or LF) that follows chunk data.
func (c *chunkedReader) readLineEnd() error {
	b, err := c.src.ReadByte()
	if err != nil {
		return readError(err)
	}
	if b == '\r' {
		if b, err = c.src.ReadByte(); err != nil {
			return readError(err)
		}
	}
	if b != '\n' {
		return malformed("chunk data is not followed by CRLF")
	}
	return nil
}

const chunkSignaturePrefix = "chunk-signature="

// parseChunkHeader parses "hex-size[;chunk-signature=sig]". Unsigned
// streams ignore extensions; signed ones require exactly the signature.
func (c *chunkedReader) parseChunkHeader(line []byte) (size int64, sig []byte, err error) {
	sizePart, ext, hasExt := bytes.Cut(line, []byte{';'})
	sizePart = bytes.TrimRight(sizePart, " \t")
	digits := bytes.TrimLeft(sizePart, "0")
	if len(sizePart) == 0 || len(digits) > 15 { // 15 hex digits < 2^60
		return 0, nil, malformed("invalid chunk size %q", truncate(string(sizePart)))
	}
	for _, d := range digits {
		v, ok := unhex(d)
		if !ok {
			return 0, nil, malformed("invalid chunk size %q", truncate(string(sizePart)))
		}
		size = size<<4 | int64(v)
	}
	if c.signer == nil {
		return size, nil, nil
	}
	if !hasExt || !bytes.HasPrefix(ext, []byte(chunkSignaturePrefix)) {
		return 0, nil, malformed("chunk without chunk-signature")
	}
	sig = ext[len(chunkSignaturePrefix):]
	if !isHex(string(sig), 2*sha256.Size) {
		return 0, nil, malformed("chunk-signature must be 64 hexadecimal digits")
	}
	return size, sig, nil
}

// nextChunk reads a chunk header and, for signed streams, the whole chunk.
func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine()
	if err == io.EOF {
		return readError(err)
	} else if err != nil {
		return err
	}
	size, sig, err := c.parseChunkHeader(line)
	if err != nil {
		return err
	}
	if c.decodedLen >= 0 && size > c.decodedLen-c.total {
		return malformed("the chunks hold more than x-amz-decoded-content-length (%d) bytes", c.decodedLen)
	}
	if size == 0 {
		return c.finish(sig)
	}
	if c.signer == nil {
		c.total += size
		c.remaining = size
		c.state = stData
		return nil
	}
	if size > MaxChunkSize {
		return malformed("chunk of %d bytes exceeds the maximum of %d", size, MaxChunkSize)
	}
	var sigBuf [2 * sha256.Size]byte
	copy(sigBuf[:], sig) // sig aliases the bufio buffer, overwritten below
	if err := c.readChunk(int(size)); err != nil {
		return err
	}
	if err := c.readLineEnd(); err != nil {
		return err
	}
	if !c.signer.verify(sigBuf[:], false, sha256.Sum256(c.buf)) {
		return newError(ErrChunkSignatureMismatch, fmt.Sprintf("chunk ending at byte %d", c.total+size))
	}
	c.total += size
	c.off = 0
	c.state = stBuffered
	return nil
}

// readChunk reads size bytes into c.buf, growing it only as data arrives.
func (c *chunkedReader) readChunk(size int) error {
	if c.buf == nil {
		if b, ok := chunkPool.Get().(*[]byte); ok {
			c.buf = *b
		}
	}
	buf := c.buf[:0]
	for len(buf) < size {
		if len(buf) == cap(buf) {
			nc := min(max(2*cap(buf), firstChunkAlloc), size)
			nb := make([]byte, len(buf), nc)
			copy(nb, buf)
			buf = nb
		}
		n, err := c.src.Read(buf[len(buf):min(cap(buf), size)])
		buf = buf[:len(buf)+n]
		c.buf = buf
		if err != nil && len(buf) < size {
			return readError(err)
		}
	}
	c.buf = buf
	return nil
}

// finish handles the last chunk: its signature, the decoded length, the
// trailers and the end of the body.
func (c *chunkedReader) finish(sig []byte) error {
	if c.signer != nil && !c.signer.verify(sig, false, sha256.Sum256(nil)) {
		return newError(ErrChunkSignatureMismatch, "final chunk")
	}
	if c.decodedLen >= 0 && c.total != c.decodedLen {
		return newError(ErrIncompleteBody, fmt.Sprintf("decoded %d bytes, x-amz-decoded-content-length is %d", c.total, c.decodedLen))
	}
	trailer, err := c.readTrailers()
	if err != nil {
		return err
	}
	// Allow a few stray line ends, then require the end of the body.
	for i := 0; ; i++ {
		b, err := c.src.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if i >= maxTrailingCRLF || (b != '\r' && b != '\n') {
			return malformed("data after the final chunk")
		}
	}
	if len(trailer) > 0 {
		c.trailer.Store(&trailer)
	}
	c.state = stDone
	c.release()
	return nil
}

// readTrailers reads the trailer section up to the empty line (or EOF) and
// verifies the trailer signature of signed streams.
func (c *chunkedReader) readTrailers() (http.Header, error) {
	var (
		h       http.Header
		sig     []byte
		skipped bool
	)
	for {
		line, err := c.readLine()
		if err == io.EOF {
			break // the final CRLF is missing: tolerated
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if c.trailers && !skipped && h == nil && sig == nil {
				// Some encoders end the last chunk with an (empty) data
				// CRLF before the trailers: skip it if more follows.
				skipped = true
				if _, err := c.src.Peek(1); err == nil {
					continue
				}
			}
			break
		}
		if !c.trailers {
			return nil, malformed("unexpected data after the final chunk")
		}
		if sig != nil {
			return nil, malformedTrailer("trailer after x-amz-trailer-signature")
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, malformedTrailer("trailer line without a colon")
		}
		lname := string(bytes.ToLower(bytes.TrimSpace(name)))
		if !validHeaderName(lname) {
			return nil, malformedTrailer("invalid trailer name %q", truncate(lname))
		}
		value = bytes.TrimSpace(value)
		if lname == "x-amz-trailer-signature" {
			if c.signer == nil {
				return nil, malformedTrailer("x-amz-trailer-signature in an unsigned stream")
			}
			if !isHex(string(value), 2*sha256.Size) {
				return nil, malformedTrailer("x-amz-trailer-signature must be 64 hexadecimal digits")
			}
			sig = bytes.Clone(value)
			continue
		}
		if !slices.Contains(c.declared, lname) {
			return nil, malformedTrailer("trailer %q was not declared in x-amz-trailer", lname)
		}
		if _, dup := h[lname]; dup {
			return nil, malformedTrailer("duplicate trailer %q", lname)
		}
		if h == nil {
			h = make(http.Header, len(c.declared))
		}
		h[lname] = []string{string(appendHeaderValue(nil, string(value)))}
	}
	for _, name := range c.declared {
		if _, ok := h[name]; !ok && c.trailers {
			return nil, malformedTrailer("trailer %q declared in x-amz-trailer was not sent", name)
		}
	}
	if c.trailers && c.signer != nil {
		if sig == nil {
			return nil, malformedTrailer("missing x-amz-trailer-signature")
		}
		if !c.signer.verify(sig, true, trailerHash(h)) {
			return nil, newError(ErrChunkSignatureMismatch, "x-amz-trailer-signature")
		}
	}
	return h, nil
}

// trailerHash is the SHA-256 of the canonical trailers: "name:value\n" for
// each trailer, sorted by name (as the AWS SDK for Java v2 signs them).
func trailerHash(h http.Header) [sha256.Size]byte {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	var b []byte
	for _, name := range names {
		b = append(b, name...)
		b = append(b, ':')
		for i, v := range h[name] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, v...)
		}
		b = append(b, '\n')
	}
	return sha256.Sum256(b)
}

package object

import (
	"io"
)

// readAhead reads r in its own goroutine, up to depth chunks of size
// bytes ahead of the caller, so that a restore reads and verifies the
// archive on one core while it hashes and writes the copy on another.
// Close stops the goroutine and waits for it, so r may be closed after.
type readAhead struct {
	ch   chan readChunk
	free chan []byte
	stop chan struct{}
	done chan struct{}
	cur  []byte // unread part of the chunk in hand
	buf  []byte // the chunk in hand, to give back
	err  error  // r's error (or io.EOF) once every chunk is read
}

type readChunk struct {
	b   []byte
	err error
}

func newReadAhead(r io.Reader, size, depth int) *readAhead {
	a := &readAhead{ch: make(chan readChunk, depth), free: make(chan []byte, depth+1),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range depth + 1 {
		a.free <- make([]byte, size)
	}
	go a.run(r)
	return a
}

func (a *readAhead) run(r io.Reader) {
	defer close(a.done)
	defer close(a.ch)
	for {
		var buf []byte
		select {
		case buf = <-a.free:
		case <-a.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var m int
			m, err = r.Read(buf[n:])
			n += m
		}
		select {
		case a.ch <- readChunk{b: buf[:n], err: err}:
		case <-a.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// next makes the following chunk the one in hand; false with a.err set
// at the end.
func (a *readAhead) next() bool {
	if a.buf != nil {
		a.free <- a.buf[:cap(a.buf)]
		a.buf = nil
	}
	for a.err == nil {
		c, ok := <-a.ch
		if !ok {
			a.err = io.ErrUnexpectedEOF // stopped: not reached
			break
		}
		a.buf, a.cur = c.b, c.b
		if c.err != nil {
			a.err = c.err
		}
		if len(a.cur) > 0 {
			return true
		}
	}
	return false
}

func (a *readAhead) Read(p []byte) (int, error) {
	if len(a.cur) == 0 && !a.next() {
		return 0, a.err
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// WriteTo hands w the chunks as they are.
func (a *readAhead) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for len(a.cur) > 0 || a.next() {
		n, err := w.Write(a.cur)
		total += int64(n)
		a.cur = a.cur[n:]
		if err != nil {
			return total, err
		}
	}
	if a.err == io.EOF {
		return total, nil
	}
	return total, a.err
}

// Close stops the reading goroutine and waits for it to let go of r.
func (a *readAhead) Close() error {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
	return nil
}

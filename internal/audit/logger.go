package audit

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// BufferSize is how many encoded records a Logger queues between the
	// callers of Log and its writer goroutine.
	BufferSize = 16384
	// MaxBlock is how long Log waits for room in a full queue without
	// the writer taking anything from it before it gives the record up
	// and counts it in Dropped.
	MaxBlock = time.Second
	// maxBatch bounds the bytes the writer goroutine gathers into one
	// Write.
	maxBatch = 256 << 10
)

// ErrClosed is returned by Flush on a closed Logger.
var ErrClosed = errors.New("audit: logger closed")

// Logger writes Records as JSON lines. Log encodes the record in the
// caller's goroutine and queues the line on a buffered channel (of
// BufferSize lines); a single writer goroutine drains the queue, writing
// whatever has accumulated in one Write, so a burst of requests costs one
// system call rather than one each. Lines reach the operating system as
// soon as the writer gets to them: nothing waits for a timer.
//
// When the queue is full, Log waits. It waits as long as the writer keeps
// taking lines from the queue, so that a server producing records faster
// than they can be written is slowed down rather than losing them; it
// gives up only when the writer has taken nothing for MaxBlock (a hung
// disk or a blocked pipe), and counts the record in Dropped.
//
// All methods are safe for concurrent use. A nil *Logger is valid: Log
// does nothing and the other methods return zero values, so a server
// without an audit log needs no special case.
type Logger struct {
	mu     sync.RWMutex // held for reading while sending on ch; for writing to close it
	closed bool
	ch     chan item

	block   time.Duration
	out     sink
	done    chan struct{} // closed when the writer goroutine has finished
	dropped atomic.Uint64
	taken   atomic.Uint64 // items the writer has taken from ch: its progress

	errMu    sync.Mutex
	firstErr error

	closeOnce sync.Once
}

// item is one queued line, or a flush request.
type item struct {
	line  []byte
	flush chan error
}

// sink is where the writer goroutine puts lines.
type sink interface {
	// write writes p, which holds whole lines, in one piece.
	write(p []byte) error
	// full reports whether a line of n bytes, after pending bytes not yet
	// written, should go to a fresh file.
	full(pending, n int) bool
	// rotate starts a fresh file.
	rotate() error
	// sync makes what was written durable.
	sync() error
	// close syncs and releases the sink.
	close() error
}

// New returns a Logger writing to w, such as os.Stdout. Close flushes
// the queue but neither syncs nor closes w, which stays the caller's.
// Writes to w are never split inside a line, but w must accept them from
// one goroutine at a time only.
func New(w io.Writer) *Logger {
	return newLogger(writerSink{w}, BufferSize, MaxBlock)
}

func newLogger(out sink, size int, block time.Duration) *Logger {
	l := &Logger{
		ch:    make(chan item, size),
		block: block,
		out:   out,
		done:  make(chan struct{}),
	}
	go l.run()
	return l
}

// Log records r. It writes r.Time in UTC, and replaces it with the
// current time if it is zero or outside the years 0 to 9999, which JSON
// cannot carry; a DurationMS that is NaN or infinite is left out. Log returns as soon as the encoded line is queued. If
// the queue is full, it waits for room as long as the writer is making
// progress; once the writer has taken nothing for MaxBlock, it gives up
// and counts the record in Dropped, as it does for a record logged after
// Close or one the writer fails to write. Log keeps no reference to r or
// its Detail map once it returns.
func (l *Logger) Log(r Record) {
	if l == nil {
		return
	}
	r.repair()
	var buf bytes.Buffer
	if err := r.appendJSON(&buf); err != nil {
		// repair leaves nothing JSON cannot encode; this is a safeguard.
		l.setErr(err)
		l.dropped.Add(1)
		return
	}
	it := item{line: buf.Bytes()}

	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.ch <- it:
		return
	default:
	}
	seen := l.taken.Load()
	t := time.NewTimer(l.block)
	defer t.Stop()
	for {
		select {
		case l.ch <- it:
			return
		case <-t.C:
			now := l.taken.Load()
			if now == seen { // the writer is stuck
				l.dropped.Add(1)
				return
			}
			seen = now
			t.Reset(l.block)
		}
	}
}

// Dropped returns how many records were lost: not queued because the
// writer was stuck for MaxBlock, logged after Close, or not written
// because the writer failed.
func (l *Logger) Dropped() uint64 {
	if l == nil {
		return 0
	}
	return l.dropped.Load()
}

// Flush waits until every record logged before it is written and, for a
// Logger from Open, synced to stable storage. It returns the errors met
// while doing so; Close reports the first error of the Logger's life.
func (l *Logger) Flush() error {
	if l == nil {
		return nil
	}
	done := make(chan error, 1)
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	l.ch <- item{flush: done}
	l.mu.RUnlock()
	return <-done
}

// Close writes every queued record, syncs and closes the file of a Logger
// from Open, and stops the writer goroutine. It returns the first error
// the Logger met, if any (a failed write, rotation or sync); records lost
// to it are counted in Dropped. Records logged after Close are dropped.
// Calling Close again returns the same result.
func (l *Logger) Close() error {
	if l == nil {
		return nil
	}
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.ch)
		l.mu.Unlock()
		<-l.done
	})
	return l.err()
}

func (l *Logger) setErr(err error) {
	if err == nil {
		return
	}
	l.errMu.Lock()
	if l.firstErr == nil {
		l.firstErr = err
	}
	l.errMu.Unlock()
}

func (l *Logger) err() error {
	l.errMu.Lock()
	defer l.errMu.Unlock()
	return l.firstErr
}

// run is the writer goroutine.
func (l *Logger) run() {
	defer close(l.done)
	var (
		batch []byte
		n     uint64 // records in batch
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := l.out.write(batch)
		if err != nil {
			l.setErr(err)
			l.dropped.Add(n)
		}
		batch, n = batch[:0], 0
		return err
	}
	handle := func(it item) {
		l.taken.Add(1)
		if it.flush != nil {
			err := flush()
			serr := l.out.sync()
			l.setErr(serr)
			it.flush <- errors.Join(err, serr)
			return
		}
		if l.out.full(len(batch), len(it.line)) {
			flush()
			l.setErr(l.out.rotate())
		}
		batch = append(batch, it.line...)
		n++
	}

	for {
		it, ok := <-l.ch
		if !ok {
			flush()
			l.setErr(l.out.close())
			return
		}
		handle(it)
	gather:
		for len(batch) < maxBatch {
			select {
			case it, ok := <-l.ch:
				if !ok {
					flush()
					l.setErr(l.out.close())
					return
				}
				handle(it)
			default:
				break gather
			}
		}
		flush()
	}
}

// writerSink is the sink of New: a plain writer, never rotated or synced.
type writerSink struct{ w io.Writer }

func (s writerSink) write(p []byte) error {
	_, err := s.w.Write(p)
	return err
}
func (writerSink) full(int, int) bool { return false }
func (writerSink) rotate() error      { return nil }
func (writerSink) sync() error        { return nil }
func (writerSink) close() error       { return nil }

package target

import (
	"context"
	"sync"
)

// guard serializes the Sends and the Close of one target and records
// that it was closed. Every kind embeds one next to its base (not in
// base, which is passed around by value) and frames its Send with
// base.send and its Close with closeWith.
type guard struct {
	mu     sync.Mutex
	closed bool
}

// send is the frame of every kind's Send. Holding g's lock, it refuses
// a closed target with an error wrapping ErrClosed, returns (0, nil) for
// no messages, and otherwise returns what do returns for msgs and ctx
// bounded by the target's timeout. do wraps its own errors (fail,
// failMsg) and drops a connection when it must.
func (b *base) send(ctx context.Context, g *guard, msgs []Message, do func(ctx context.Context, msgs []Message) (int, error)) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, b.fail("send", ErrClosed)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return do(ctx, msgs)
}

// closeWith is the frame of every kind's Close. Holding g's lock, it
// marks the target closed and returns what release (which frees what
// the target holds; nil when it holds nothing) returns. Closing a
// closed target does nothing and returns nil.
func (g *guard) closeWith(release func() error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	if release == nil {
		return nil
	}
	return release()
}

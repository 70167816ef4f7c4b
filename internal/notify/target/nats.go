package target

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsTarget publishes to JetStream.
type natsTarget struct {
	base
	subject string
	stream  string

	guard
	nc *nats.Conn
	js jetstream.JetStream
}

func openNATS(b base) (Target, error) {
	return &natsTarget{
		base:    b,
		subject: b.spec.Options["subject"],
		stream:  b.spec.Options["stream"],
	}, nil
}

// connect makes sure t has a live connection (and the stream, when one
// is configured).
func (t *natsTarget) connect(ctx context.Context) error {
	if t.nc != nil && t.nc.Status() == nats.CONNECTED {
		return nil
	}
	t.drop()
	dial := t.timeout
	if d, ok := ctx.Deadline(); ok {
		dial = min(dial, time.Until(d))
	}
	if dial <= 0 {
		return context.DeadlineExceeded
	}
	// The client's own reconnection is off: a failed Send drops the
	// connection and the next one dials again.
	nc, err := nats.Connect(t.spec.URL,
		nats.Name("firn-"+t.spec.Name),
		nats.Timeout(dial),
		nats.NoReconnect(),
	)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return err
	}
	if t.stream != "" {
		if err := t.ensureStream(ctx, js); err != nil {
			nc.Close()
			return err
		}
	}
	t.nc, t.js = nc, js
	return nil
}

// ensureStream creates the stream capturing t.subject, or adds t.subject
// to the existing stream's subjects when none of them covers it.
func (t *natsTarget) ensureStream(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, t.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:     t.stream,
			Subjects: []string{t.subject},
			Storage:  jetstream.FileStorage,
		})
		if err != nil {
			return fmt.Errorf("create stream %s: %w", t.stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", t.stream, err)
	}
	cfg := s.CachedInfo().Config
	for _, p := range cfg.Subjects {
		if subjectMatches(p, t.subject) {
			return nil
		}
	}
	cfg.Subjects = append(cfg.Subjects, t.subject)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("add subject to stream %s: %w", t.stream, err)
	}
	return nil
}

// subjectMatches reports whether subject (no wildcards) matches pattern
// (with '*' and '>' wildcards).
func subjectMatches(pattern, subject string) bool {
	pt := strings.Split(pattern, ".")
	st := strings.Split(subject, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) || (p != "*" && p != st[i]) {
			return false
		}
	}
	return len(pt) == len(st)
}

// drop closes the connection, if any.
func (t *natsTarget) drop() {
	if t.nc != nil {
		t.nc.Close()
	}
	t.nc, t.js = nil, nil
}

// Send publishes msgs asynchronously and awaits their acks in order.
func (t *natsTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, func(ctx context.Context, msgs []Message) (int, error) {
		if err := t.connect(ctx); err != nil {
			return 0, t.fail("connect", err)
		}
		return t.publish(ctx, msgs)
	})
}

// publish publishes msgs asynchronously and awaits their acks in order;
// on a failure it drops the connection.
func (t *natsTarget) publish(ctx context.Context, msgs []Message) (int, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var pubErr error
	for _, m := range msgs {
		msg := nats.NewMsg(t.subject)
		msg.Data = m.Body
		msg.Header.Set(jetstream.MsgIDHeader, m.ID)
		msg.Header.Set("Firn-Event", m.Event)
		f, err := t.js.PublishMsgAsync(msg)
		if err != nil {
			pubErr = err
			break
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.drop()
			return i, t.failMsg(msgs, i, err)
		case <-ctx.Done():
			t.drop()
			return i, t.failMsg(msgs, i, ctx.Err())
		}
	}
	if pubErr != nil {
		t.drop()
		return len(futures), t.failMsg(msgs, len(futures), pubErr)
	}
	return len(msgs), nil
}

// Close closes the connection.
func (t *natsTarget) Close() error {
	return t.closeWith(func() error { t.drop(); return nil })
}

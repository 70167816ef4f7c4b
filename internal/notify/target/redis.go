package target

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// redisTarget appends to a Redis stream.
type redisTarget struct {
	base
	opts   *redis.Options
	stream string
	maxLen int64

	guard
	client *redis.Client
}

func openRedis(b base) (Target, error) {
	opts, err := redis.ParseURL(b.spec.URL)
	if err != nil {
		return nil, b.fail("open", err)
	}
	opts.ClientName = "firn-" + b.spec.Name
	opts.DialTimeout = b.timeout
	opts.ReadTimeout = b.timeout
	opts.WriteTimeout = b.timeout
	opts.ContextTimeoutEnabled = true
	// One retry on a fresh connection covers a pooled connection that
	// died while idle; the caller retries the rest.
	opts.MaxRetries = 1
	opts.DialerRetries = 1
	opts.PoolSize = 2
	t := &redisTarget{
		base:   b,
		opts:   opts,
		stream: b.spec.Options["stream"],
		client: redis.NewClient(opts),
	}
	if v := b.spec.Options["maxlen"]; v != "" {
		t.maxLen, _ = strconv.ParseInt(v, 10, 64)
	}
	return t, nil
}

// Send XADDs msgs in one pipeline; entries get the fields id, event,
// bucket, key and body.
func (t *redisTarget) Send(ctx context.Context, msgs []Message) (int, error) {
	return t.send(ctx, &t.guard, msgs, t.xadd)
}

// xadd runs the pipeline; on a failure it replaces the client.
func (t *redisTarget) xadd(ctx context.Context, msgs []Message) (int, error) {
	pipe := t.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(msgs))
	for i, m := range msgs {
		cmds[i] = pipe.XAdd(ctx, &redis.XAddArgs{
			Stream: t.stream,
			MaxLen: t.maxLen,
			Approx: t.maxLen > 0,
			Values: []any{"id", m.ID, "event", m.Event, "bucket", m.Bucket, "key", m.Key, "body", m.Body},
		})
	}
	_, err := pipe.Exec(ctx)
	for i, c := range cmds {
		if c.Err() != nil {
			t.reset()
			return i, t.failMsg(msgs, i, c.Err())
		}
	}
	if err != nil {
		t.reset()
		return 0, t.fail("send", err)
	}
	return len(msgs), nil
}

// reset replaces the client after a failure: the next Send dials
// afresh instead of waiting out the old pool's backoff.
func (t *redisTarget) reset() {
	_ = t.client.Close()
	t.client = redis.NewClient(t.opts)
}

// Close closes the client's connections.
func (t *redisTarget) Close() error {
	return t.closeWith(func() error {
		if err := t.client.Close(); err != nil {
			return t.fail("close", err)
		}
		return nil
	})
}

package target

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisClient connects a test client to Redis, skipping when it is
// absent.
func redisClient(t *testing.T) (string, *redis.Client) {
	t.Helper()
	addr := serviceAddr("REDIS", "127.0.0.1:6379")
	needService(t, "Redis", addr)
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 2 * time.Second})
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("Redis not reachable at %s: %v", addr, err)
	}
	return addr, c
}

func deleteKey(t *testing.T, c *redis.Client, key string) {
	t.Cleanup(func() { c.Del(context.Background(), key) })
}

func TestRedisSend(t *testing.T) {
	addr, c := redisClient(t)
	stream := "firn-test-" + suffix(t)
	deleteKey(t, c, stream)
	tg := openTarget(t, Spec{Name: "redis", Kind: KindRedis, URL: "redis://" + addr + "/0", Options: map[string]string{"stream": stream}})
	msgs := testMsgs("redis-"+suffix(t), 6)
	mustSend(t, tg, msgs)
	entries, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(msgs) {
		t.Fatalf("%d entries, want %d", len(entries), len(msgs))
	}
	for i, e := range entries {
		m := msgs[i]
		want := map[string]any{"id": m.ID, "event": m.Event, "bucket": m.Bucket, "key": m.Key, "body": string(m.Body)}
		for k, v := range want {
			if e.Values[k] != v {
				t.Errorf("entry %d: %s = %q, want %q", i, k, e.Values[k], v)
			}
		}
	}
}

func TestRedisMaxLen(t *testing.T) {
	addr, c := redisClient(t)
	stream := "firn-test-" + suffix(t)
	deleteKey(t, c, stream)
	tg := openTarget(t, Spec{Name: "redis", Kind: KindRedis, URL: "redis://" + addr, Options: map[string]string{"stream": stream, "maxlen": "10"}})
	for range 30 {
		mustSend(t, tg, testMsgs("trim", 10))
	}
	n, err := c.XLen(context.Background(), stream).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Approximate trimming keeps at least 10 and far fewer than 300.
	if n < 10 || n >= 300 {
		t.Errorf("stream length %d after trimming to ~10", n)
	}
}

func TestRedisReconnect(t *testing.T) {
	addr, c := redisClient(t)
	p := newProxy(t, addr)
	stream := "firn-test-" + suffix(t)
	deleteKey(t, c, stream)
	tg := openTarget(t, Spec{Name: "redis", Kind: KindRedis, URL: "redis://" + p.Addr(), Timeout: 3 * time.Second, Options: map[string]string{"stream": stream}})
	checkReconnect(t, tg, p)
	if n, _ := c.XLen(context.Background(), stream).Result(); n != 4 {
		t.Errorf("stream holds %d entries, want 4", n)
	}
}

// Package target delivers rendered event messages to the systems that
// consume them: webhooks, NATS JetStream, AMQP 0-9-1 brokers, Redis
// streams, PostgreSQL tables, MQTT brokers and email over SMTP.
//
// A Target is opened from a Spec (kind, name, URL and kind-specific
// options) and delivers messages in the order given, each one durably
// accepted by the receiving system before Send counts it: a published
// JetStream message acknowledged, an AMQP publish confirmed, a row
// committed, an MQTT QoS 1 PUBACK, an SMTP message accepted, a webhook
// answered 2xx. Delivery is at least once: Send may deliver a message and
// still fail (the caller retries it), and every message carries an ID
// that receivers can deduplicate by (JetStream's Nats-Msg-Id, the AMQP
// message id, the webhook's X-Firn-Event-Id header, a unique column).
//
// Secrets (URL passwords, webhook secrets) never appear in errors or in
// Spec.Redacted.
//
// # Opening
//
// Open validates a Spec (see Spec.Validate, which needs no network) and
// returns a Target without touching the network: connections are made
// by the first Send and made again by the Send after a failure, so a
// target outlives its broker being stopped and started. Every Send is
// bounded by Spec.Timeout (10 s when zero) as well as by its context.
// Targets are safe for concurrent use; their Sends are serialized.
//
// # Kinds and options
//
// Option names are exact (lower case); unknown options are refused.
//
//   - webhook (http, https): an HTTP POST per message with Content-Type
//     application/json and headers X-Firn-Event-Id and X-Firn-Event; any
//     2xx answer delivers it, redirects are not followed. Options:
//     secret (adds X-Firn-Signature: sha256=<hex HMAC-SHA256 of the
//     body keyed by the secret>) and header.<Name> (an extra header, for
//     example header.Authorization). URL user info becomes Basic auth.
//   - nats (nats, tls): a JetStream publish per message, acknowledged by
//     the stream, with Nats-Msg-Id set to the message ID (JetStream
//     deduplication) and Firn-Event to the event. Options: subject
//     (required) and stream (optional: a file-storage stream of that
//     name is created, or the subject added to it, when the connection
//     is made). A subject that no stream captures is an error; core NATS
//     is never used.
//   - amqp (amqp, amqps): an AMQP 0-9-1 publish per message on a channel
//     in confirm mode, persistent, Content-Type application/json,
//     MessageId the message ID, Type the event. Options: exchange
//     (default "", the default exchange), exchange_type (direct, fanout
//     or topic; default topic; a named exchange other than the
//     predeclared "amq.*" ones is declared durable), routing_key
//     (default: the event name), declare_queue (a durable queue declared
//     at connection: with the default exchange the routing key defaults
//     to it; with a named exchange it is bound to it with routing_key,
//     or "#" when routing_key is unset), mandatory (bool, default true:
//     a message that no queue receives is an error).
//   - redis (redis, rediss): an XADD per message, pipelined per Send,
//     with fields id, event, bucket, key and body. Options: stream
//     (required), maxlen (optional: approximate trimming, MAXLEN ~ n).
//   - postgres (postgres, postgresql): one transaction per Send inserting
//     a row per message with ON CONFLICT (event_id) DO NOTHING. Options:
//     table (required: name or schema.name, letters, digits and '_',
//     used quoted, so case is kept; created when missing with columns
//     id bigserial primary key, event_id text unique not null,
//     event_name text not null, bucket text, key text, body jsonb not
//     null, created_at timestamptz default now()), notify (optional
//     channel: pg_notify(channel, event_id) for each inserted row, in the
//     same transaction). A body that is not JSON fails the whole Send.
//   - mqtt (mqtt, tcp, mqtts, ssl, tls, ws, wss): an MQTT 3.1.1 publish
//     per message, credentials from the URL. Options: topic (required,
//     no wildcards), qos (0, 1 or 2; default 1; at QoS 0 a message counts
//     as delivered once written), retain (bool), client_id (default
//     firn-<name>-<random>).
//   - smtp (smtp: plain, upgraded with STARTTLS per the starttls option;
//     smtps: implicit TLS; default ports 25 and 465): an email per
//     message, subject "<prefix> <Event> s3://<bucket>/<key>", a
//     text/plain body holding the JSON pretty-printed, Message-ID
//     derived from the message ID. AUTH PLAIN with the URL's user info
//     when present (refused over an unencrypted connection except to
//     localhost). Options: from (required), to (required, comma-separated
//     addresses), subject_prefix (default "[firn]"), starttls (auto,
//     always or never; default auto: used when offered),
//     insecure_skip_verify (bool, for TLS).
//
// Kafka is not supported.
package target

import (
	"context"
	"time"
)

// DefaultTimeout bounds a Send when Spec.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Kinds of target. Kafka is not supported.
const (
	KindWebhook  = "webhook"
	KindNATS     = "nats"
	KindAMQP     = "amqp"
	KindRedis    = "redis"
	KindPostgres = "postgres"
	KindMQTT     = "mqtt"
	KindSMTP     = "smtp"
)

// Message is one event message to deliver.
type Message struct {
	// ID is unique per event and target; receivers deduplicate by it.
	ID string
	// Event is the event name without "s3:" (e.g. "ObjectCreated:Put"),
	// for subjects, routing keys and email subjects.
	Event string
	// Bucket and Key name the object the event is about ("" for tests).
	Bucket, Key string
	// Body is the message: AWS's event JSON.
	Body []byte
}

// Target delivers messages to one destination.
type Target interface {
	// Send delivers msgs in order and returns how many were delivered
	// (accepted durably by the destination) before the first failure;
	// n == len(msgs) exactly when err is nil. It honours ctx.
	Send(ctx context.Context, msgs []Message) (n int, err error)
	// Close releases connections. Send must not be called after it.
	Close() error
}

// Spec declares a target.
type Spec struct {
	// Name identifies the target; bucket notification configurations
	// reference it through its ARN. Letters, digits, '-', '_' and '.'.
	Name string `json:"name"`
	// Kind is one of the Kind constants.
	Kind string `json:"kind"`
	// URL locates the destination (scheme per kind: http/https,
	// nats, amqp/amqps, redis/rediss, postgres/postgresql, mqtt/tcp/
	// ssl/mqtts, smtp/smtps); it may hold credentials.
	URL string `json:"url"`
	// Options are the kind's settings (see Options in the package doc
	// of each kind and Validate).
	Options map[string]string `json:"options,omitempty"`
	// Timeout bounds one Send; zero means 10 s.
	Timeout time.Duration `json:"timeout,omitempty"`
}

package cli

// --notify of `firn get` and `firn restore`: restore notifications sent
// from the client, through the notification targets' code, as AWS's S3
// event messages (ObjectRestore:Post when a restore is initiated,
// ObjectRestore:Completed when the object is readable), so consumers
// written for S3's notifications parse them. They work against any S3
// endpoint: the client sends them, not the server.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/firnhq/firn/internal/notify"
	"github.com/firnhq/firn/internal/notify/target"
	"github.com/firnhq/firn/s3archive"
)

// Notification events and the principal the messages carry.
const (
	eventRestorePost      = "ObjectRestore:Post"
	eventRestoreCompleted = "ObjectRestore:Completed"
	notifyPrincipal       = "firn-client"
)

// Delivery settings: one Send carries at most notifyBatch messages and
// is bounded by notifyTimeout; a failed Send is tried once more after
// notifyRetryWait.
const (
	notifyBatch     = 100
	notifyTimeout   = 30 * time.Second
	notifyRetryWait = time.Second
)

// Environment variables of email destinations.
const (
	envSMTPURL  = "FIRN_SMTP_URL"
	envSMTPFrom = "FIRN_SMTP_FROM"
)

const notifyDestHelp = "https://… or http://… (webhook), nats://HOST:PORT/SUBJECT[?stream=NAME] (JetStream), or an email address (mailto:ADDR or ADDR; needs " + envSMTPURL + ")"

// parseNotify turns a --notify destination into a target spec (named
// "notify"; callers number it). The forms:
//
//   - http://… or https://…: a webhook POSTed each message;
//   - nats://[USER[:PASS]@]HOST[:PORT]/SUBJECT[?stream=NAME]: a JetStream
//     publish on SUBJECT (the path without its leading slash). With
//     stream, that stream is created (or SUBJECT added to it); without,
//     a stream capturing SUBJECT must exist already;
//   - mailto:ADDR[,ADDR...] or a bare ADDR (anything without "://"
//     holding an '@'): an email per message, through the SMTP server of
//     env FIRN_SMTP_URL (smtp:// or smtps://[USER:PASS@]HOST[:PORT],
//     query parameters starttls, insecure_skip_verify and
//     subject_prefix passed as the target's options), from env
//     FIRN_SMTP_FROM (default firn@<hostname>).
//
// The spec is validated (no network); errors never hold the URL's or
// FIRN_SMTP_URL's secrets.
func parseNotify(dest string, env func(string) string) (target.Spec, error) {
	spec := target.Spec{Name: "notify", Timeout: notifyTimeout}
	scheme, _, isURL := strings.Cut(dest, "://")
	scheme = strings.ToLower(scheme)
	switch {
	case dest == "":
		return spec, fmt.Errorf("empty destination: want %s", notifyDestHelp)
	case isURL && (scheme == "http" || scheme == "https"):
		spec.Kind, spec.URL = target.KindWebhook, dest
	case isURL && scheme == "nats":
		if err := natsSpec(&spec, dest); err != nil {
			return spec, err
		}
	case isURL:
		return spec, fmt.Errorf("destination scheme %q: want %s", scheme, notifyDestHelp)
	case strings.HasPrefix(strings.ToLower(dest), "mailto:") || strings.Contains(dest, "@"):
		if err := smtpSpec(&spec, dest, env); err != nil {
			return spec, err
		}
	default:
		return spec, fmt.Errorf("destination %q: want %s", dest, notifyDestHelp)
	}
	if err := spec.Validate(); err != nil {
		return spec, err
	}
	return spec, nil
}

// natsSpec fills spec for nats://HOST/SUBJECT[?stream=NAME].
func natsSpec(spec *target.Spec, dest string) error {
	safe := (target.Spec{URL: dest}).Redacted().URL
	u, err := url.Parse(dest)
	if err != nil {
		return fmt.Errorf("destination %s: not a URL", safe)
	}
	subject := strings.TrimPrefix(u.Path, "/")
	if subject == "" {
		return fmt.Errorf("destination %s: give the subject as the path: nats://HOST:PORT/SUBJECT[?stream=NAME]", safe)
	}
	q := u.Query()
	spec.Kind = target.KindNATS
	spec.Options = map[string]string{"subject": subject}
	for k, vs := range q {
		if k != "stream" || len(vs) != 1 {
			return fmt.Errorf("destination %s: query parameter %q: only one stream=NAME is accepted", safe, k)
		}
		spec.Options["stream"] = vs[0]
	}
	base := url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host}
	spec.URL = base.String()
	return nil
}

// smtpSpec fills spec for mailto:ADDR[,ADDR] or ADDR.
func smtpSpec(spec *target.Spec, dest string, env func(string) string) error {
	addrs := dest
	if len(dest) >= len("mailto:") && strings.EqualFold(dest[:len("mailto:")], "mailto:") {
		addrs = dest[len("mailto:"):]
		if strings.ContainsAny(addrs, "?#") {
			return fmt.Errorf("destination %q: mailto: takes addresses only (no ?subject=… or other headers)", dest)
		}
		var err error
		if addrs, err = url.PathUnescape(addrs); err != nil {
			return fmt.Errorf("destination %q: %v", dest, err)
		}
	}
	list, err := mail.ParseAddressList(addrs)
	if err != nil {
		return fmt.Errorf("destination %q: not an email address: %v", dest, err)
	}
	to := make([]string, len(list))
	for i, a := range list {
		to[i] = a.String()
	}
	raw := env(envSMTPURL)
	if raw == "" {
		return fmt.Errorf("destination %q is an email address: set %s to the SMTP server (smtp://[USER:PASS@]HOST[:PORT] or smtps://…) and optionally %s to the sender", dest, envSMTPURL, envSMTPFrom)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: not a URL (want smtp://[USER:PASS@]HOST[:PORT])", envSMTPURL)
	}
	spec.Kind = target.KindSMTP
	spec.Options = map[string]string{"to": strings.Join(to, ", ")}
	for k, vs := range u.Query() {
		switch k {
		case "starttls", "insecure_skip_verify", "subject_prefix":
			spec.Options[k] = vs[len(vs)-1]
		default:
			return fmt.Errorf("%s: query parameter %q: want starttls, insecure_skip_verify or subject_prefix", envSMTPURL, k)
		}
	}
	u.RawQuery, u.Fragment = "", ""
	spec.URL = u.String()
	from := env(envSMTPFrom)
	if from == "" {
		from = defaultSender()
	}
	spec.Options["from"] = from
	return nil
}

// defaultSender is firn@<hostname>, or firn@localhost when the host name
// does not make an address.
func defaultSender() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		if a, err := mail.ParseAddress("firn@" + h); err == nil {
			return a.Address
		}
	}
	return "firn@localhost"
}

// notifyFlags are the --notify flags of get and restore.
type notifyFlags struct {
	dests     stringList
	secretEnv string
}

func (f *notifyFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.dests, "notify", "send restore notifications to `DEST`: "+notifyDestHelp+" (repeatable)")
	fs.StringVar(&f.secretEnv, "notify-secret-env", "", "name of the environment `VAR` holding the HMAC secret of --notify webhooks (X-Firn-Signature)")
}

// specs parses the destinations (usage errors), numbering them
// notify-1, notify-2, ... and adding the webhook secret.
func (f *notifyFlags) specs(env func(string) string) ([]target.Spec, error) {
	var specs []target.Spec
	for i, d := range f.dests {
		s, err := parseNotify(d, env)
		if err != nil {
			return nil, fmt.Errorf("--notify #%d: %w", i+1, err)
		}
		s.Name = fmt.Sprintf("notify-%d", i+1)
		if s.Kind == target.KindWebhook && f.secretEnv != "" {
			secret := env(f.secretEnv)
			if secret == "" {
				return nil, fmt.Errorf("--notify-secret-env: environment variable %s is unset or empty", f.secretEnv)
			}
			s.Options = map[string]string{"secret": secret}
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// open returns the notifier of the flags: nil without --notify. Its
// error is a usage error.
func (f *notifyFlags) open(ctx context.Context, prog string, env func(string) string, stderr io.Writer) (*notifier, error) {
	specs, err := f.specs(env)
	if err != nil || len(specs) == 0 {
		return nil, err
	}
	n := &notifier{prog: prog, stderr: stderr, batch: notifyBatch, retryWait: notifyRetryWait}
	for _, s := range specs {
		t, err := target.Open(ctx, s)
		if err != nil {
			n.close()
			return nil, err
		}
		n.targets = append(n.targets, t)
	}
	return n, nil
}

// notifier sends messages to every destination. Failures are warnings
// on stderr and counted, never errors of the command.
type notifier struct {
	prog      string
	stderr    io.Writer
	targets   []target.Target
	batch     int
	retryWait time.Duration
	// beforeWarn, if set, runs before a warning is printed (ending a
	// progress line).
	beforeWarn func()

	mu           sync.Mutex
	sent, failed int // messages delivered, not delivered (per destination)
}

// send delivers msgs to every destination (concurrently), in Sends of at
// most n.batch messages; a failed Send is retried once, then the
// destination's remaining messages count as failed and a warning is
// printed. A nil notifier sends nothing.
func (n *notifier) send(ctx context.Context, msgs []target.Message) {
	if n == nil || len(msgs) == 0 {
		return
	}
	var wg sync.WaitGroup
	for _, t := range n.targets {
		wg.Go(func() { n.sendTo(ctx, t, msgs) })
	}
	wg.Wait()
}

func (n *notifier) sendTo(ctx context.Context, t target.Target, msgs []target.Message) {
	done := 0
	var err error
	for done < len(msgs) && err == nil {
		end := min(done+n.batch, len(msgs))
		for attempt := 0; ; attempt++ {
			var k int
			k, err = t.Send(ctx, msgs[done:end])
			done += k
			if err == nil || attempt == 1 || ctx.Err() != nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(n.retryWait):
			}
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent += done
	if failed := len(msgs) - done; failed > 0 {
		n.failed += failed
		if n.beforeWarn != nil {
			n.beforeWarn()
		}
		hint := ""
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			hint = " (no JetStream stream captures the subject: add ?stream=NAME to the destination to create one)"
		}
		// Target errors name the target and hold no secret.
		fmt.Fprintf(n.stderr, "%s: warning: %d of %d notifications not delivered: %v%s\n", n.prog, failed, len(msgs), err, hint)
	}
}

// counts returns the messages delivered and not delivered so far.
func (n *notifier) counts() (sent, failed int) {
	if n == nil {
		return 0, 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent, n.failed
}

// addCounts adds "notified" and "notify_errors" to a --json result when
// notifications are on.
func (n *notifier) addCounts(result map[string]any) {
	if n == nil {
		return
	}
	sent, failed := n.counts()
	result["notified"], result["notify_errors"] = sent, failed
}

func (n *notifier) close() {
	if n == nil {
		return
	}
	for _, t := range n.targets {
		_ = t.Close()
	}
}

// restoreMessage returns the message of e: AWS's event JSON, principal
// firn-client, ID from notifyID with version the version asked for ("":
// the current one).
func restoreMessage(e notify.Event, version string) target.Message {
	e.Principal = notifyPrincipal
	return target.Message{
		ID:     notifyID(e.Bucket, e.Key, version, e.Name, e.RestoreExpiry),
		Event:  e.Name,
		Bucket: e.Bucket,
		Key:    e.Key,
		Body:   notify.Render(e, ""),
	}
}

// notifyID is the deterministic ID of a restore message: "firn-" and
// the first 16 bytes of SHA-256 over bucket, key, version and event (and
// for ObjectRestore:Completed the restored copy's expiry, when known),
// in hex. A run repeated for the same restore sends the same IDs, so
// receivers can drop the duplicates; a later restore of the same object
// completes with another expiry, hence another Completed ID.
func notifyID(bucket, key, version, event string, expiry time.Time) string {
	h := sha256.New()
	for _, s := range []string{bucket, key, version, event} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if event == eventRestoreCompleted && !expiry.IsZero() {
		h.Write([]byte(expiry.UTC().Format(time.RFC3339)))
	}
	return "firn-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// headEvent returns the event name about an object, its size, ETag,
// version and restore expiry read with a HEAD. The HEAD is best effort:
// when it fails, those fields stay unknown.
func headEvent(ctx context.Context, c *s3.Client, name, bucket, key, version, owner, class string) notify.Event {
	e := notify.Event{Name: name, Time: time.Now(), Region: c.Options().Region, Bucket: bucket, Key: key,
		VersionID: version, RestoreClass: class}
	in := &s3.HeadObjectInput{Bucket: &bucket, Key: &key}
	if version != "" {
		in.VersionId = &version
	}
	if owner != "" {
		in.ExpectedBucketOwner = &owner
	}
	out, err := c.HeadObject(ctx, in)
	if err != nil {
		return e
	}
	e.Size, e.ETag = aws.ToInt64(out.ContentLength), aws.ToString(out.ETag)
	if v := aws.ToString(out.VersionId); v != "" {
		e.VersionID = v
	}
	_, e.RestoreExpiry = s3archive.ParseRestore(aws.ToString(out.Restore))
	return e
}

// errNotifyStatus refuses --notify on `firn restore status`.
var errNotifyStatus = errors.New("--notify applies to restores, not to `restore status`")

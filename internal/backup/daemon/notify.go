package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/firnhq/firn/internal/notify/target"
)

// Notification events.
const (
	EventBackupSucceeded      = "BackupSucceeded"
	EventBackupFailed         = "BackupFailed"
	EventRestoreTestSucceeded = "RestoreTestSucceeded"
	EventRestoreTestFailed    = "RestoreTestFailed"
	EventAlarm                = "BackupAlarm"
)

// Sender delivers messages to one destination; a target.Target is one.
type Sender interface {
	// Send delivers msgs in order and returns how many were delivered
	// before the first failure.
	Send(ctx context.Context, msgs []target.Message) (int, error)
}

// sendTimeout bounds the delivery of one batch to one destination.
const sendTimeout = 30 * time.Second

// notifier delivers messages to every destination from one goroutine,
// in the order queued, so that an alarm's firing arrives before its
// resolution. Failures are logged and counted, never returned.
type notifier struct {
	targets []Sender
	log     *slog.Logger
	failed  func(n int)
	kick    chan struct{} // wakes the loop; capacity 1
	done    chan struct{} // closed when the loop has ended

	mu     sync.Mutex // guards queue and closed
	queue  []target.Message
	closed bool
}

func newNotifier(targets []Sender, log *slog.Logger, failed func(int)) *notifier {
	n := &notifier{targets: targets, log: log, failed: failed, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go n.loop()
	return n
}

// enqueue queues msgs for delivery; after close it drops them.
func (n *notifier) enqueue(msgs ...target.Message) {
	if len(n.targets) == 0 || len(msgs) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.log.Warn("notification dropped: shutting down", "event", msgs[0].Event)
		return
	}
	n.queue = append(n.queue, msgs...)
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// close delivers what is queued and stops the loop.
func (n *notifier) close() {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
	n.mu.Unlock()
	<-n.done
}

func (n *notifier) loop() {
	defer close(n.done)
	for range n.kick {
		n.mu.Lock()
		msgs, closed := n.queue, n.closed
		n.queue = nil
		n.mu.Unlock()
		for _, t := range n.targets {
			n.deliver(t, msgs)
		}
		if closed {
			return
		}
	}
}

// deliver sends msgs to t, trying a failed Send once more.
func (n *notifier) deliver(t Sender, msgs []target.Message) {
	done := 0
	var err error
	for attempt := 0; attempt < 2 && done < len(msgs); attempt++ {
		if attempt > 0 {
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		var k int
		k, err = t.Send(ctx, msgs[done:])
		cancel()
		done += k
	}
	if done < len(msgs) {
		n.failed(len(msgs) - done)
		// Target errors name the target and hold no secret.
		n.log.Warn("notifications not delivered", "count", len(msgs)-done, "err", err)
	}
}

// messageID derives a message's ID from its parts: a repeated message
// (the same run, the same alarm change) has the same ID.
func messageID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "firn-backup-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// RunNotice is the body of a BackupSucceeded, BackupFailed,
// RestoreTestSucceeded or RestoreTestFailed message.
type RunNotice struct {
	Status   string    `json:"status"` // SUCCESS or FAILED
	Job      string    `json:"job"`
	Kind     string    `json:"kind"`
	Type     string    `json:"type,omitempty"`
	Time     time.Time `json:"time"`
	Bucket   string    `json:"bucket,omitempty"`
	Location string    `json:"location,omitempty"` // s3://bucket/prefix/snapshots/ID, or the repository
	Error    string    `json:"error,omitempty"`
	Run      *Record   `json:"run"`
}

// AlarmNotice is the body of a BackupAlarm message.
type AlarmNotice struct {
	Job    string    `json:"job"`
	Alarm  string    `json:"alarm"`
	State  string    `json:"state"` // firing or resolved
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	Run    *Record   `json:"run,omitempty"` // the last run, if any
}

// Alarm states.
const (
	AlarmFiring   = "firing"
	AlarmResolved = "resolved"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return b
}

package object

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/firnhq/firn/internal/meta"
	"github.com/firnhq/firn/internal/notify"
)

// notificationConfigName is the bucket configuration holding the bucket's
// notification configuration (notify.Config's XML).
const notificationConfigName = "notification"

// NotificationTargets is what the service needs of the notification
// targets that bucket configurations name.
type NotificationTargets interface {
	// Resolve returns the name of the target that arn names, and whether
	// such a target is declared.
	Resolve(arn string) (name string, ok bool)
	// Notify says that events were written for delivery. It must not
	// block.
	Notify()
}

// Causes of events, given to events: an event name, or a cause whose
// event name depends on the change (see eventName).
const (
	evPut         = "ObjectCreated:Put"
	evPost        = "ObjectCreated:Post"
	evCopy        = "ObjectCreated:Copy"
	evComplete    = "ObjectCreated:CompleteMultipartUpload"
	evTagPut      = "ObjectTagging:Put"
	evTagDelete   = "ObjectTagging:Delete"
	evRestoreDone = "ObjectRestore:Completed"
	evRestoreGone = "ObjectRestore:Delete"
	causeDelete   = "delete"    // ObjectRemoved:Delete or :DeleteMarkerCreated
	causeRestore  = "restore"   // ObjectRestore:Post when a job starts
	causeSystem   = "lifecycle" // LifecycleTransition, LifecycleExpiration:*, IntelligentTiering
)

// NotificationError is a notification configuration refused, reported
// as S3's error Code with Msg (HTTP 400).
type NotificationError struct{ Code, Msg string }

func (e *NotificationError) Error() string { return e.Msg }

// PutBucketNotification replaces bucket's notification configuration
// with the XML document body (an empty configuration removes it). Every
// destination must be a declared target, unless skipValidation (AWS's
// x-amz-skip-destination-validation); each destination then gets an
// s3:TestEvent. *NotificationError, meta.ErrNoSuchBucket.
func (s *Service) PutBucketNotification(ctx context.Context, bucket string, body []byte, skipValidation bool) error {
	if _, err := s.meta.GetBucket(ctx, bucket); err != nil {
		return err
	}
	cfg, err := notify.ParseConfig(body)
	if err != nil {
		var ne *notify.Error
		if errors.As(err, &ne) {
			return &NotificationError{Code: ne.Code, Msg: ne.Message}
		}
		return err
	}
	var bad []string
	targets := map[string]bool{}
	for _, r := range cfg.Rules {
		name, ok := "", false
		if s.targets != nil {
			name, ok = s.targets.Resolve(r.ARN)
		}
		if _, _, _, _, err := notify.ParseARN(r.ARN); err != nil || !ok && !skipValidation || ok && !arnFits(r) {
			bad = append(bad, r.ARN)
			continue
		}
		if ok {
			targets[name] = true
		}
	}
	if len(bad) > 0 {
		return &NotificationError{Code: "InvalidArgument", Msg: "Unable to validate the following destination configurations: " + strings.Join(bad, ", ")}
	}
	if cfg.Empty() {
		err = s.meta.DeleteBucketConfig(ctx, bucket, notificationConfigName)
	} else {
		err = s.meta.PutBucketConfig(ctx, bucket, notificationConfigName, cfg.Marshal())
	}
	s.notifications.forget(bucket)
	s.notifyAny.forget()
	if err != nil || skipValidation || len(targets) == 0 {
		return err
	}
	req := notify.RequestFrom(ctx)
	now := s.clock.Now().UTC()
	var entries []meta.OutboxEntry
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range targets {
			if !yield(n) {
				return
			}
		}
	}) {
		p, err := json.Marshal(notify.Event{Name: notify.TestEventName, Time: now, Region: s.region, Bucket: bucket,
			RequestID: req.RequestID, HostID: req.HostID})
		if err != nil {
			return err
		}
		entries = append(entries, meta.OutboxEntry{Target: name, Payload: p, Time: now})
	}
	if err := s.meta.AppendOutbox(ctx, entries); err != nil {
		return err
	}
	s.targets.Notify()
	return nil
}

// arnFits reports whether a rule names its destination with the ARN
// service of its kind (a Queue an sqs ARN, ...).
func arnFits(r notify.Rule) bool {
	svc, _, _, _, err := notify.ParseARN(r.ARN)
	return err == nil && svc == notify.ServiceOf(r.Kind)
}

// GetBucketNotification returns bucket's notification configuration
// (empty when it has none). meta.ErrNoSuchBucket.
func (s *Service) GetBucketNotification(ctx context.Context, bucket string) (*notify.Config, error) {
	if _, err := s.meta.GetBucket(ctx, bucket); err != nil {
		return nil, err
	}
	cfg, err := s.notificationConfig(ctx, bucket)
	if err != nil || cfg != nil {
		return cfg, err
	}
	return &notify.Config{}, nil
}

// notificationConfig returns bucket's configuration from the cache; nil
// when it has none.
func (s *Service) notificationConfig(ctx context.Context, bucket string) (*notify.Config, error) {
	return s.notifications.get(ctx, bucket, func(ctx context.Context, bucket string) (*notify.Config, error) {
		b, err := s.meta.GetBucketConfig(ctx, bucket, notificationConfigName)
		if err != nil || b == nil {
			return nil, err
		}
		cfg, err := notify.ParseConfig(b)
		if err != nil {
			return nil, fmt.Errorf("notification configuration of %q: stored document refused: %w", bucket, err)
		}
		return cfg, nil
	})
}

// events returns ctx carrying the events that the changes of the store
// call made under it produce, for cause (see the ev and cause
// constants). bucket, when known, has its configuration read now, and
// ctx comes back as it is when the bucket has none, so a bucket without
// notifications pays nothing. Use it for exactly one store call: any
// other write under the returned context would produce events too.
func (s *Service) events(ctx context.Context, bucket, cause string) context.Context {
	if s.targets == nil {
		return ctx
	}
	if bucket != "" {
		if cfg, err := s.notificationConfig(ctx, bucket); err == nil && cfg == nil {
			return ctx
		}
	} else if !s.anyNotifications(ctx) {
		return ctx
	}
	req := notify.RequestFrom(ctx)
	return meta.WithEvents(ctx, func(old, new *meta.Object) ([]meta.OutboxEntry, error) {
		subj := new
		if subj == nil {
			subj = old
		}
		cfg, err := s.notificationConfig(ctx, subj.Bucket)
		if err != nil || cfg == nil {
			return nil, err
		}
		name := eventName(cause, old, new)
		if name == "" {
			return nil, nil
		}
		rules := cfg.Match("s3:"+name, subj.Key)
		if len(rules) == 0 {
			return nil, nil
		}
		e := s.eventOf(name, old, new, req)
		var out []meta.OutboxEntry
		for _, r := range rules {
			target, ok := s.targets.Resolve(r.ARN)
			if !ok {
				// A target removed after the configuration named it (or
				// named with validation skipped): keep the event under
				// its ARN's name, delivered if the target is declared.
				_, _, _, target, _ = notify.ParseARN(r.ARN)
			}
			e.ConfigurationID = r.ID
			p, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			out = append(out, meta.OutboxEntry{Target: target, Payload: p, Time: e.Time})
		}
		s.targets.Notify()
		return out, nil
	})
}

// eventName returns the event a change from old to new is under cause,
// or "" for none.
func eventName(cause string, old, new *meta.Object) string {
	switch cause {
	case causeDelete:
		switch {
		case new == nil:
			return "ObjectRemoved:Delete"
		case new.DeleteMarker:
			return "ObjectRemoved:DeleteMarkerCreated"
		}
		return ""
	case causeRestore:
		if new != nil && new.Restore != nil && new.Restore.Ongoing && (old == nil || old.Restore == nil || !old.Restore.Ongoing) {
			return "ObjectRestore:Post"
		}
		return ""
	case evRestoreGone:
		if old != nil && old.Restore != nil && (new == nil || new.Restore == nil) {
			return evRestoreGone
		}
		return ""
	case causeSystem:
		switch {
		case new == nil:
			return "LifecycleExpiration:Delete"
		case new.DeleteMarker && (old == nil || old.VersionID != new.VersionID):
			return "LifecycleExpiration:DeleteMarkerCreated"
		case old == nil || new.DeleteMarker:
			return ""
		case new.StorageClass != old.StorageClass:
			return "LifecycleTransition"
		case new.AccessTier != old.AccessTier && (new.AccessTier == AccessArchive || new.AccessTier == AccessDeepArchive):
			return "IntelligentTiering"
		}
		return ""
	}
	if new == nil || new.DeleteMarker {
		return ""
	}
	return cause
}

// eventOf returns the event record of a change (ConfigurationID unset).
func (s *Service) eventOf(name string, old, new *meta.Object, req notify.Request) notify.Event {
	subj := new
	if subj == nil {
		subj = old
	}
	e := notify.Event{Name: name, Time: s.clock.Now().UTC(), Region: s.region, Bucket: subj.Bucket, Key: subj.Key,
		Principal: req.Principal, SourceIP: req.SourceIP, RequestID: req.RequestID, HostID: req.HostID}
	if subj.VersionID != meta.NullVersion {
		e.VersionID = subj.VersionID
	}
	if new != nil && !new.DeleteMarker {
		e.Size, e.ETag = new.Size, new.ETag
	}
	switch name {
	case "LifecycleTransition":
		e.TransitionClass = new.StorageClass
	case "IntelligentTiering":
		e.AccessTier = new.AccessTier
	case evRestoreDone:
		e.RestoreClass = new.StorageClass
		if new.Restore != nil {
			e.RestoreExpiry = new.Restore.Expiry
		}
	}
	if strings.HasPrefix(name, "Lifecycle") || name == "IntelligentTiering" || name == evRestoreDone || name == evRestoreGone || req.Principal == "" {
		e.Principal, e.SourceIP = notify.System, notify.System
	}
	return e
}

// notifyState caches whether any bucket has a notification
// configuration. Its zero value knows nothing.
type notifyState struct {
	mu    sync.Mutex
	known bool
	any   bool
	gen   uint64 // counts invalidations: a scan that raced one is not kept
}

// forget drops what is known; call it after a configuration changed.
func (n *notifyState) forget() {
	n.mu.Lock()
	n.known = false
	n.gen++
	n.mu.Unlock()
}

// anyNotifications reports whether any bucket has a notification
// configuration (true when that cannot be read), so that batch changes
// spanning buckets skip the event bookkeeping when none does.
func (s *Service) anyNotifications(ctx context.Context) bool {
	n := &s.notifyAny
	n.mu.Lock()
	known, anyCfg, gen := n.known, n.any, n.gen
	n.mu.Unlock()
	if known {
		return anyCfg
	}
	buckets, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return true
	}
	anyCfg = false
	for _, b := range buckets {
		cfg, err := s.notificationConfig(ctx, b.Name)
		if err != nil || cfg != nil {
			anyCfg = true
			break
		}
	}
	n.mu.Lock()
	if n.gen == gen {
		n.known, n.any = true, anyCfg
	}
	n.mu.Unlock()
	return anyCfg
}

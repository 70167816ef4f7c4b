// Package notify holds what S3 event notifications are, without any
// delivery: bucket notification configurations (AWS's XML, validated as
// AWS does, matched against events), the event record firn keeps in its
// outbox, and the messages consumers receive (AWS's event JSON and test
// event), so consumers written for AWS parse firn's unchanged.
//
// Delivery lives elsewhere: package meta keeps the outbox, package
// notify/target talks to brokers, package notify/dispatch moves outbox
// records to targets.
package notify

import "time"

// Event is one S3 event as recorded in the outbox, for one configuration
// rule. It is stored as JSON and rendered into AWS's message when
// delivered (the sequencer comes from the outbox).
type Event struct {
	// Name is the event type without "s3:", e.g. "ObjectCreated:Put".
	Name string `json:"n"`
	// Time is when firn finished the change.
	Time   time.Time `json:"t"`
	Region string    `json:"r"`
	// ConfigurationID is the Id of the matching configuration rule.
	ConfigurationID string `json:"c"`
	Bucket          string `json:"b"`
	BucketOwner     string `json:"bo,omitempty"`
	// Key is the object key, not encoded.
	Key string `json:"k"`
	// Size and ETag (without quotes) are set for events about an object
	// that exists after the change (not for removals).
	Size      int64  `json:"s,omitempty"`
	ETag      string `json:"e,omitempty"`
	VersionID string `json:"v,omitempty"`
	// Principal is the requester's principal id; SourceIP its address.
	// System events (lifecycle, Intelligent-Tiering, restores completing)
	// carry "s3.amazonaws.com" in both, as AWS does.
	Principal string `json:"p,omitempty"`
	SourceIP  string `json:"ip,omitempty"`
	RequestID string `json:"q,omitempty"`
	HostID    string `json:"h,omitempty"`
	// RestoreExpiry and RestoreClass are set on ObjectRestore:Completed:
	// when the restored copy expires and the class it was restored from.
	RestoreExpiry time.Time `json:"rx,omitzero"`
	RestoreClass  string    `json:"rc,omitempty"`
	// TransitionClass is set on LifecycleTransition: the class moved to.
	TransitionClass string `json:"tc,omitempty"`
	// AccessTier is set on IntelligentTiering: the access tier moved to.
	AccessTier string `json:"at,omitempty"`
}

// TestEventName is the Name of the s3:TestEvent record written when a
// configuration is saved; it is delivered as TestMessage, not Render.
const TestEventName = "TestEvent"

// System is the principal and source address of events that firn itself
// causes (lifecycle, Intelligent-Tiering, restores completing or
// expiring), as AWS writes them.
const System = "s3.amazonaws.com"
